//! Topic specs: a literal topic name, or text with `${key}` / `${key:default}`
//! placeholders that the template resolves against its configuration at startup.

use std::fmt;

/// Why a record type's topic could not be resolved. Each variant names the record
/// type, so a startup failure points at the struct to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicError {
    /// A placeholder without a default has no value in the configuration.
    #[error(
        "record `{record_type}`: the topic placeholder `${{{key}}}` has no value; set `{key}` \
         in the configuration, or give a default in the struct: `${{{key}:topic-name}}`"
    )]
    Unresolved {
        /// The record's Rust type name.
        record_type: &'static str,
        /// The configuration key that was looked up.
        key: String,
    },
    /// The spec is not well formed (the derive checks this at compile time, so
    /// this only happens for specs built by hand).
    #[error("record `{record_type}`: topic `{spec}` is malformed: {reason}")]
    Malformed {
        /// The record's Rust type name.
        record_type: &'static str,
        /// The spec as declared.
        spec: String,
        /// What is wrong with it.
        reason: TopicSpecError,
    },
    /// The resolved name is not a legal Kafka topic name.
    #[error(
        "record `{record_type}`: topic `{topic}` (from `{spec}`) is not a legal Kafka topic name: {reason}"
    )]
    InvalidName {
        /// The record's Rust type name.
        record_type: &'static str,
        /// The spec as declared.
        spec: String,
        /// The name it resolved to.
        topic: String,
        /// Which rule it breaks.
        reason: TopicNameError,
    },
}

/// What is wrong with a topic spec's placeholder syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicSpecError {
    /// `${` without a closing `}`.
    #[error("a `${{` placeholder is not closed with `}}`")]
    Unclosed,
    /// `${}` or `${:default}`.
    #[error("a placeholder has an empty key")]
    EmptyKey,
    /// `${a:${b}}`: placeholders inside placeholders are not supported.
    #[error("placeholders cannot be nested")]
    Nested,
}

/// Which Kafka topic naming rule a name breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicNameError {
    /// The name is empty.
    #[error("it is empty")]
    Empty,
    /// The name is `.` or `..`.
    #[error("`.` and `..` are reserved")]
    Reserved,
    /// Longer than Kafka's 249-character limit.
    #[error("it is {0} characters long; the limit is 249")]
    TooLong(usize),
    /// A character outside `[a-zA-Z0-9._-]`.
    #[error("{0:?} is not allowed; use ASCII letters, digits, '.', '_' and '-'")]
    IllegalChar(char),
}

/// One piece of a parsed topic spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicSpecPart<'a> {
    /// Text taken as is.
    Literal(&'a str),
    /// `${key}` or `${key:default}`.
    Placeholder {
        /// The configuration key.
        key: &'a str,
        /// The text after the first `:`, if any.
        default: Option<&'a str>,
    },
}

impl fmt::Display for TopicSpecPart<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopicSpecPart::Literal(text) => f.write_str(text),
            TopicSpecPart::Placeholder { key, default: None } => write!(f, "${{{key}}}"),
            TopicSpecPart::Placeholder {
                key,
                default: Some(default),
            } => write!(f, "${{{key}:{default}}}"),
        }
    }
}

/// Splits a spec into literal text and placeholders.
///
/// ```
/// use kafka_record::{TopicSpecPart, parse_topic_spec};
/// let parts = parse_topic_spec("${env:dev}.orders").unwrap();
/// assert_eq!(parts, [
///     TopicSpecPart::Placeholder { key: "env", default: Some("dev") },
///     TopicSpecPart::Literal(".orders"),
/// ]);
/// ```
pub fn parse_topic_spec(spec: &str) -> Result<Vec<TopicSpecPart<'_>>, TopicSpecError> {
    let mut parts = Vec::new();
    let mut rest = spec;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            parts.push(TopicSpecPart::Literal(&rest[..start]));
        }
        let body_and_rest = &rest[start + 2..];
        let end = body_and_rest.find('}').ok_or(TopicSpecError::Unclosed)?;
        let body = &body_and_rest[..end];
        if body.contains("${") {
            return Err(TopicSpecError::Nested);
        }
        let (key, default) = match body.split_once(':') {
            Some((key, default)) => (key, Some(default)),
            None => (body, None),
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(TopicSpecError::EmptyKey);
        }
        parts.push(TopicSpecPart::Placeholder { key, default });
        rest = &body_and_rest[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(TopicSpecPart::Literal(rest));
    }
    Ok(parts)
}

/// Checks Kafka's topic naming rules.
pub fn validate_topic_name(name: &str) -> Result<(), TopicNameError> {
    const MAX_LEN: usize = 249;
    if name.is_empty() {
        return Err(TopicNameError::Empty);
    }
    if name == "." || name == ".." {
        return Err(TopicNameError::Reserved);
    }
    if name.len() > MAX_LEN {
        return Err(TopicNameError::TooLong(name.len()));
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        Some(illegal) => Err(TopicNameError::IllegalChar(illegal)),
        None => Ok(()),
    }
}

/// Resolves a record type's topic spec: each placeholder takes the value `lookup`
/// gives for its key, else its default; the result must be a legal topic name.
///
/// ```
/// use kafka_record::{TopicError, resolve_topic};
/// let config = |key: &str| (key == "app.topics.orders").then(|| "orders-v2".to_owned());
/// assert_eq!(resolve_topic("OrderPlaced", "${app.topics.orders:orders}", &config).unwrap(), "orders-v2");
/// assert_eq!(resolve_topic("OrderPlaced", "${app.topics.refunds:refunds}", &config).unwrap(), "refunds");
/// let error = resolve_topic("OrderPlaced", "${app.topics.refunds}", &config).unwrap_err();
/// assert!(matches!(error, TopicError::Unresolved { record_type: "OrderPlaced", ref key } if key == "app.topics.refunds"));
/// ```
pub fn resolve_topic(
    record_type: &'static str,
    spec: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, TopicError> {
    let parts = parse_topic_spec(spec).map_err(|reason| TopicError::Malformed {
        record_type,
        spec: spec.to_owned(),
        reason,
    })?;
    let mut topic = String::with_capacity(spec.len());
    for part in parts {
        match part {
            TopicSpecPart::Literal(text) => topic.push_str(text),
            TopicSpecPart::Placeholder { key, default } => {
                match lookup(key) {
                    Some(value) => topic.push_str(&value),
                    None => topic.push_str(default.ok_or_else(|| TopicError::Unresolved {
                        record_type,
                        key: key.to_owned(),
                    })?),
                };
            }
        }
    }
    validate_topic_name(&topic).map_err(|reason| TopicError::InvalidName {
        record_type,
        spec: spec.to_owned(),
        topic: topic.clone(),
        reason,
    })?;
    Ok(topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn literals_resolve_to_themselves() {
        assert_eq!(resolve_topic("R", "orders", &none), Ok("orders".to_owned()));
    }

    #[test]
    fn placeholders_mix_with_literal_text() {
        let config = |key: &str| match key {
            "env" => Some("prod".to_owned()),
            _ => None,
        };
        assert_eq!(
            resolve_topic("R", "${env}.orders.${version:v1}", &config),
            Ok("prod.orders.v1".to_owned())
        );
    }

    #[test]
    fn an_unresolvable_placeholder_names_the_record_and_key() {
        let error = resolve_topic("OrderPlaced", "${app.topic}", &none).unwrap_err();
        assert_eq!(
            error,
            TopicError::Unresolved {
                record_type: "OrderPlaced",
                key: "app.topic".to_owned()
            }
        );
        let message = error.to_string();
        assert!(
            message.contains("OrderPlaced") && message.contains("`${app.topic}`"),
            "{message}"
        );
    }

    #[test]
    fn malformed_specs_are_rejected() {
        assert_eq!(parse_topic_spec("${a"), Err(TopicSpecError::Unclosed));
        assert_eq!(parse_topic_spec("${:x}"), Err(TopicSpecError::EmptyKey));
        assert_eq!(parse_topic_spec("${a:${b}}"), Err(TopicSpecError::Nested));
    }

    #[test]
    fn resolved_names_must_be_legal_topics() {
        let config = |_: &str| Some("bad name".to_owned());
        assert!(matches!(
            resolve_topic("R", "${t}", &config),
            Err(TopicError::InvalidName {
                reason: TopicNameError::IllegalChar(' '),
                ..
            })
        ));
        assert_eq!(
            resolve_topic("R", "${t:}", &none).unwrap_err().to_string(),
            "record `R`: topic `` (from `${t:}`) is not a legal Kafka topic name: it is empty"
        );
        assert_eq!(
            validate_topic_name(&"a".repeat(250)),
            Err(TopicNameError::TooLong(250))
        );
        assert_eq!(validate_topic_name(".."), Err(TopicNameError::Reserved));
    }
}
