//! Position-aware YAML reading: every document of a file, flattened to
//! `(key path, value, line)` entries.
//!
//! Built on `yaml-rust2`'s marked event parser because neither `yaml-rust2`'s
//! `YamlLoader` nor the `config` crate keep positions, and `config` rejects
//! multi-document files.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Deepest nesting of lists and mappings accepted (reading deeper structures
/// would recurse that deep).
const MAX_DEPTH: usize = 128;

/// Most nodes one file may expand to, aliases included, so that a small file of
/// nested aliases ("billion laughs") cannot exhaust memory.
const MAX_NODES: usize = 1_000_000;

/// One YAML document (the part between `---` separators) of a file.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct YamlDocument {
    /// The document's scalar leaves, in file order.
    pub entries: Vec<YamlEntry>,
}

/// A leaf of a YAML document.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct YamlEntry {
    /// The mapping keys leading to the value, as written (a key may contain dots).
    pub path: Vec<String>,
    /// The value as text; `None` for YAML null (`~`, `null` or nothing). A list of
    /// scalars is joined with commas, as Spring binds it to a comma-separated list.
    pub value: Option<String>,
    /// The 1-based line of the value (of the key, for a null).
    pub line: usize,
    /// The 1-based line of each key of `path`.
    pub key_lines: Vec<usize>,
}

/// Why a file is not usable YAML.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct YamlError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses every document of `text`.
pub(crate) fn parse_documents(text: &str) -> Result<Vec<YamlDocument>, YamlError> {
    let mut builder = TreeBuilder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| YamlError {
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_owned(),
    })?;
    if let Some(error) = builder.error {
        return Err(error);
    }
    builder
        .documents
        .into_iter()
        .map(|root| {
            let mut entries = Vec::new();
            if let Some(root) = root {
                flatten_root(root, &mut entries)?;
            }
            Ok(YamlDocument { entries })
        })
        .collect()
}

#[derive(Clone, Debug)]
enum Node {
    Scalar {
        text: String,
        plain: bool,
        line: usize,
    },
    Sequence {
        items: Vec<Node>,
        line: usize,
    },
    Mapping {
        pairs: Vec<(Node, Node)>,
        line: usize,
    },
}

impl Node {
    fn line(&self) -> usize {
        match self {
            Node::Scalar { line, .. }
            | Node::Sequence { line, .. }
            | Node::Mapping { line, .. } => *line,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { text, plain: true, .. }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }
}

/// A collection being read, with its anchor id (0 = none).
enum Open {
    Sequence {
        items: Vec<Node>,
        line: usize,
        anchor: usize,
    },
    Mapping {
        pairs: Vec<(Node, Node)>,
        key: Option<Node>,
        line: usize,
        anchor: usize,
    },
}

#[derive(Default)]
struct TreeBuilder {
    documents: Vec<Option<Node>>,
    root: Option<Node>,
    open: Vec<Open>,
    anchors: HashMap<usize, (Node, usize)>,
    /// Nodes built so far, aliases counted with their full size.
    nodes: usize,
    error: Option<YamlError>,
}

impl MarkedEventReceiver for TreeBuilder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        if let Err(error) = self.handle(event, mark) {
            self.error = Some(error);
        }
    }
}

impl TreeBuilder {
    fn handle(&mut self, event: Event, mark: Marker) -> Result<(), YamlError> {
        let line = mark.line();
        match event {
            Event::DocumentStart => self.root = None,
            Event::DocumentEnd => self.documents.push(self.root.take()),
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = style == TScalarStyle::Plain;
                self.add(Node::Scalar { text, plain, line }, anchor, 1, mark)?;
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if self.open.len() >= MAX_DEPTH => {
                return Err(error_at(
                    mark,
                    &format!("lists and mappings nest deeper than {MAX_DEPTH} levels"),
                ));
            }
            Event::SequenceStart(anchor, _) => self.open.push(Open::Sequence {
                items: Vec::new(),
                line,
                anchor,
            }),
            Event::MappingStart(anchor, _) => self.open.push(Open::Mapping {
                pairs: Vec::new(),
                key: None,
                line,
                anchor,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.open.pop() {
                    Some(Open::Sequence {
                        items,
                        line,
                        anchor,
                    }) => (Node::Sequence { items, line }, anchor),
                    Some(Open::Mapping {
                        pairs,
                        line,
                        anchor,
                        ..
                    }) => (Node::Mapping { pairs, line }, anchor),
                    None => return Err(error_at(mark, "unbalanced collection end")),
                };
                self.add(node, anchor, 1, mark)?;
            }
            Event::Alias(id) => {
                let (node, size) = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| error_at(mark, "alias to an unknown anchor"))?;
                self.add(node, 0, size, mark)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// Adds a finished node (`size` nodes large) to the open collection or as root.
    fn add(
        &mut self,
        node: Node,
        anchor: usize,
        size: usize,
        mark: Marker,
    ) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(size);
        if self.nodes > MAX_NODES {
            return Err(error_at(
                mark,
                &format!("the file expands to more than {MAX_NODES} YAML nodes (aliases included)"),
            ));
        }
        if anchor > 0 {
            self.anchors
                .insert(anchor, (node.clone(), size_of_tree(&node)));
        }
        match self.open.last_mut() {
            None => self.root = Some(node),
            Some(Open::Sequence { items, .. }) => items.push(node),
            Some(Open::Mapping { pairs, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => pairs.push((k, node)),
            },
        }
        Ok(())
    }
}

fn size_of_tree(node: &Node) -> usize {
    match node {
        Node::Scalar { .. } => 1,
        Node::Sequence { items, .. } => items
            .iter()
            .fold(1_usize, |n, item| n.saturating_add(size_of_tree(item))),
        Node::Mapping { pairs, .. } => pairs.iter().fold(1_usize, |n, (k, v)| {
            n.saturating_add(size_of_tree(k))
                .saturating_add(size_of_tree(v))
        }),
    }
}

fn error_at(mark: Marker, message: &str) -> YamlError {
    YamlError {
        line: mark.line(),
        column: mark.col() + 1,
        message: message.to_owned(),
    }
}

fn error_on_line(line: usize, message: String) -> YamlError {
    YamlError {
        line,
        column: 1,
        message,
    }
}

fn flatten_root(root: Node, out: &mut Vec<YamlEntry>) -> Result<(), YamlError> {
    match root {
        Node::Mapping { pairs, .. } => {
            let mut at = Position::default();
            flatten_mapping(pairs, &mut at, out)
        }
        ref scalar if scalar.is_null() => Ok(()),
        other => Err(error_on_line(
            other.line(),
            "a configuration document must be a mapping of keys to values".to_owned(),
        )),
    }
}

/// The keys leading to the node being flattened, with their lines.
#[derive(Default)]
struct Position {
    path: Vec<String>,
    key_lines: Vec<usize>,
}

impl Position {
    fn entry(&self, value: Option<String>, line: usize) -> YamlEntry {
        YamlEntry {
            path: self.path.clone(),
            value,
            line,
            key_lines: self.key_lines.clone(),
        }
    }
}

fn flatten_mapping(
    pairs: Vec<(Node, Node)>,
    at: &mut Position,
    out: &mut Vec<YamlEntry>,
) -> Result<(), YamlError> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (key, value) in pairs {
        let (key, key_line) = match key {
            Node::Scalar { text, line, .. } => (text, line),
            other => {
                return Err(error_on_line(
                    other.line(),
                    "only plain keys are supported, not lists or mappings as keys".to_owned(),
                ));
            }
        };
        if let Some(first) = seen.insert(key.clone(), key_line) {
            return Err(error_on_line(
                key_line,
                format!("duplicate key '{key}' (first on line {first})"),
            ));
        }
        at.path.push(key);
        at.key_lines.push(key_line);
        flatten_value(value, key_line, at, out)?;
        at.path.pop();
        at.key_lines.pop();
    }
    Ok(())
}

fn flatten_value(
    value: Node,
    key_line: usize,
    at: &mut Position,
    out: &mut Vec<YamlEntry>,
) -> Result<(), YamlError> {
    if value.is_null() {
        out.push(at.entry(None, key_line));
        return Ok(());
    }
    match value {
        Node::Mapping { pairs, .. } => flatten_mapping(pairs, at, out),
        Node::Scalar { text, plain, line } => {
            out.push(at.entry(Some(yaml_1_1_boolean(text, plain)), line));
            Ok(())
        }
        Node::Sequence { items, line } => {
            if items.iter().all(|item| matches!(item, Node::Scalar { .. })) {
                let texts: Vec<String> = items
                    .into_iter()
                    .filter_map(|item| match item {
                        Node::Scalar { text, plain, .. } => Some(yaml_1_1_boolean(text, plain)),
                        _ => None,
                    })
                    .collect();
                out.push(at.entry(Some(texts.join(",")), line));
                return Ok(());
            }
            // A list of mappings (or lists): indexed keys, `routes[0].name`,
            // as Spring's YAML loader flattens it.
            let Some(last) = at.path.len().checked_sub(1) else {
                return Err(error_on_line(
                    line,
                    "a document must be a mapping of keys, not a list".to_owned(),
                ));
            };
            for (index, item) in items.into_iter().enumerate() {
                let key = at.path[last].clone();
                at.path[last] = format!("{key}[{index}]");
                let item_line = item.line();
                let flattened = flatten_value(item, item_line, at, out);
                at.path[last] = key;
                flattened?;
            }
            Ok(())
        }
    }
}

/// A plain (unquoted) YAML 1.1 boolean, as Spring's SnakeYAML reads it:
/// `yes`/`no`/`on`/`off` (any of their three casings) and `true`/`false`
/// become `true` / `false`; any other text, and quoted text, as written.
fn yaml_1_1_boolean(text: String, plain: bool) -> String {
    if !plain {
        return text;
    }
    match text.as_str() {
        "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => "true".to_owned(),
        "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            "false".to_owned()
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry as the tests compare it: path, value and value line.
    type Leaf = (Vec<String>, Option<String>, usize);

    fn entry(path: &[&str], value: Option<&str>, line: usize) -> Leaf {
        (
            path.iter().map(|s| s.to_string()).collect(),
            value.map(str::to_owned),
            line,
        )
    }

    fn leaves(document: &YamlDocument) -> Vec<Leaf> {
        document
            .entries
            .iter()
            .map(|e| (e.path.clone(), e.value.clone(), e.line))
            .collect()
    }

    #[test]
    fn keys_keep_their_lines() {
        let docs = parse_documents("kafak:\n  producer:\n\n    acks: all\nb.c: 1\n").unwrap();
        let lines: Vec<&[usize]> = docs[0].entries.iter().map(|e| &e.key_lines[..]).collect();
        assert_eq!(lines, [&[1, 2, 4][..], &[5][..]]);
    }

    #[test]
    fn leaves_keep_their_lines() {
        let text = "kafka:\n  producer:\n    acks: all\n\n    batch-size: 16KB\n  \"properties\":\n    \"enable.idempotence\": true\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(
            leaves(&docs[0]),
            vec![
                entry(&["kafka", "producer", "acks"], Some("all"), 3),
                entry(&["kafka", "producer", "batch-size"], Some("16KB"), 5),
                entry(
                    &["kafka", "properties", "enable.idempotence"],
                    Some("true"),
                    7
                ),
            ]
        );
    }

    #[test]
    fn documents_are_split_at_separators() {
        let text = "a: 1\n---\nb: 2\n---\n---\nc:\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 4);
        assert_eq!(leaves(&docs[0]), vec![entry(&["a"], Some("1"), 1)]);
        assert_eq!(leaves(&docs[1]), vec![entry(&["b"], Some("2"), 3)]);
        assert!(leaves(&docs[2]).is_empty());
        assert_eq!(leaves(&docs[3]), vec![entry(&["c"], None, 6)]);
    }

    #[test]
    fn lists_are_joined_with_commas() {
        let text = "servers:\n  - a:9092\n  - b:9092\nflow: [x, y]\nempty: []\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(
            leaves(&docs[0]),
            vec![
                entry(&["servers"], Some("a:9092,b:9092"), 2),
                entry(&["flow"], Some("x,y"), 4),
                entry(&["empty"], Some(""), 5),
            ]
        );
    }

    #[test]
    fn quoted_null_words_are_strings() {
        let docs = parse_documents("a: 'null'\nb: ~\n").unwrap();
        assert_eq!(
            leaves(&docs[0]),
            vec![entry(&["a"], Some("null"), 1), entry(&["b"], None, 2)]
        );
    }

    #[test]
    fn aliases_copy_the_anchored_value() {
        let docs = parse_documents("base: &b\n  acks: all\ncopy: *b\n").unwrap();
        assert_eq!(
            leaves(&docs[0]),
            vec![
                entry(&["base", "acks"], Some("all"), 2),
                entry(&["copy", "acks"], Some("all"), 2),
            ]
        );
    }

    #[test]
    fn errors_have_positions() {
        let err = parse_documents("a: 1\nb: [unclosed\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
        let err = parse_documents("a: 1\na: 2\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(err.message, "duplicate key 'a' (first on line 1)");
        let err = parse_documents("- just\n- a list\n").unwrap_err();
        assert_eq!(
            err.message,
            "a configuration document must be a mapping of keys to values"
        );
    }

    #[test]
    fn lists_of_mappings_are_indexed_keys_as_spring_flattens_them() {
        let documents =
            parse_documents("app:\n  routes:\n    - name: a\n      to: [x, y]\n    - name: b\n")
                .unwrap();
        assert_eq!(
            leaves(&documents[0]),
            vec![
                entry(&["app", "routes[0]", "name"], Some("a"), 3),
                entry(&["app", "routes[0]", "to"], Some("x,y"), 4),
                entry(&["app", "routes[1]", "name"], Some("b"), 5),
            ]
        );
    }

    #[test]
    fn plain_yaml_1_1_booleans_read_as_springs_snakeyaml_reads_them() {
        let documents =
            parse_documents("a: yes\nb: Off\nc: 'yes'\nd: [on, NO, maybe]\ne: TRUE\n").unwrap();
        assert_eq!(
            leaves(&documents[0]),
            vec![
                entry(&["a"], Some("true"), 1),
                entry(&["b"], Some("false"), 2),
                entry(&["c"], Some("yes"), 3),
                entry(&["d"], Some("true,false,maybe"), 4),
                entry(&["e"], Some("true"), 5),
            ]
        );
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let nested = |depth: usize| format!("a: {}{}\n", "[".repeat(depth), "]".repeat(depth));
        let err = parse_documents(&nested(150)).unwrap_err();
        assert!(err.message.contains("nest deeper than 128"), "{err:?}");
        // Far deeper input stops in the parser's own limit, without recursion.
        assert!(parse_documents(&nested(100_000)).is_err());
    }

    #[test]
    fn alias_bombs_are_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse_documents(&text).unwrap_err();
        assert!(err.message.contains("more than"), "{err:?}");
    }
}
