//! `sasl.jaas.config`: `LoginModuleClass FLAG key="value" key=value ...;`, parsed as
//! Kafka's `JaasConfig` (a `StreamTokenizer` over the text) parses it.
//!
//! One login module per producer, as Kafka requires; the flag is `required`,
//! `requisite`, `sufficient` or `optional`; values are quoted (`"..."` or `'...'`,
//! with `\` escapes) or bare words. The text is a secret: errors never quote it.

use std::collections::BTreeMap;
use std::fmt;

use crate::config::keys;

/// The parsed `sasl.jaas.config`.
#[derive(Clone, PartialEq, Eq)]
pub struct JaasConfig {
    /// The login module's class name.
    pub login_module: String,
    /// Its options, by name (values may be secrets).
    pub options: BTreeMap<String, String>,
}

impl fmt::Debug for JaasConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JaasConfig")
            .field("login_module", &self.login_module)
            .field("options", &self.options.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Kafka's login modules (the simple name is accepted too).
pub(crate) const PLAIN_LOGIN_MODULE: &str =
    "org.apache.kafka.common.security.plain.PlainLoginModule";
pub(crate) const SCRAM_LOGIN_MODULE: &str =
    "org.apache.kafka.common.security.scram.ScramLoginModule";
pub(crate) const OAUTHBEARER_LOGIN_MODULE: &str =
    "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";

impl JaasConfig {
    /// Parses the text of `sasl.jaas.config`; the error says what is wrong and
    /// where (by token number), never the text itself.
    pub fn parse(text: &str) -> Result<JaasConfig, String> {
        let tokens = tokenize(text)?;
        let mut iter = tokens.into_iter().peekable();
        let login_module = match iter.next() {
            Some(Token::Word(word)) => word,
            _ => return Err("expected a login module class name first".to_owned()),
        };
        match iter.next() {
            Some(Token::Word(flag))
                if ["required", "requisite", "sufficient", "optional"]
                    .contains(&flag.to_ascii_lowercase().as_str()) => {}
            _ => {
                return Err(format!(
                    "expected a control flag (required, requisite, sufficient or optional) \
                     after {login_module}"
                ));
            }
        }
        let mut options = BTreeMap::new();
        let mut previous: Option<String> = None;
        loop {
            match iter.next() {
                Some(Token::Semicolon) => break,
                Some(Token::Word(name)) => {
                    if iter.next() != Some(Token::Equals) {
                        // The word may be the rest of an unquoted value with a
                        // space (`password=two words`): it is not shown.
                        return Err(match &previous {
                            Some(previous) => format!(
                                "expected an option name and '=' after the value of option \
                                 {previous}; quote a value that contains spaces"
                            ),
                            None => format!("expected '=' after option {name}"),
                        });
                    }
                    let value = match iter.next() {
                        Some(Token::Word(v) | Token::Quoted(v)) => v,
                        _ => return Err(format!("expected a value for option {name}")),
                    };
                    previous = Some(name.clone());
                    options.insert(name, value);
                }
                None => return Err("expected ';' at the end of the login module".to_owned()),
                Some(_) => return Err("expected an option name or ';'".to_owned()),
            }
        }
        if iter.next().is_some() {
            return Err("only one login module may be configured in sasl.jaas.config".to_owned());
        }
        Ok(JaasConfig {
            login_module,
            options,
        })
    }

    /// Whether the login module is `class` (fully qualified or simple name).
    pub fn is(&self, class: &str) -> bool {
        self.login_module == class || class.rsplit('.').next() == Some(self.login_module.as_str())
    }

    /// An option's value.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.get(name).map(String::as_str)
    }

    /// Every option whose name starts with `prefix`, by name.
    pub fn options_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.options
            .iter()
            .filter(move |(name, _)| name.starts_with(prefix))
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// An option that must be there, or an error naming it.
    pub(crate) fn required(&self, name: &str) -> Result<&str, String> {
        self.option(name).ok_or_else(|| {
            format!(
                "{} needs the option {name}=\"...\" in {}",
                self.login_module,
                keys::SASL_JAAS_CONFIG
            )
        })
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Equals,
    Semicolon,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '=' => {
                chars.next();
                tokens.push(Token::Equals);
            }
            ';' => {
                chars.next();
                tokens.push(Token::Semicolon);
            }
            '"' | '\'' => {
                let quote = c;
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(format!(
                                "a quoted value (token {}) is not closed",
                                tokens.len() + 1
                            ));
                        }
                        Some('\\') => match chars.next() {
                            Some('n') => value.push('\n'),
                            Some('t') => value.push('\t'),
                            Some(other) => value.push(other),
                            None => return Err("a value ends with '\\'".to_owned()),
                        },
                        Some(ch) if ch == quote => break,
                        Some(ch) => value.push(ch),
                    }
                }
                tokens.push(Token::Quoted(value));
            }
            _ => {
                let mut word = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || matches!(ch, '=' | ';' | '"' | '\'') {
                        break;
                    }
                    word.push(ch);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unquoted_value_with_a_space_is_not_shown_in_the_error() {
        let error = JaasConfig::parse(
            "PlainLoginModule required username=alice password=two words;",
        )
        .unwrap_err();
        assert!(!error.contains("words"), "{error}");
        assert!(error.contains("option password"), "{error}");
        let error = JaasConfig::parse("PlainLoginModule required username alice;").unwrap_err();
        assert_eq!(error, "expected '=' after option username");
    }

    #[test]
    fn parses_kafka_login_modules() {
        let jaas = JaasConfig::parse(
            "org.apache.kafka.common.security.scram.ScramLoginModule required \
             username=\"alice\" password='p=w;\\\"d' tokenauth=false;",
        )
        .unwrap();
        assert!(jaas.is(SCRAM_LOGIN_MODULE));
        assert_eq!(jaas.option("username"), Some("alice"));
        assert_eq!(jaas.option("password"), Some("p=w;\"d"));
        assert_eq!(jaas.option("tokenauth"), Some("false"));
        assert!(!format!("{jaas:?}").contains("p=w"));

        let simple =
            JaasConfig::parse("PlainLoginModule required username=\"a\" password=\"b\";").unwrap();
        assert!(simple.is(PLAIN_LOGIN_MODULE));
        let oauth = JaasConfig::parse(
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
             unsecuredLoginStringClaim_sub=\"alice\";",
        )
        .unwrap();
        assert_eq!(oauth.option("unsecuredLoginStringClaim_sub"), Some("alice"));
    }

    #[test]
    fn errors_say_what_is_wrong_without_the_text() {
        for bad in [
            "",
            "PlainLoginModule username=\"a\";",
            "PlainLoginModule required username=\"hunter2",
            "PlainLoginModule required username=\"a\"",
            "PlainLoginModule required username \"a\";",
            "PlainLoginModule required a=\"b\"; Other required;",
        ] {
            let err = JaasConfig::parse(bad).unwrap_err();
            assert!(!err.contains("hunter2"), "{err}");
        }
    }
}
