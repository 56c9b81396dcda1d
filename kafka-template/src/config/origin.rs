//! [`Origin`]: where a configuration value came from.

use std::fmt;
use std::path::PathBuf;

/// Where a resolved configuration value came from.
///
/// Its `Display` is the short form used in error messages and in
/// [`KafkaConfig::describe`](super::KafkaConfig::describe):
///
/// ```
/// use kafka_template::config::Origin;
///
/// let file = Origin::File { path: "config/application-prod.yml".into(), line: 7 };
/// assert_eq!(file.to_string(), "config/application-prod.yml:7");
/// let env = Origin::Env { var: "KAFKA_PRODUCER_ACKS".into() };
/// assert_eq!(env.to_string(), "env KAFKA_PRODUCER_ACKS");
/// assert_eq!(Origin::Override.to_string(), "builder override");
/// assert_eq!(Origin::Default.to_string(), "default");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Origin {
    /// A YAML file; `line` is 1-based and points at the value.
    File {
        /// The file, as found in its search directory (`config/application.yml`).
        path: PathBuf,
        /// The 1-based line of the value.
        line: usize,
    },
    /// An environment variable.
    Env {
        /// The variable's name, as set.
        var: String,
    },
    /// [`KafkaConfigBuilder::override_value`](super::KafkaConfigBuilder::override_value).
    Override,
    /// A built-in default.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Env { var } => write!(f, "env {var}"),
            Origin::Override => f.write_str("builder override"),
            Origin::Default => f.write_str("default"),
        }
    }
}
