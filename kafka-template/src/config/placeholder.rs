//! `${key}` and `${key:default}` placeholders, nested (`${a:${b:c}}`) and in
//! names (`${topics.${env}}`); `\${` is a literal `${`.

/// Why a text's placeholders could not all be replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PlaceholderError {
    /// No value and no default for `name`.
    Unresolvable { name: String },
    /// Resolving `chain[0]` needs itself again (`chain` ends where it started).
    Cycle { chain: Vec<String> },
    /// A `${` without its `}`.
    Unclosed,
    /// A referenced key's own value failed; reported for that key instead.
    Upstream,
}

/// Replaces every placeholder in `text`. `lookup` returns a name's final value
/// (placeholders in it already replaced) or `None` when the name is not set.
pub(crate) fn substitute(
    text: &str,
    lookup: &mut dyn FnMut(&str) -> Result<Option<String>, PlaceholderError>,
) -> Result<String, PlaceholderError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        if rest[..at].ends_with('\\') {
            out.push_str(&rest[..at - 1]);
            out.push_str("${");
            rest = &rest[at + 2..];
            continue;
        }
        out.push_str(&rest[..at]);
        let body_start = at + 2;
        let body_len =
            find_top_level(&rest[body_start..], b'}').ok_or(PlaceholderError::Unclosed)?;
        let body = &rest[body_start..body_start + body_len];
        let (name, default) = match find_top_level(body, b':') {
            Some(colon) => (&body[..colon], Some(&body[colon + 1..])),
            None => (body, None),
        };
        let name = substitute(name, lookup)?;
        let name = name.trim();
        match lookup(name)? {
            Some(value) => out.push_str(&value),
            None => match default {
                Some(default) => out.push_str(&substitute(default, lookup)?),
                None => {
                    return Err(PlaceholderError::Unresolvable {
                        name: name.to_owned(),
                    });
                }
            },
        }
        rest = &rest[body_start + body_len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether `text` has any placeholder.
pub(crate) fn has_placeholder(text: &str) -> bool {
    text.contains("${")
}

/// Byte offset of the first `target` (`}` or `:`) in a placeholder's body that
/// is not inside a nested placeholder.
fn find_top_level(body: &str, target: u8) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut depth = 0_usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            byte if byte == target && depth == 0 => return Some(i),
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str, values: &[(&str, &str)]) -> Result<String, PlaceholderError> {
        substitute(text, &mut |name| {
            Ok(values
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string()))
        })
    }

    #[test]
    fn replaces_names_and_defaults() {
        let values = [("a", "1"), ("env", "prod"), ("topic.prod", "orders-prod")];
        assert_eq!(resolve("x-${a}-y", &values).unwrap(), "x-1-y");
        assert_eq!(resolve("${missing:fallback}", &values).unwrap(), "fallback");
        assert_eq!(resolve("${missing:}", &values).unwrap(), "");
        assert_eq!(resolve("${a:fallback}", &values).unwrap(), "1");
        assert_eq!(
            resolve("${BROKERS:localhost:9092}", &values).unwrap(),
            "localhost:9092"
        );
        assert_eq!(resolve("${m1:${m2:${a}}}", &values).unwrap(), "1");
        assert_eq!(resolve("${topic.${env}}", &values).unwrap(), "orders-prod");
        assert_eq!(resolve("${a}${a}", &values).unwrap(), "11");
        assert_eq!(
            resolve("no placeholders", &values).unwrap(),
            "no placeholders"
        );
        assert_eq!(resolve(r"\${a} and ${a}", &values).unwrap(), "${a} and 1");
        assert_eq!(resolve("€${a}€", &values).unwrap(), "€1€");
    }

    #[test]
    fn reports_what_is_missing() {
        assert_eq!(
            resolve("${kafka.topics.missing}", &[]),
            Err(PlaceholderError::Unresolvable {
                name: "kafka.topics.missing".to_owned()
            })
        );
        assert_eq!(
            resolve("${m1:${m2}}", &[]),
            Err(PlaceholderError::Unresolvable {
                name: "m2".to_owned()
            })
        );
        assert_eq!(resolve("${a", &[]), Err(PlaceholderError::Unclosed));
        assert_eq!(resolve("${a:${b}", &[]), Err(PlaceholderError::Unclosed));
    }
}
