//! [`ConfigLoadError`]: everything wrong with a configuration, found at load.

use std::fmt;
use std::path::PathBuf;

use super::origin::Origin;

/// What secret values are shown as.
pub const HIDDEN: &str = "[hidden]";

/// Whether a key (Spring or Java spelling) names a secret: its name contains
/// `password`, `secret`, `jaas`, `token`, `certificate`,
/// `key-store-key` / `keystore.key`, `private-key` or `user-info`, in any of
/// the forms relaxed binding accepts (`keyStoreKey`, `key_store_key`,
/// `KEYSTOREKEY`), or kafka-core counts it as one (Java's
/// `PASSWORD`-typed keys such as `ssl.keystore.key` and
/// `sasl.oauthbearer.client.credentials.client.secret`). Secret values are
/// shown as `[hidden]` in [`describe`](super::KafkaConfig::describe),
/// errors and `Debug`. The other `sasl.*` values (a mechanism, a refresh
/// factor) are shown: an error about them must say what was wrong.
pub fn is_secret_key(key: &str) -> bool {
    // Lower case without separators: every spelling of a key compares alike.
    let relaxed: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    [
        "password",
        "secret",
        "jaas",
        "token",
        "certificate",
        "keystorekey",
        "privatekey",
        "userinfo",
    ]
    .iter()
    .any(|word| relaxed.contains(word))
        || kafka_core::config::keys::is_secret(key)
}

/// `value`, or `[hidden]` when `key` is secret; a URL in it (of
/// `schema.registry.url`, a token endpoint, whatever the key's spelling:
/// `properties[...url]` too) without the credentials it may carry
/// (`user:pass@`).
pub(crate) fn shown_value(key: &str, value: &str) -> String {
    if is_secret_key(key) {
        HIDDEN.to_owned()
    } else if value.contains("://") {
        kafka_schema_registry::redact_urls(value)
    } else {
        value.to_owned()
    }
}

/// One problem with the configuration. Each names the key as written, the value
/// (secrets hidden), where it came from and what would be accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigIssue {
    /// A value the key does not accept.
    #[error("invalid value '{value}' for {key} (from {origin}): expected {expected}")]
    InvalidValue {
        /// The key as written (`kafka.producer.acks`).
        key: String,
        /// The value as given (`[hidden]` for secrets).
        value: String,
        /// Where the value came from.
        origin: Origin,
        /// What the key accepts (`one of all, -1, 0, 1`).
        expected: String,
    },
    /// A key the schema (or the Java client) does not know.
    #[error("unknown key {key} (from {origin}){}", unknown_hint(.suggestion.as_deref(), .known))]
    UnknownKey {
        /// The key as written.
        key: String,
        /// Where it came from.
        origin: Origin,
        /// The key it is probably a typo of.
        suggestion: Option<String>,
        /// The keys allowed where it is, when there is no suggestion.
        known: Vec<String>,
    },
    /// A key that maps to a Java setting kafka-core does not implement.
    #[error("{key} (from {origin}) is not supported: {reason}")]
    Unsupported {
        /// The key as written.
        key: String,
        /// Where it came from.
        origin: Origin,
        /// Why, and what to do instead.
        reason: String,
    },
    /// A valid value that conflicts with other settings.
    #[error("{message} ({key} from {origin})")]
    Conflict {
        /// The key as written.
        key: String,
        /// Where it came from.
        origin: Origin,
        /// The explanation, naming every setting involved.
        message: String,
    },
    /// A required setting is missing.
    #[error("missing {key}: {hint}")]
    Missing {
        /// The key to set.
        key: String,
        /// What to set it to.
        hint: String,
    },
    /// The same key twice in one source (e.g. `batchSize` and `batch-size`).
    #[error("{}", duplicate_message(.key, .first, .second_key, .second))]
    DuplicateKey {
        /// The key as first written.
        key: String,
        /// The first occurrence.
        first: Origin,
        /// The key as written the second time (`batchSize` after `batch-size`).
        second_key: String,
        /// The second occurrence.
        second: Origin,
    },
    /// A value where the schema has a section.
    #[error("{key} (from {origin}) is a section, not a value; expected keys under it: {}", .known.join(", "))]
    SectionValue {
        /// The key as written.
        key: String,
        /// Where it came from.
        origin: Origin,
        /// The keys allowed under it.
        known: Vec<String>,
    },
    /// `${name}` with no value and no default.
    #[error(
        "cannot resolve placeholder '${{{name}}}' in {key} (from {origin}): set {name} or give a default as ${{{name}:default}}"
    )]
    UnresolvablePlaceholder {
        /// The placeholder's key.
        name: String,
        /// The key whose value holds it, as written.
        key: String,
        /// Where that value came from.
        origin: Origin,
    },
    /// Placeholders that refer to each other in a circle.
    #[error("placeholder cycle in {key} (from {origin}): {}", .chain.join(" -> "))]
    PlaceholderCycle {
        /// The key whose value starts the cycle.
        key: String,
        /// Where that value came from.
        origin: Origin,
        /// The keys of the cycle, ending where it started.
        chain: Vec<String>,
    },
    /// A `${` without its `}`.
    #[error(
        "unclosed placeholder in {key} (from {origin}): a '${{' has no matching '}}' (write \\${{ for a literal '${{')"
    )]
    UnclosedPlaceholder {
        /// The key as written.
        key: String,
        /// Where the value came from.
        origin: Origin,
    },
    /// A malformed `on-profile` condition.
    #[error("invalid profile expression '{expression}' for {key} (from {origin}): {reason}")]
    ProfileExpression {
        /// The gating key as written.
        key: String,
        /// The expression.
        expression: String,
        /// Where it came from.
        origin: Origin,
        /// What is wrong with it.
        reason: String,
    },
    /// A profile name that cannot name a file.
    #[error(
        "invalid profile name '{name}' (from {source_name}): a profile name cannot contain '/', '\\' or '..'"
    )]
    ProfileName {
        /// The name.
        name: String,
        /// Where it came from (a variable, the builder or a file).
        source_name: String,
    },
    /// `profiles.active`, `profiles.include`, `profiles.default` (which Spring
    /// Boot refuses there with its `InvalidConfigDataPropertyException`) or
    /// `profiles.group.*` (which it would ignore) in a profile-specific file or
    /// a document gated by `on-profile`: profiles are chosen before those are
    /// read.
    #[error(
        "{key} (from {origin}) cannot be set in a profile-specific file or a profile-gated document; set it in {instead}"
    )]
    MisplacedProfiles {
        /// The key as written.
        key: String,
        /// Where it came from.
        origin: Origin,
        /// Where it can be set (`application.yml, KAFKA_PROFILES_ACTIVE or the builder`).
        instead: String,
    },
    /// An environment variable whose prefix is one edit away from ours
    /// (`KAFAK_PRODUCER_ACKS`) and whose rest names a key.
    #[error("environment variable {var} is not read; did you mean {meant}?")]
    MisspelledVariable {
        /// The variable as set.
        var: String,
        /// The variable it probably means.
        meant: String,
    },
    /// A file that is not usable YAML.
    #[error("{}:{line}:{column}: invalid YAML: {message}", .path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A `.properties` file that is not usable (a malformed `\uxxxx` escape).
    #[error("{}:{line}: invalid properties: {message}", .path.display())]
    Properties {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// `SPRING_APPLICATION_JSON` that is not a JSON object.
    #[error(
        "{var}:{line}:{column}: invalid JSON: {message}; Spring Boot reads it as one JSON object of settings"
    )]
    Json {
        /// The variable.
        var: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A file that exists but cannot be read.
    #[error("cannot read {}: {message}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        message: String,
    },
    /// A configured location that is not a directory.
    #[error("config location {} (from {source_name}) is not a directory", .path.display())]
    Location {
        /// The location.
        path: PathBuf,
        /// `env KAFKA_CONFIG_LOCATION`, `builder`, `env SPRING_CONFIG_LOCATION`,
        /// or a key and where it was set (`spring.config.location in env
        /// SPRING_APPLICATION_JSON`).
        source_name: String,
    },
    /// [`producer_properties`](super::KafkaConfig::producer_properties) or
    /// [`template_settings`](super::KafkaConfig::template_settings) for a name that
    /// is not configured.
    #[error("unknown producer '{name}'; configured producers: {}", known_producers(.known))]
    UnknownProducer {
        /// The name asked for.
        name: String,
        /// The names configured under `kafka.producers`.
        known: Vec<String>,
    },
    /// kafka-core rejected a producer's settings for a reason not tied to one key.
    #[error("{producer}: {message}")]
    Rejected {
        /// `default producer` or `producer 'name'`.
        producer: String,
        /// kafka-core's message.
        message: String,
    },
    /// A free text given to
    /// [`resolve_placeholders`](super::KafkaConfig::resolve_placeholders) whose
    /// placeholders cannot all be replaced.
    #[error("cannot resolve placeholders in '{text}': {reason}")]
    TextPlaceholder {
        /// The text.
        text: String,
        /// What failed.
        reason: String,
    },
    /// A failure of the merge itself (a bug, not a configuration problem).
    #[error("internal configuration error: {message}")]
    Internal {
        /// What failed.
        message: String,
    },
}

fn unknown_hint(suggestion: Option<&str>, known: &[String]) -> String {
    match suggestion {
        Some(suggestion) => format!("; did you mean {suggestion}?"),
        None if known.is_empty() => String::new(),
        None => format!("; known keys there: {}", known.join(", ")),
    }
}

fn duplicate_message(key: &str, first: &Origin, second_key: &str, second: &Origin) -> String {
    if key == second_key {
        format!("{key} is set twice in one document (at {first} and {second}); keep one")
    } else {
        format!(
            "{key} (at {first}) and {second_key} (at {second}) are one key, set twice in one \
             document; keep one"
        )
    }
}

fn known_producers(known: &[String]) -> String {
    if known.is_empty() {
        "none (only the default producer)".to_owned()
    } else {
        known.join(", ")
    }
}

/// The configuration could not be loaded; [`issues`](Self::issues) lists every
/// problem found, not only the first.
///
/// With one issue, `Display` is that issue's message; with several, a count
/// followed by one issue per line. `Debug` shows the same text (as `anyhow`
/// does), so `fn main() -> Result<(), Box<dyn Error>>` prints it readably;
/// `{:#?}` shows the structure.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigLoadError {
    issues: Vec<ConfigIssue>,
}

impl ConfigLoadError {
    /// Builds the error from its issues (duplicates removed, order kept).
    pub(crate) fn new(issues: Vec<ConfigIssue>) -> Self {
        let mut unique: Vec<ConfigIssue> = Vec::with_capacity(issues.len());
        for issue in issues {
            if !unique.contains(&issue) {
                unique.push(issue);
            }
        }
        ConfigLoadError { issues: unique }
    }

    /// Every problem found.
    pub fn issues(&self) -> &[ConfigIssue] {
        &self.issues
    }
}

impl std::error::Error for ConfigLoadError {}

impl fmt::Debug for ConfigLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.debug_struct("ConfigLoadError")
                .field("issues", &self.issues)
                .finish()
        } else {
            write_report(self, f)
        }
    }
}

/// Writes an error as `anyhow` prints one with `{:?}` (kafka-core's, so the
/// core's and the template's errors read alike).
pub(crate) use kafka_core::error::write_report;

impl From<ConfigIssue> for ConfigLoadError {
    fn from(issue: ConfigIssue) -> Self {
        ConfigLoadError::new(vec![issue])
    }
}

impl fmt::Display for ConfigLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.issues.as_slice() {
            [only] => write!(f, "{only}"),
            issues => {
                write!(f, "{} configuration errors:", issues.len())?;
                for issue in issues {
                    write!(f, "\n  - {issue}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Chain(&'static str, Option<Box<Chain>>);

    impl fmt::Display for Chain {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Chain {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|c| c as _)
        }
    }

    struct Report<'a>(&'a (dyn std::error::Error + 'static));

    impl fmt::Debug for Report<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_report(self.0, f)
        }
    }

    #[test]
    fn reports_read_like_anyhow() {
        let alone = Chain("top", None);
        assert_eq!(format!("{:?}", Report(&alone)), "top");
        let one = Chain("top", Some(Box::new(Chain("cause", None))));
        assert_eq!(
            format!("{:?}", Report(&one)),
            "top\n\nCaused by:\n    cause"
        );
        let two = Chain(
            "top",
            Some(Box::new(Chain(
                "middle",
                Some(Box::new(Chain("root", None))),
            ))),
        );
        assert_eq!(
            format!("{:?}", Report(&two)),
            "top\n\nCaused by:\n    0: middle\n    1: root"
        );
    }
}
