//! Compile-time checks of `#[kafka(topic = "...")]`: placeholder syntax, and the
//! Kafka naming rules for the literal parts. The runtime resolver in
//! `kafka_record` applies the same rules to the resolved name.

/// Why the topic spec is wrong, if it is.
pub fn topic_spec_problem(spec: &str) -> Option<String> {
    if spec.is_empty() {
        return Some("the topic is empty".to_owned());
    }
    let mut literal = String::new();
    let mut rest = spec;
    let mut has_placeholder = false;
    while let Some(start) = rest.find("${") {
        literal.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Some(format!("`${{` in `{spec}` is not closed with `}}`"));
        };
        let body = &after[..end];
        if body.contains("${") {
            return Some(format!("`{spec}`: placeholders cannot be nested"));
        }
        let key = body.split_once(':').map_or(body, |(key, _)| key);
        if key.trim().is_empty() {
            return Some(format!(
                "`{spec}`: a placeholder needs a configuration key, as in `${{app.topics.orders:orders}}`"
            ));
        }
        has_placeholder = true;
        rest = &after[end + 1..];
    }
    literal.push_str(rest);
    if let Some(bad) = literal
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Some(format!(
            "topic `{spec}`: {bad:?} is not allowed in a Kafka topic name \
             (ASCII letters, digits, '.', '_' and '-')"
        ));
    }
    if !has_placeholder {
        if literal == "." || literal == ".." {
            return Some("`.` and `..` are not legal topic names".to_owned());
        }
        if literal.len() > 249 {
            return Some(format!(
                "the topic is {} characters long; Kafka allows 249",
                literal.len()
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(topic_spec_problem("orders"), None);
        assert_eq!(topic_spec_problem("${app.topics.orders:orders}"), None);
        assert_eq!(topic_spec_problem("${env}.orders"), None);
        assert!(topic_spec_problem("${app.topics.orders").is_some());
        assert!(topic_spec_problem("${:x}").is_some());
        assert!(topic_spec_problem("my orders").is_some());
        assert!(topic_spec_problem("").is_some());
    }
}
