//! A secured listener's client settings, for the `-sasl_ssl` scenarios: the
//! Java client properties `scripts/kafka client-properties` prints (which
//! kafka-core, the template and Java's `ProducerPerformance` take as they are)
//! and what the other clients need of them (librdkafka's and krafka's SASL
//! credentials and a PEM CA certificate).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// A secured listener's settings.
#[derive(Clone)]
pub struct Security {
    /// The Java client properties, in file order.
    pub properties: Vec<(String, String)>,
    /// The CA certificate as PEM (`--ssl-ca-pem`), for clients that cannot
    /// read the PKCS12 truststore.
    pub ca_pem: Option<PathBuf>,
}

impl fmt::Debug for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The JAAS text and the store password are secrets.
        let keys: Vec<&str> = self.properties.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Security")
            .field("keys", &keys)
            .field("ca_pem", &self.ca_pem)
            .finish()
    }
}

/// SASL credentials read from `sasl.jaas.config`.
pub struct SaslLogin {
    /// `sasl.mechanism` (Java's default, `GSSAPI`, when absent).
    pub mechanism: String,
    /// The login module's `username` option.
    pub username: String,
    /// The login module's `password` option.
    pub password: String,
}

impl Security {
    /// Reads Java client properties (`key=value` lines; blank lines and `#`
    /// comments skipped) from `path`.
    pub fn read(path: &Path, ca_pem: Option<&Path>) -> anyhow::Result<Security> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the client properties {}", path.display()))?;
        Ok(Security {
            properties: parse_properties(&text)
                .with_context(|| format!("in {}", path.display()))?,
            ca_pem: ca_pem.map(Path::to_path_buf),
        })
    }

    /// The value of the property `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `security.protocol` (`PLAINTEXT` when absent).
    pub fn protocol(&self) -> &str {
        self.get("security.protocol").unwrap_or("PLAINTEXT")
    }

    /// The SASL mechanism and the `username` / `password` options of
    /// `sasl.jaas.config` (PlainLoginModule and ScramLoginModule), when the
    /// protocol is SASL_*.
    pub fn sasl_login(&self) -> anyhow::Result<Option<SaslLogin>> {
        if !self.protocol().starts_with("SASL_") {
            return Ok(None);
        }
        let jaas = self
            .get("sasl.jaas.config")
            .context("security.protocol is SASL_* but sasl.jaas.config is missing")?;
        let option = |name: &str| {
            jaas_option(jaas, name).with_context(|| {
                format!("sasl.jaas.config has no {name} option (only username/password logins are supported)")
            })
        };
        Ok(Some(SaslLogin {
            mechanism: self.get("sasl.mechanism").unwrap_or("GSSAPI").to_owned(),
            username: option("username")?,
            password: option("password")?,
        }))
    }
}

fn parse_properties(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut properties = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            bail!("line {} is not key=value", number + 1);
        };
        properties.push((key.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(properties)
}

/// The value of option `name` in a JAAS configuration entry
/// (`Module required name="value" other="value";`).
fn jaas_option(jaas: &str, name: &str) -> Option<String> {
    let mut rest = jaas;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].trim_start();
        if before.is_none_or(char::is_whitespace)
            && let Some(value) = after.strip_prefix('=')
        {
            let value = value.trim_start();
            return match value.strip_prefix('"') {
                Some(quoted) => quoted.split_once('"').map(|(v, _)| v.to_owned()),
                None => value
                    .split(|c: char| c.is_whitespace() || c == ';')
                    .next()
                    .map(str::to_owned),
            };
        }
        rest = &rest[at + name.len()..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SASL_SSL: &str = "security.protocol=SASL_SSL\n\
        ssl.truststore.location=/s/tls/truststore.p12\n\
        ssl.truststore.type=PKCS12\n\
        ssl.truststore.password=changeit\n\
        sasl.mechanism=SCRAM-SHA-512\n\
        sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"alice-secret\";\n";

    #[test]
    fn the_scripts_properties_give_the_sasl_login() {
        let security = Security {
            properties: parse_properties(SASL_SSL).unwrap(),
            ca_pem: None,
        };
        assert_eq!(security.protocol(), "SASL_SSL");
        assert_eq!(security.get("ssl.truststore.type"), Some("PKCS12"));
        let login = security.sasl_login().unwrap().unwrap();
        assert_eq!(
            (login.mechanism.as_str(), login.username.as_str()),
            ("SCRAM-SHA-512", "alice")
        );
        assert_eq!(login.password, "alice-secret");
        assert!(!format!("{security:?}").contains("alice-secret"));
    }

    #[test]
    fn jaas_options_are_found_by_whole_name() {
        let jaas = "M required myusername=\"x\" username=bob password=\"p w\";";
        assert_eq!(jaas_option(jaas, "username").as_deref(), Some("bob"));
        assert_eq!(jaas_option(jaas, "password").as_deref(), Some("p w"));
        assert_eq!(jaas_option(jaas, "user"), None);
    }

    #[test]
    fn a_line_without_equals_is_an_error() {
        assert!(parse_properties("security.protocol\n").is_err());
    }
}
