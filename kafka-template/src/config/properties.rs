//! `application.properties`, read as Spring Boot reads it: Java's
//! `Properties` syntax (ISO-8859-1, `#`/`!` comments, `=`, `:` or blanks
//! between key and value, backslash escapes and continued lines), documents
//! separated by a `#---` (or `!---`) line, and `key[0]`, `key[1]`, ... as one
//! list. Each document becomes the same entries a YAML document does.

use super::yaml::{YamlDocument, YamlEntry};

/// Why a file is not usable as properties.
#[derive(Debug, PartialEq)]
pub(crate) struct PropertiesError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The documents of a properties file (its bytes, ISO-8859-1 as Java's
/// `Properties.load(InputStream)` and Spring Boot read them).
pub(crate) fn parse_properties(bytes: &[u8]) -> Result<Vec<YamlDocument>, PropertiesError> {
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let lines: Vec<&str> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    let mut documents: Vec<Vec<YamlEntry>> = vec![Vec::new()];
    let mut at = 0;
    while at < lines.len() {
        let first = at;
        let line = lines[at].trim_start_matches(is_blank);
        at += 1;
        if line == "#---" || line == "!---" {
            documents.push(Vec::new());
            continue;
        }
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        // A logical line goes on while a line ends in an odd number of
        // backslashes; the next line's leading blanks are dropped.
        let mut logical = String::from(line);
        while ends_in_escape(&logical) && at < lines.len() {
            logical.pop();
            logical.push_str(lines[at].trim_start_matches(is_blank));
            at += 1;
        }
        let (key, value) = split_entry(&logical, first + 1)?;
        let documents_last = documents.len() - 1;
        let entry = YamlEntry {
            path: vec![key],
            value: Some(value),
            line: first + 1,
            key_lines: vec![first + 1],
        };
        // A key given again replaces its value, as Java's `Properties` (and
        // Spring's loader) do: the last line wins.
        let document = &mut documents[documents_last];
        match document.iter_mut().find(|e| e.path == entry.path) {
            Some(earlier) => *earlier = entry,
            None => document.push(entry),
        }
    }
    Ok(documents
        .into_iter()
        .map(|entries| YamlDocument {
            entries: join_indexed(entries),
        })
        .collect())
}

/// Java's whitespace between key and value: space, tab, form feed.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

fn ends_in_escape(line: &str) -> bool {
    line.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

/// The key and value of a logical line, unescaped.
fn split_entry(line: &str, number: usize) -> Result<(String, String), PropertiesError> {
    let mut key_end = line.len();
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '=' || c == ':' || is_blank(c) {
            key_end = i;
            break;
        }
    }
    let rest = &line[key_end..];
    let rest = rest.trim_start_matches(is_blank);
    let rest = rest
        .strip_prefix('=')
        .or_else(|| rest.strip_prefix(':'))
        .unwrap_or(rest)
        .trim_start_matches(is_blank);
    Ok((unescape(&line[..key_end], number)?, unescape(rest, number)?))
}

/// Java's escapes: `\t`, `\n`, `\r`, `\f`, `\uXXXX`, and `\` before any other
/// character stands for that character.
fn unescape(text: &str, number: usize) -> Result<String, PropertiesError> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32)
                    .ok_or_else(|| PropertiesError {
                        line: number,
                        message: format!(
                            "malformed \\uxxxx escape \\u{hex}: four hexadecimal digits expected"
                        ),
                    })?;
                out.push(code);
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

/// `key[0]`, `key[1]`, ... of one document as one `key` entry, its values
/// joined with commas in index order (as Spring binds them to a list), where
/// the first of them stood.
fn join_indexed(entries: Vec<YamlEntry>) -> Vec<YamlEntry> {
    /// One list: its key, where its entry is in `out`, its (index, value)s.
    struct List {
        base: String,
        at: usize,
        items: Vec<(u64, String)>,
    }
    let mut out: Vec<YamlEntry> = Vec::with_capacity(entries.len());
    let mut lists: Vec<List> = Vec::new();
    for entry in entries {
        let Some((base, index)) = list_element(&entry.path[0]) else {
            out.push(entry);
            continue;
        };
        let value = entry.value.clone().unwrap_or_default();
        match lists.iter_mut().find(|list| list.base == base) {
            Some(list) => list.items.push((index, value)),
            None => {
                lists.push(List {
                    base: base.clone(),
                    at: out.len(),
                    items: vec![(index, value)],
                });
                out.push(YamlEntry {
                    path: vec![base],
                    ..entry
                });
            }
        }
    }
    for List { at, mut items, .. } in lists {
        // A later line for the same index wins, as in a map.
        items.reverse();
        items.sort_by_key(|(index, _)| *index);
        items.dedup_by_key(|(index, _)| *index);
        let joined: Vec<String> = items.into_iter().map(|(_, value)| value).collect();
        out[at].value = Some(joined.join(","));
    }
    out
}

/// `base` and `n` of a key `base[n]`.
fn list_element(key: &str) -> Option<(String, u64)> {
    let open = key.rfind('[')?;
    let index = key.strip_suffix(']')?.get(open + 1..)?;
    let index: u64 = index.parse().ok()?;
    (open > 0).then(|| (key[..open].to_owned(), index))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Vec<Vec<(String, String, usize)>> {
        parse_properties(text.as_bytes())
            .expect("valid properties")
            .into_iter()
            .map(|d| {
                d.entries
                    .into_iter()
                    .map(|e| (e.path.join("."), e.value.unwrap_or_default(), e.line))
                    .collect()
            })
            .collect()
    }

    fn pair(key: &str, value: &str, line: usize) -> (String, String, usize) {
        (key.to_owned(), value.to_owned(), line)
    }

    #[test]
    fn separators_comments_and_blank_lines_read_as_java_reads_them() {
        let text = "# a comment\n! another\n\nspring.kafka.client-id=orders\n  \
                    spring.kafka.producer.acks : all\nspring.kafka.producer.linger 5ms\n\
                    key.only\nspaced.value =   two words  \n";
        assert_eq!(
            entries(text),
            [[
                pair("spring.kafka.client-id", "orders", 4),
                pair("spring.kafka.producer.acks", "all", 5),
                pair("spring.kafka.producer.linger", "5ms", 6),
                pair("key.only", "", 7),
                pair("spaced.value", "two words  ", 8),
            ]]
        );
    }

    #[test]
    fn a_key_given_again_takes_its_last_value() {
        let text = "spring.kafka.producer.acks=1\nspring.kafka.client-id=a\n\
                    spring.kafka.producer.acks=all\n#---\nspring.kafka.producer.acks=0\n";
        assert_eq!(
            entries(text),
            [
                vec![
                    pair("spring.kafka.producer.acks", "all", 3),
                    pair("spring.kafka.client-id", "a", 2),
                ],
                vec![pair("spring.kafka.producer.acks", "0", 5)],
            ]
        );
    }

    #[test]
    fn escapes_and_continued_lines() {
        let text = "a\\=b=c\\:d\npath=C:\\\\kafka\\\\certs\nname=caf\\u00e9\\tbar\n\
                    servers=one:9092,\\\n    two:9092\nodd=ends\\\\\nnext=1\r\n";
        assert_eq!(
            entries(text),
            [[
                pair("a=b", "c:d", 1),
                pair("path", "C:\\kafka\\certs", 2),
                pair("name", "café\tbar", 3),
                pair("servers", "one:9092,two:9092", 4),
                pair("odd", "ends\\", 6),
                pair("next", "1", 7),
            ]]
        );
    }

    #[test]
    fn bytes_are_iso_8859_1() {
        let documents = parse_properties(b"name=caf\xe9\n").expect("valid");
        assert_eq!(documents[0].entries[0].value.as_deref(), Some("café"));
    }

    #[test]
    fn documents_are_separated_by_hash_or_bang_dashes() {
        let text = "a=1\n#---\nspring.config.activate.on-profile=prod\na=2\n!---\na=3\n";
        assert_eq!(
            entries(text),
            [
                vec![pair("a", "1", 1)],
                vec![
                    pair("spring.config.activate.on-profile", "prod", 3),
                    pair("a", "2", 4)
                ],
                vec![pair("a", "3", 6)],
            ]
        );
    }

    #[test]
    fn indexed_keys_are_one_list_in_index_order() {
        let text = "servers[1]=b:9092\nacks=all\nservers[0]=a:9092\nservers[1]=c:9092\n\
                    props[ssl.protocol]=TLSv1.3\n";
        assert_eq!(
            entries(text),
            [[
                // servers[1] as given last, on line 4.
                pair("servers", "a:9092,c:9092", 4),
                pair("acks", "all", 2),
                pair("props[ssl.protocol]", "TLSv1.3", 5),
            ]]
        );
    }

    #[test]
    fn a_malformed_unicode_escape_names_its_line() {
        let error = parse_properties(b"a=1\nb=\\u00g1\n").expect_err("malformed");
        assert_eq!(error.line, 2);
        assert!(error.message.contains("\\u00g1"), "{}", error.message);
    }
}
