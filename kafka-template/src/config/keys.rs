//! Configuration keys: relaxed names, the `spring.kafka` root alias, and where a
//! key lands in the schema.
//!
//! A key's identity is its path of *relaxed* segments: lowercase with `-` and `_`
//! removed, so `batch-size`, `batchSize` and `batch_size` are one key (Spring's
//! relaxed binding). Java property names under `properties` stay one segment,
//! dots included (`enable.idempotence`), whether written as one dotted YAML key,
//! as nested YAML mappings or as `[enable.idempotence]`.

use super::schema::{Node, ROOT, Setting};

/// Which producer (or its template) a key configures.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Scope {
    /// `kafka.*`: shared by every producer.
    Common,
    /// `kafka.producer.*` (`None`) or `kafka.producers.<name>.*` (the relaxed name).
    Producer(Option<String>),
    /// `kafka.template.*` (`None`) or `kafka.producers.<name>.template.*`.
    Template(Option<String>),
}

/// What a key is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// A typed setting of the schema.
    Setting { scope: Scope, setting: Setting },
    /// A Java client property under `properties`, with its Java name.
    JavaProperty { scope: Scope, name: String },
    /// `kafka.topics.<name>`.
    Topic,
    /// A value given where the schema has a section (`kafka.producer: fast`).
    Section,
    /// Under a Spring section a producer does not use (`kafka.consumer.*`).
    Ignored,
    /// Not in the schema; `suggestion` is the full key it is probably a typo of,
    /// spelled like the key as written.
    Unknown { suggestion: Option<String> },
    /// Outside the `kafka`/`spring.kafka` root: the application's own keys.
    Other,
}

/// A key placed in the schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConfigKey {
    /// Identity: relaxed segments (`["kafka", "producer", "batchsize"]`).
    pub path: Vec<String>,
    /// Canonical display name of each segment (`["kafka", "producer", "batch-size"]`).
    pub names: Vec<String>,
    pub kind: KeyKind,
}

impl ConfigKey {
    /// The canonical key: `kafka.producer.batch-size`, whatever the spelling or root.
    pub(crate) fn display(&self) -> String {
        self.names.join(".")
    }
}

/// Spring's relaxed form of one name: lowercase, without `-` and `_`.
pub(crate) fn relaxed(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Only the letters and digits of `name`, lowercased: how an environment
/// variable (where `-`, `_` and `.` all became `_`) is compared with a name.
pub(crate) fn alphanumeric(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Splits a written key into its pieces at dots, keeping `[...]` whole:
/// `properties[enable.idempotence]` is `properties`, `enable.idempotence`.
pub(crate) fn split_key(raw: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut in_brackets = false;
    for c in raw.chars() {
        match c {
            '[' if !in_brackets => {
                if !current.is_empty() {
                    pieces.push(std::mem::take(&mut current));
                }
                in_brackets = true;
            }
            ']' if in_brackets => {
                pieces.push(std::mem::take(&mut current));
                in_brackets = false;
            }
            '.' if !in_brackets => {
                if !current.is_empty() {
                    pieces.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// Places a key given as its YAML path (each element may itself be dotted).
pub(crate) fn parse_key(raw: &[String]) -> ConfigKey {
    let pieces: Vec<String> = raw.iter().flat_map(|k| split_key(k)).collect();
    let root_len =
        if pieces.len() >= 2 && relaxed(&pieces[0]) == "spring" && relaxed(&pieces[1]) == "kafka" {
            2
        } else if !pieces.is_empty() && relaxed(&pieces[0]) == "kafka" {
            1
        } else {
            return ConfigKey {
                path: pieces.iter().map(|p| relaxed(p)).collect(),
                names: pieces,
                kind: KeyKind::Other,
            };
        };
    let mut walk = Walk {
        pieces: &pieces,
        at: root_len,
        path: vec!["kafka".to_owned()],
        names: vec!["kafka".to_owned()],
        scope: Scope::Common,
    };
    let kind = walk.run();
    ConfigKey {
        path: walk.path,
        names: walk.names,
        kind,
    }
}

/// Places a dotted key (`kafka.producer.batchSize`, `app.topics.orders`).
pub(crate) fn parse_dotted(key: &str) -> ConfigKey {
    parse_key(&[key.to_owned()])
}

struct Walk<'a> {
    pieces: &'a [String],
    at: usize,
    path: Vec<String>,
    names: Vec<String>,
    scope: Scope,
}

impl Walk<'_> {
    fn run(&mut self) -> KeyKind {
        let mut node: &Node = &ROOT;
        loop {
            let Some(piece) = self.pieces.get(self.at) else {
                return match node {
                    Node::Setting(setting) => KeyKind::Setting {
                        scope: self.scope.clone(),
                        setting: *setting,
                    },
                    Node::Ignored => KeyKind::Ignored,
                    _ => KeyKind::Section,
                };
            };
            match node {
                Node::Section(_) | Node::Producer { .. } => {
                    let wanted = relaxed(piece);
                    let Some(field) = node.fields().find(|f| relaxed(f.name) == wanted) else {
                        let suggestion = suggest(node, &wanted).map(|name| {
                            let mut written = self.pieces.to_vec();
                            written[self.at] = name.to_owned();
                            written.join(".")
                        });
                        self.push_rest();
                        return KeyKind::Unknown { suggestion };
                    };
                    self.scope = match (&self.scope, field.name, node) {
                        (Scope::Common, "producer", _) => Scope::Producer(None),
                        (Scope::Common, "template", _) => Scope::Template(None),
                        (
                            Scope::Producer(Some(name)),
                            "template",
                            Node::Producer { named: true },
                        ) => Scope::Template(Some(name.clone())),
                        (scope, _, _) => scope.clone(),
                    };
                    self.path.push(wanted);
                    self.names.push(field.name.to_owned());
                    self.at += 1;
                    node = &field.node;
                }
                Node::Setting(_) => {
                    // A setting has no children: `acks.x` is not a key.
                    self.push_rest();
                    return KeyKind::Unknown { suggestion: None };
                }
                Node::JavaProperties => {
                    let name = self.pieces[self.at..].join(".");
                    self.path.push(name.to_lowercase());
                    self.names.push(name.clone());
                    return KeyKind::JavaProperty {
                        scope: self.scope.clone(),
                        name,
                    };
                }
                Node::Topics => {
                    let name = self.pieces[self.at..].join(".");
                    self.path.push(relaxed(&name));
                    self.names.push(name);
                    return KeyKind::Topic;
                }
                Node::NamedProducers => {
                    let id = relaxed(piece);
                    self.scope = Scope::Producer(Some(id.clone()));
                    self.path.push(id);
                    self.names.push(piece.clone());
                    self.at += 1;
                    node = &Node::Producer { named: true };
                }
                Node::Ignored => {
                    self.push_rest();
                    return KeyKind::Ignored;
                }
            }
        }
    }

    fn push_rest(&mut self) {
        for piece in &self.pieces[self.at..] {
            self.path.push(relaxed(piece));
            self.names.push(piece.clone());
        }
    }
}

/// The child of `node` closest to `wanted` (relaxed), if close enough to be a typo.
fn suggest(node: &Node, wanted: &str) -> Option<&'static str> {
    let limit = (wanted.chars().count() / 3).clamp(1, 3);
    node.fields()
        .map(|f| (edit_distance(wanted, &relaxed(f.name)), f.name))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Levenshtein distance between two short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &[&str]) -> ConfigKey {
        parse_key(&raw.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn relaxed_spellings_are_one_key() {
        let a = parse_dotted("kafka.producer.batch-size");
        let b = parse_dotted("kafka.producer.batchSize");
        let c = parse_dotted("kafka.producer.batch_size");
        let d = parse_dotted("spring.kafka.Producer.BATCH_SIZE");
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a, d);
        assert_eq!(a.display(), "kafka.producer.batch-size");
        assert_eq!(
            a.kind,
            KeyKind::Setting {
                scope: Scope::Producer(None),
                setting: Setting::BatchSize
            }
        );
    }

    #[test]
    fn java_properties_keep_dotted_names() {
        let nested = key(&["kafka", "properties", "enable", "idempotence"]);
        let dotted = key(&["kafka", "properties", "enable.idempotence"]);
        let bracketed = parse_dotted("kafka.properties[enable.idempotence]");
        assert_eq!(nested, dotted);
        assert_eq!(nested, bracketed);
        assert_eq!(nested.path, ["kafka", "properties", "enable.idempotence"]);
        assert_eq!(
            nested.kind,
            KeyKind::JavaProperty {
                scope: Scope::Common,
                name: "enable.idempotence".to_owned()
            }
        );
    }

    #[test]
    fn named_producers_and_their_templates() {
        let k = parse_dotted("kafka.producers.bulkOrders.template.default-topic");
        assert_eq!(
            k.display(),
            "kafka.producers.bulkOrders.template.default-topic"
        );
        assert_eq!(
            k.kind,
            KeyKind::Setting {
                scope: Scope::Template(Some("bulkorders".to_owned())),
                setting: Setting::DefaultTopic
            }
        );
        // The default producer has no template section of its own.
        assert!(matches!(
            parse_dotted("kafka.producer.template.default-topic").kind,
            KeyKind::Unknown { .. }
        ));
    }

    #[test]
    fn typos_get_a_suggestion_spelled_as_written() {
        let k = parse_dotted("spring.kafka.producer.batch-sise");
        assert_eq!(
            k.kind,
            KeyKind::Unknown {
                suggestion: Some("spring.kafka.producer.batch-size".to_owned())
            }
        );
        let k = parse_dotted("kafka.producr.acks");
        assert_eq!(
            k.kind,
            KeyKind::Unknown {
                suggestion: Some("kafka.producer.acks".to_owned())
            }
        );
        let k = parse_dotted("kafka.producer.something-else");
        assert_eq!(k.kind, KeyKind::Unknown { suggestion: None });
    }

    #[test]
    fn other_roots_and_sections() {
        assert_eq!(parse_dotted("app.topics.orders").kind, KeyKind::Other);
        assert_eq!(parse_dotted("spring.application.name").kind, KeyKind::Other);
        assert_eq!(parse_dotted("kafka.producer").kind, KeyKind::Section);
        assert_eq!(
            parse_dotted("kafka.consumer.group-id").kind,
            KeyKind::Ignored
        );
        assert_eq!(
            parse_dotted("kafka.topics.order-events").path,
            ["kafka", "topics", "orderevents"]
        );
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("batchsise", "batchsize"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
