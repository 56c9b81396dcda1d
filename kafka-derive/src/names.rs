//! Avro name rules and JSON string literals for the schema text the derive emits.

/// Why `name` is not a valid Avro name (`[A-Za-z_][A-Za-z0-9_]*`), if it is not.
pub fn avro_name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    match chars.next() {
        None => Some("an Avro name cannot be empty".to_owned()),
        Some(first) if !(first.is_ascii_alphabetic() || first == '_') => Some(format!(
            "`{name}` is not a valid Avro name: it must start with an ASCII letter or `_`"
        )),
        Some(_) => chars
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map(|bad| {
                format!(
                    "`{name}` is not a valid Avro name: {bad:?} is not allowed \
                     (Avro names are ASCII letters, digits and `_`)"
                )
            }),
    }
}

/// Why `name` cannot name an Avro record or enum, if it cannot: an invalid
/// name, or a primitive type's (Java's `Schema.Parser` refuses "Schemas may
/// not be named after primitives", so the registry and Java readers would).
pub fn avro_type_name_problem(name: &str) -> Option<String> {
    const PRIMITIVES: [&str; 8] = [
        "null", "boolean", "int", "long", "float", "double", "bytes", "string",
    ];
    avro_name_problem(name).or_else(|| {
        PRIMITIVES.contains(&name).then(|| {
            format!(
                "`{name}` cannot name an Avro record or enum: it is a primitive type's name, \
                 which Java's Avro refuses; rename it (#[serde(rename = \"...\")])"
            )
        })
    })
}

/// Why `namespace` is not a valid Avro namespace (dot-separated names), if not.
pub fn avro_namespace_problem(namespace: &str) -> Option<String> {
    namespace
        .split('.')
        .find_map(avro_name_problem)
        .map(|problem| format!("namespace `{namespace}`: {problem}"))
}

/// `text` as a JSON string literal, quotes included.
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avro_names() {
        assert_eq!(avro_name_problem("order_id"), None);
        assert_eq!(avro_name_problem("_x1"), None);
        assert!(avro_name_problem("1x").is_some());
        assert!(avro_name_problem("order-id").is_some());
        assert!(avro_type_name_problem("string").is_some());
        assert!(
            avro_type_name_problem("String").is_none(),
            "names are case-sensitive"
        );
        assert!(
            avro_name_problem("string").is_none(),
            "a field may be called so"
        );
        assert_eq!(avro_namespace_problem("com.shop"), None);
        assert!(avro_namespace_problem("com..shop").is_some());
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a \"b\"\n\\"), r#""a \"b\"\n\\""#);
        assert_eq!(json_string("\u{1}"), r#""\u0001""#);
    }
}
