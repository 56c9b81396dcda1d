//! Active profiles, as Spring Boot (2.4 and later) works them out, and Spring's
//! profile expressions (`prod`, `!prod`, `prod & eu`, `(dev | test) & !ci`),
//! used to gate YAML documents.
//!
//! The profiles are, in increasing precedence (as Spring Boot's `Profiles`
//! orders them, the included ones among its "additional" profiles): those of
//! every `profiles.include` (the environment's first, then the files' from the
//! highest-precedence document down, as Spring walks its sources), then those
//! of `profiles.active` (the builder, else the environment, else the files),
//! so an active profile overrides a shared one it includes; each followed at
//! once by the members of its `profiles.group`, and theirs, depth first,
//! without repeats. With none of them, the `profiles.default` ones
//! (`default`), expanded the same way.

use std::collections::BTreeMap;

use super::env::PROFILE_VAR_PREFIXES;
use super::error::ConfigIssue;
use super::keys::{ConfigKey, KeyKind, edit_distance, relaxed};
use super::merge::RawValue;
use super::schema::Setting;

/// The profile used when none is active, as in Spring.
pub(crate) const DEFAULT_PROFILE: &str = "default";

/// A key that chooses profiles: `spring.profiles.*` or our `kafka.profiles.*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ProfileKey {
    Active,
    Include,
    Default,
    /// `profiles.group.<name>`, the name as written.
    Group(String),
}

/// The names under `spring.profiles`, for "did you mean".
const PROFILE_SETTINGS: [&str; 4] = ["active", "include", "default", "group"];

impl ProfileKey {
    /// Which profile setting `key` is, if any.
    pub(crate) fn of(key: &ConfigKey) -> Option<Self> {
        match &key.kind {
            KeyKind::Setting { setting, .. } => match setting {
                Setting::ProfilesActive => Some(ProfileKey::Active),
                Setting::ProfilesInclude => Some(ProfileKey::Include),
                Setting::ProfilesDefault => Some(ProfileKey::Default),
                _ => None,
            },
            KeyKind::ProfileGroup { name } => Some(ProfileKey::Group(name.clone())),
            KeyKind::Other => {
                let [spring, profiles, setting, rest @ ..] = key.path.as_slice() else {
                    return None;
                };
                if spring != "spring" || profiles != "profiles" {
                    return None;
                }
                match (setting.as_str(), rest.is_empty()) {
                    ("active", true) => Some(ProfileKey::Active),
                    ("include", true) => Some(ProfileKey::Include),
                    ("default", true) => Some(ProfileKey::Default),
                    ("group", false) => Some(ProfileKey::Group(key.names[3..].join("."))),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The variable that sets it: Spring's for a key written under `spring`,
    /// else ours. `None` for a group whose name a variable cannot spell
    /// (variables give lowercase names, `_` read as `.`, as in Spring).
    pub(crate) fn variable(&self, spring: bool) -> Option<String> {
        let prefix = PROFILE_VAR_PREFIXES[usize::from(spring)];
        Some(match self {
            ProfileKey::Active => format!("{prefix}ACTIVE"),
            ProfileKey::Include => format!("{prefix}INCLUDE"),
            ProfileKey::Default => format!("{prefix}DEFAULT"),
            ProfileKey::Group(name) => {
                let spellable = name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.');
                if !spellable {
                    return None;
                }
                format!("{prefix}GROUP_{}", name.to_uppercase().replace('.', "_"))
            }
        })
    }

    /// Where it may be set instead of a profile-specific or gated document.
    pub(crate) fn allowed_places(&self, spring: bool) -> String {
        let variable = self.variable(spring);
        match (self, variable) {
            (ProfileKey::Active, Some(var)) => format!("application.yml, {var} or the builder"),
            (_, Some(var)) => format!("application.yml or {var}"),
            (_, None) => "application.yml".to_owned(),
        }
    }
}

/// `spring.profile.active`, `spring.profiles.inculde`: a key one typo away
/// from a Spring profile setting, with the key meant (spelled as written).
/// (Under our `kafka` root the schema already says "did you mean".)
pub(crate) fn profile_key_typo(pieces: &[String]) -> Option<String> {
    let [root, profiles, setting, ..] = pieces else {
        return None;
    };
    if relaxed(root) != "spring" {
        return None;
    }
    let profiles_exact = relaxed(profiles) == "profiles";
    if !profiles_exact && edit_distance(&relaxed(profiles), "profiles") != 1 {
        return None;
    }
    let written = relaxed(setting);
    let meant = PROFILE_SETTINGS
        .iter()
        .map(|name| (edit_distance(&written, name), *name))
        .filter(|(distance, name)| *distance <= (name.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)?
        .1;
    if profiles_exact && written == meant {
        return None;
    }
    let mut key = pieces.to_vec();
    key[1] = "profiles".to_owned();
    key[2] = meant.to_owned();
    Some(key.join("."))
}

/// Everything that can choose profiles.
pub(crate) struct ProfileSources<'a> {
    /// [`KafkaConfigBuilder::profiles`](super::KafkaConfigBuilder::profiles):
    /// replaces every other source of active profiles.
    pub builder: Option<Vec<String>>,
    /// The profile settings of `SPRING_APPLICATION_JSON`: above the
    /// variables, as Spring ranks its property source.
    pub json: Vec<(ProfileKey, &'a RawValue)>,
    pub env: &'a BTreeMap<String, String>,
    /// The profile settings of the ungated documents of the application
    /// files, lowest precedence first.
    pub files: Vec<(ProfileKey, &'a RawValue)>,
}

impl ProfileSources<'_> {
    /// The active profiles in increasing precedence (see the module docs);
    /// names that cannot name a file are reported and left out.
    pub(crate) fn resolve(&self, issues: &mut Vec<ConfigIssue>) -> Vec<String> {
        let mut checked = |names: Vec<String>, source: &str| -> Vec<String> {
            names
                .into_iter()
                .filter(|name| {
                    let ok = !(name.contains(['/', '\\']) || name.contains(".."));
                    if !ok {
                        issues.push(ConfigIssue::ProfileName {
                            name: name.clone(),
                            source_name: source.to_owned(),
                        });
                    }
                    ok
                })
                .collect()
        };

        let active = match &self.builder {
            Some(names) => {
                let names = names.iter().map(|n| n.trim().to_owned());
                checked(names.filter(|n| !n.is_empty()).collect(), "builder")
            }
            None => self
                .single(&ProfileKey::Active)
                .map(|(names, source)| checked(names, &source))
                .unwrap_or_default(),
        };

        let mut include = Vec::new();
        if let Some((var, list)) = self.variable(&ProfileKey::Include) {
            include.extend(checked(split_profiles(list), &format!("env {var}")));
        }
        for (_, value) in self
            .json
            .iter()
            .chain(self.files.iter().rev())
            .filter(|(k, _)| *k == ProfileKey::Include)
        {
            include.extend(checked(
                split_profiles(&value.value),
                &value.origin.to_string(),
            ));
        }

        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, value) in &self.files {
            if let ProfileKey::Group(name) = key {
                let members = checked(split_profiles(&value.value), &value.origin.to_string());
                groups.insert(name.clone(), members);
            }
        }
        // Spring's variables first, so that ours win.
        for prefix in PROFILE_VAR_PREFIXES.iter().rev() {
            let group_prefix = format!("{prefix}GROUP_");
            for (var, list) in self.env {
                if let Some(name) = var.strip_prefix(&group_prefix).filter(|n| !n.is_empty()) {
                    // Spring's mapping: `_` is `.`, names lowercase.
                    let name = name.to_lowercase().replace('_', ".");
                    let members = checked(split_profiles(list), &format!("env {var}"));
                    groups.insert(name, members);
                }
            }
        }
        // SPRING_APPLICATION_JSON's last: Spring ranks it above the variables.
        for (key, value) in &self.json {
            if let ProfileKey::Group(name) = key {
                let members = checked(split_profiles(&value.value), &value.origin.to_string());
                groups.insert(name.clone(), members);
            }
        }

        // Spring's `Profiles.getActivatedProfiles`: the additional (included)
        // profiles first, then the active ones.
        let activated = unique(include.into_iter().chain(active));
        if !activated.is_empty() {
            return expand(activated, &groups);
        }
        let defaults = self
            .single(&ProfileKey::Default)
            .map(|(names, source)| checked(names, &source))
            .filter(|names| !names.is_empty())
            .unwrap_or_else(|| vec![DEFAULT_PROFILE.to_owned()]);
        expand(defaults, &groups)
    }

    /// A setting with one winner (`active`, `default`):
    /// `SPRING_APPLICATION_JSON`'s, else our variable, else Spring's, else
    /// the last in the files; with where it came from.
    fn single(&self, key: &ProfileKey) -> Option<(Vec<String>, String)> {
        if let Some((_, value)) = self.json.iter().rfind(|(k, _)| k == key) {
            return Some((split_profiles(&value.value), value.origin.to_string()));
        }
        if let Some((var, list)) = self.variable(key) {
            return Some((split_profiles(list), format!("env {var}")));
        }
        self.files
            .iter()
            .rfind(|(k, _)| k == key)
            .map(|(_, value)| (split_profiles(&value.value), value.origin.to_string()))
    }

    /// Our variable for `key`, else Spring's, if set and not blank.
    fn variable(&self, key: &ProfileKey) -> Option<(String, &str)> {
        [false, true].into_iter().find_map(|spring| {
            let var = key.variable(spring)?;
            let value = self.env.get(&var).filter(|v| !v.trim().is_empty())?;
            Some((var, value.as_str()))
        })
    }
}

/// Names in order, each once (the first time).
fn unique(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Each profile followed by the members of its group, depth first, each name
/// once (Spring's `Profiles.expandProfiles`); cycles end where they repeat.
fn expand(profiles: Vec<String>, groups: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut stack: Vec<String> = profiles.into_iter().rev().collect();
    let mut out: Vec<String> = Vec::new();
    while let Some(profile) = stack.pop() {
        if out.contains(&profile) {
            continue;
        }
        if let Some(members) = groups.get(&profile) {
            stack.extend(members.iter().rev().cloned());
        }
        out.push(profile);
    }
    out
}

/// Splits a comma-separated profile list (`dev, eu`), dropping empty names.
pub(crate) fn split_profiles(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A parsed `on-profile` condition: any of its comma-separated expressions.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ProfileCondition {
    any_of: Vec<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Profile(String),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl ProfileCondition {
    /// Parses Spring's syntax: a comma-separated list of expressions, any of which
    /// must match; each is a profile name, `!expr`, `a & b`, `a | b` or a
    /// parenthesised expression. Mixing `&` and `|` needs parentheses, as in Spring.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut any_of = Vec::new();
        for part in text.split(',') {
            let tokens = tokenize(part);
            if tokens.is_empty() {
                continue;
            }
            let mut parser = ExprParser {
                tokens: &tokens,
                at: 0,
            };
            let expr = parser.expression()?;
            if let Some(token) = tokens.get(parser.at) {
                return Err(format!("unexpected '{}'", token.text()));
            }
            any_of.push(expr);
        }
        if any_of.is_empty() {
            return Err("no profile named".to_owned());
        }
        Ok(ProfileCondition { any_of })
    }

    /// Whether the condition holds for these active profiles.
    pub(crate) fn matches(&self, active: &[String]) -> bool {
        self.any_of.iter().any(|expr| expr.matches(active))
    }
}

impl Expr {
    fn matches(&self, active: &[String]) -> bool {
        match self {
            Expr::Profile(name) => active.iter().any(|p| p == name),
            Expr::Not(inner) => !inner.matches(active),
            Expr::And(all) => all.iter().all(|e| e.matches(active)),
            Expr::Or(any) => any.iter().any(|e| e.matches(active)),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Name(String),
    Not,
    And,
    Or,
    Open,
    Close,
}

impl Token {
    fn text(&self) -> &str {
        match self {
            Token::Name(name) => name,
            Token::Not => "!",
            Token::And => "&",
            Token::Or => "|",
            Token::Open => "(",
            Token::Close => ")",
        }
    }
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut name = String::new();
    for c in text.chars() {
        let operator = match c {
            '!' => Some(Token::Not),
            '&' => Some(Token::And),
            '|' => Some(Token::Or),
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            c if c.is_whitespace() => None,
            c => {
                name.push(c);
                continue;
            }
        };
        if !name.is_empty() {
            tokens.push(Token::Name(std::mem::take(&mut name)));
        }
        tokens.extend(operator);
    }
    if !name.is_empty() {
        tokens.push(Token::Name(name));
    }
    tokens
}

struct ExprParser<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl ExprParser<'_> {
    /// operand (('&' operand)* | ('|' operand)*)
    fn expression(&mut self) -> Result<Expr, String> {
        let first = self.operand()?;
        let mut operands = vec![first];
        let mut operator: Option<Token> = None;
        while let Some(token @ (Token::And | Token::Or)) = self.tokens.get(self.at) {
            if operator.as_ref().is_some_and(|op| op != token) {
                return Err("mixing '&' and '|' needs parentheses".to_owned());
            }
            operator = Some(token.clone());
            self.at += 1;
            operands.push(self.operand()?);
        }
        Ok(match operator {
            None => operands.pop().unwrap_or(Expr::Or(Vec::new())),
            Some(Token::And) => Expr::And(operands),
            Some(_) => Expr::Or(operands),
        })
    }

    fn operand(&mut self) -> Result<Expr, String> {
        let token = self
            .tokens
            .get(self.at)
            .ok_or_else(|| "expression ends early".to_owned())?;
        self.at += 1;
        match token {
            Token::Name(name) => Ok(Expr::Profile(name.clone())),
            Token::Not => Ok(Expr::Not(Box::new(self.operand()?))),
            Token::Open => {
                let inner = self.expression()?;
                match self.tokens.get(self.at) {
                    Some(Token::Close) => {
                        self.at += 1;
                        Ok(inner)
                    }
                    _ => Err("missing ')'".to_owned()),
                }
            }
            other => Err(format!("unexpected '{}'", other.text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn expressions_match_like_spring() {
        let cases = [
            ("prod", &["prod"][..], true),
            ("prod", &["dev"][..], false),
            ("!prod", &["dev"][..], true),
            ("prod & eu", &["prod", "eu"][..], true),
            ("prod & eu", &["prod"][..], false),
            ("prod | eu", &["eu"][..], true),
            ("dev, test", &["test"][..], true),
            ("(dev | test) & !ci", &["dev"][..], true),
            ("(dev | test) & !ci", &["dev", "ci"][..], false),
            ("!!prod", &["prod"][..], true),
        ];
        for (text, profiles, expected) in cases {
            let condition = ProfileCondition::parse(text).unwrap();
            assert_eq!(
                condition.matches(&active(profiles)),
                expected,
                "{text} with {profiles:?}"
            );
        }
    }

    #[test]
    fn malformed_expressions_are_rejected() {
        for text in ["a & b | c", "(a", "a &", "", ")", "a b"] {
            assert!(ProfileCondition::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn groups_expand_depth_first_without_repeats() {
        let groups: BTreeMap<String, Vec<String>> = [
            ("prod".to_owned(), active(&["proddb", "prodmq"])),
            ("proddb".to_owned(), active(&["postgres", "prod"])),
        ]
        .into();
        assert_eq!(
            expand(active(&["eu", "prod", "ci"]), &groups),
            active(&["eu", "prod", "proddb", "postgres", "prodmq", "ci"])
        );
        assert_eq!(
            expand(active(&["prodmq", "prod"]), &groups),
            active(&["prodmq", "prod", "proddb", "postgres"])
        );
    }

    #[test]
    fn typos_of_spring_profile_settings() {
        let typo = |key: &str| profile_key_typo(&super::super::keys::split_key(key));
        assert_eq!(
            typo("spring.profiles.actve").as_deref(),
            Some("spring.profiles.active")
        );
        assert_eq!(
            typo("spring.profile.include").as_deref(),
            Some("spring.profiles.include")
        );
        assert_eq!(
            typo("spring.profiles.grup.prod").as_deref(),
            Some("spring.profiles.group.prod")
        );
        for fine in [
            "spring.profiles.active",
            "spring.profiles.group.prod",
            "spring.profiles.validate",
            "spring.application.name",
            "kafka.profiles.actve",
        ] {
            assert_eq!(typo(fine), None, "{fine}");
        }
    }

    #[test]
    fn profile_lists_are_trimmed() {
        assert_eq!(split_profiles(" dev, ,eu "), active(&["dev", "eu"]));
        assert!(split_profiles("").is_empty());
    }
}
