//! Placeholder resolution over the merged configuration: a `${name}` is looked
//! up (relaxed) in the merged keys of every source, then in the environment with
//! Spring's variable naming (`${app.topics.orders}` reads `APP_TOPICS_ORDERS`,
//! `${BROKERS}` reads `BROKERS`), then its default is used.

use std::collections::{BTreeMap, HashMap};

use super::env::find_var_for;
use super::error::ConfigIssue;
use super::keys::{KeyKind, parse_dotted};
use super::merge::RawValue;
use super::placeholder::{PlaceholderError, has_placeholder, substitute};
use super::profiles::ProfileKey;

/// Whether `entry` is the application's own key, outside the `kafka` root and
/// not one that steers the load (the profile settings, read at once as
/// Spring binds them).
fn is_application_key(entry: &RawValue) -> bool {
    entry.key.kind == KeyKind::Other && ProfileKey::of(&entry.key).is_none()
}

/// Most environment values that may be expanded inside one another.
const MAX_ENV_NESTING: usize = 16;

pub(crate) struct Resolver<'a> {
    entries: &'a BTreeMap<Vec<String>, RawValue>,
    env: &'a BTreeMap<String, String>,
    /// Whether `entries` already hold final values (after loading).
    already_resolved: bool,
    memo: HashMap<Vec<String>, Result<String, PlaceholderError>>,
    /// Identity paths being resolved, with their display names, for cycles.
    stack: Vec<(Vec<String>, String)>,
    env_stack: Vec<String>,
}

impl<'a> Resolver<'a> {
    /// A resolver over merged, not yet resolved values.
    pub(crate) fn new(
        entries: &'a BTreeMap<Vec<String>, RawValue>,
        env: &'a BTreeMap<String, String>,
    ) -> Self {
        Resolver {
            entries,
            env,
            already_resolved: false,
            memo: HashMap::new(),
            stack: Vec::new(),
            env_stack: Vec::new(),
        }
    }

    /// A resolver over the final values of a loaded configuration.
    pub(crate) fn over_resolved(
        entries: &'a BTreeMap<Vec<String>, RawValue>,
        env: &'a BTreeMap<String, String>,
    ) -> Self {
        Resolver {
            already_resolved: true,
            ..Resolver::new(entries, env)
        }
    }

    /// Every entry with its placeholders replaced, and an issue for each one that
    /// failed (reported at the entry whose own text is at fault).
    pub(crate) fn resolve_all(mut self) -> (BTreeMap<Vec<String>, RawValue>, Vec<ConfigIssue>) {
        let mut resolved = BTreeMap::new();
        let mut issues = Vec::new();
        for (path, entry) in self.entries {
            match self.resolve_entry(path) {
                Ok(value) => {
                    resolved.insert(
                        path.clone(),
                        RawValue {
                            value,
                            ..entry.clone()
                        },
                    );
                }
                Err(
                    PlaceholderError::Unresolvable { .. }
                    | PlaceholderError::Unclosed
                    | PlaceholderError::Upstream,
                ) if is_application_key(entry) => {
                    // The application's own key: as Spring resolves lazily,
                    // only a read of it would fail, so it does not stop the
                    // load. It is left unset, and reported where a Kafka key
                    // uses it (see `value_of`).
                    tracing::warn!(
                        key = %entry.written,
                        origin = %entry.origin,
                        "cannot resolve the placeholders of '{}' (from {}); the key is left unset",
                        entry.written,
                        entry.origin
                    );
                }
                Err(error) => {
                    let key = entry.written.clone();
                    let origin = entry.origin.clone();
                    match error {
                        PlaceholderError::Unresolvable { name } => {
                            issues.push(ConfigIssue::UnresolvablePlaceholder { name, key, origin });
                        }
                        PlaceholderError::Cycle { chain }
                            if chain.first() == Some(&entry.written)
                                || chain.first().is_some_and(|c| c.starts_with("env ")) =>
                        {
                            issues.push(ConfigIssue::PlaceholderCycle { key, origin, chain });
                        }
                        PlaceholderError::Unclosed => {
                            issues.push(ConfigIssue::UnclosedPlaceholder { key, origin });
                        }
                        // Reported at the entry that starts the cycle, or at the
                        // referenced entry that failed.
                        PlaceholderError::Cycle { .. } | PlaceholderError::Upstream => {}
                    }
                }
            }
        }
        (resolved, issues)
    }

    /// Replaces the placeholders of a free text.
    pub(crate) fn resolve_text(&mut self, text: &str) -> Result<String, PlaceholderError> {
        substitute(text, &mut |name| self.value_of(name))
    }

    fn resolve_entry(&mut self, path: &[String]) -> Result<String, PlaceholderError> {
        let Some(entry) = self.entries.get(path) else {
            return Err(PlaceholderError::Upstream);
        };
        if self.already_resolved || !has_placeholder(&entry.value) {
            return Ok(entry.value.clone());
        }
        if let Some(done) = self.memo.get(path) {
            return done.clone();
        }
        // Named as written, for the message about the cycle.
        let display = entry.written.clone();
        if let Some(start) = self.stack.iter().position(|(p, _)| p == path) {
            let mut chain: Vec<String> =
                self.stack[start..].iter().map(|(_, d)| d.clone()).collect();
            chain.push(display);
            return Err(PlaceholderError::Cycle { chain });
        }
        self.stack.push((path.to_vec(), display));
        let text = entry.value.clone();
        let result = substitute(&text, &mut |name| self.value_of(name));
        self.stack.pop();
        self.memo.insert(path.to_vec(), result.clone());
        result
    }

    fn value_of(&mut self, name: &str) -> Result<Option<String>, PlaceholderError> {
        let key = parse_dotted(name);
        if let Some(entry) = self.entries.get(&key.path) {
            let application_key = is_application_key(entry);
            return match self.resolve_entry(&key.path) {
                Ok(value) => Ok(Some(value)),
                Err(cycle @ PlaceholderError::Cycle { .. }) => Err(cycle),
                // Not reported at the application's key (see `resolve_all`):
                // here, where it is used.
                Err(unresolvable @ PlaceholderError::Unresolvable { .. }) if application_key => {
                    Err(unresolvable)
                }
                Err(_) if application_key => Err(PlaceholderError::Unresolvable {
                    name: name.to_owned(),
                }),
                Err(_) => Err(PlaceholderError::Upstream),
            };
        }
        let Some((var, value)) = find_var_for(&key, self.env) else {
            if !name.starts_with("random.") {
                return Ok(None);
            }
            return match random_value(name) {
                Some(random) => Ok(Some(random)),
                None => Err(PlaceholderError::Unresolvable {
                    name: name.to_owned(),
                }),
            };
        };
        if !has_placeholder(value) {
            return Ok(Some(value.to_owned()));
        }
        let shown = format!("env {var}");
        if self.env_stack.contains(&shown) || self.env_stack.len() >= MAX_ENV_NESTING {
            let mut chain = self.env_stack.clone();
            chain.push(shown);
            return Err(PlaceholderError::Cycle { chain });
        }
        self.env_stack.push(shown);
        let result = substitute(value, &mut |inner| self.value_of(inner));
        self.env_stack.pop();
        result.map(Some)
    }
}

/// Spring Boot's `RandomValuePropertySource`: `random.int`, `random.long`,
/// `random.int(10)` / `random.long[1024,65536]` (from inclusive, to
/// exclusive; any brackets), `random.uuid`, and any other `random.*` as 32
/// random hex digits. `None` for another name or a range that is empty or
/// not numbers.
pub(crate) fn random_value(name: &str) -> Option<String> {
    let kind = name.strip_prefix("random.")?;
    // `int(5,10)`: what is between the type and the closing bracket.
    let range = |of: &str| {
        let rest = kind.strip_prefix(of)?;
        (rest.len() > 2).then(|| &rest[1..rest.len() - 1])
    };
    let bounds = |range: &str| -> Option<(i64, i64)> {
        let (from, to) = match range.split_once(',') {
            Some((from, to)) => (from.trim().parse().ok()?, to.trim().parse().ok()?),
            None => (0, range.trim().parse().ok()?),
        };
        (from < to).then_some((from, to))
    };
    if kind == "int" {
        return Some(fastrand::i32(..).to_string());
    }
    if kind == "long" {
        return Some(fastrand::i64(..).to_string());
    }
    if let Some(range) = range("int") {
        let (from, to) = bounds(range)?;
        let (from, to) = (i32::try_from(from).ok()?, i32::try_from(to).ok()?);
        return Some(fastrand::i32(from..to).to_string());
    }
    if let Some(range) = range("long") {
        let (from, to) = bounds(range)?;
        return Some(fastrand::i64(from..to).to_string());
    }
    let mut bytes = [0u8; 16];
    fastrand::fill(&mut bytes);
    if kind == "uuid" {
        // Version 4, variant 1 (RFC 4122), as Java's UUID.randomUUID.
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        return Some(format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        ));
    }
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
