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
    /// `kafka.jaas.options.<name>`, the option's name as written.
    JaasOption { name: String },
    /// `kafka.profiles.group.<name>`, with the group's name exactly as written
    /// (profile names are not relaxed).
    ProfileGroup { name: String },
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
                Node::JaasOptions => {
                    let name = self.pieces[self.at..].join(".");
                    self.path.push(name.clone());
                    self.names.push(name.clone());
                    return KeyKind::JaasOption { name };
                }
                Node::ProfileGroups => {
                    let name = self.pieces[self.at..].join(".");
                    self.path.push(name.clone());
                    self.names.push(name.clone());
                    return KeyKind::ProfileGroup { name };
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

/// Edit distance between two short names: insertions, deletions,
/// substitutions and swaps of neighbours (`kafak` is one edit from `kafka`),
/// each counting one (optimal string alignment).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j].
    let mut rows = vec![vec![0_usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// Whether `written` (relaxed) is one edit away from `name` and so probably
/// a typo of it. A name that merely continues `name` (`kafka2`, `kafkas`) is
/// taken as a name of its own.
fn near_miss(written: &str, name: &str) -> bool {
    written != name && !written.starts_with(name) && edit_distance(written, name) == 1
}

/// A misspelled configuration root at the start of a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MisspelledRoot {
    /// How many pieces of the key the root takes (1 for `kafak`, 2 for
    /// `spring.kafak`).
    pub pieces: usize,
    /// The root as written (`spring.kafak`).
    pub written: String,
    /// The root meant (`spring.kafka`).
    pub meant: &'static str,
}

/// The root `pieces` start with if it is one edit away from `kafka` or
/// `spring.kafka` (`kafak`, `spring.kafak`, `sprng.kafka`, `springkafka`).
/// `pieces` are a key split at dots, as written.
pub(crate) fn misspelled_root(pieces: &[String]) -> Option<MisspelledRoot> {
    let first = relaxed(pieces.first()?);
    let found = |count: usize, meant| MisspelledRoot {
        pieces: count,
        written: pieces[..count].join("."),
        meant,
    };
    if near_miss(&first, "kafka") {
        return Some(found(1, "kafka"));
    }
    if first == "springkafka" || near_miss(&first, "springkafka") {
        return Some(found(1, "spring.kafka"));
    }
    let second = relaxed(pieces.get(1)?);
    let spring = first == "spring" || near_miss(&first, "spring");
    let kafka = second == "kafka" || near_miss(&second, "kafka");
    (spring && kafka && !(first == "spring" && second == "kafka")).then(|| found(2, "spring.kafka"))
}

/// Whether `pieces` (after a root) would name a key of the schema, or a typo
/// the schema recognises: what makes a misspelled root clearly meant as ours.
pub(crate) fn fits_the_schema(pieces: &[String]) -> bool {
    let mut key = vec!["kafka".to_owned()];
    key.extend(pieces.iter().cloned());
    match parse_key(&key).kind {
        KeyKind::Unknown { suggestion } => suggestion.is_some(),
        KeyKind::Other => false,
        _ => !pieces.is_empty(),
    }
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
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("kafak", "kafka"), 1, "a swap is one edit");
        assert_eq!(edit_distance("akfka", "kafka"), 1);
    }

    fn pieces(key: &str) -> Vec<String> {
        split_key(key)
    }

    #[test]
    fn misspelled_roots_are_recognised() {
        let root = |key: &str| misspelled_root(&pieces(key)).map(|r| (r.written, r.meant));
        assert_eq!(root("kafak.producer"), Some(("kafak".into(), "kafka")));
        assert_eq!(root("Kafk.producer"), Some(("Kafk".into(), "kafka")));
        assert_eq!(
            root("spring.kafak.producer"),
            Some(("spring.kafak".into(), "spring.kafka"))
        );
        assert_eq!(
            root("sprng.kafka.producer"),
            Some(("sprng.kafka".into(), "spring.kafka"))
        );
        assert_eq!(
            root("spring-kafka.producer"),
            Some(("spring-kafka".into(), "spring.kafka"))
        );
        for ours_or_theirs in [
            "kafka.producer",
            "spring.kafka.producer",
            "spring.application.name",
            "kafka2.bootstrap-servers",
            "kafkas.list",
            "app.kafka",
            "sprng.application",
        ] {
            assert_eq!(root(ours_or_theirs), None, "{ours_or_theirs}");
        }
    }

    #[test]
    fn what_fits_the_schema() {
        assert!(fits_the_schema(&pieces("producer.acks")));
        assert!(fits_the_schema(&pieces("producr.acks")), "a typo of ours");
        assert!(fits_the_schema(&pieces("bootstrap-servers")));
        assert!(!fits_the_schema(&pieces("clusters.main.hosts")));
        assert!(!fits_the_schema(&[]));
    }
}
