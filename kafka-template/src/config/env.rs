//! Environment variables as configuration, with Spring's mapping:
//! `KAFKA_PRODUCER_BATCH_SIZE` (or `SPRING_KAFKA_PRODUCER_BATCH_SIZE`) sets
//! `kafka.producer.batch-size`.
//!
//! A variable name has lost the difference between `.`, `-` and `_`, so it is
//! read against the schema: at each section the longest run of `_`-separated
//! words that spells a child's name (`BATCH_SIZE` = `batch-size`, also
//! `BATCHSIZE`) is taken. Under `properties` the remaining words are a Java
//! name joined with dots (`..._ENABLE_IDEMPOTENCE` = `enable.idempotence`); under
//! `topics` and `producers` a name already used in a file is matched first.
//! Names are compared case-insensitively, as Spring does.

use std::collections::BTreeMap;

use super::keys::{ConfigKey, KeyKind, alphanumeric, misspelled_root, relaxed};
use super::schema::{Node, ROOT};

/// Where the variables that choose profiles start, ours first: each
/// `<prefix>ACTIVE`, `<prefix>INCLUDE`, `<prefix>DEFAULT` and
/// `<prefix>GROUP_<NAME>` of ours wins over Spring's. They steer loading and
/// are not configuration values themselves.
pub(crate) const PROFILE_VAR_PREFIXES: [&str; 2] = ["KAFKA_PROFILES_", "SPRING_PROFILES_"];
/// Comma-separated directories to read `application*.yml` from.
pub(crate) const LOCATION_VAR: &str = "KAFKA_CONFIG_LOCATION";

/// How one variable was read.
#[derive(Debug, PartialEq)]
pub(crate) enum EnvKey {
    /// It sets this key, written with the variable's root (`kafka` or
    /// `spring.kafka`) first.
    Key(Vec<String>),
    /// It is under a section we own (`KAFKA_PRODUCER_`, `KAFKA_TEMPLATE_`, ...)
    /// but names no key there: almost certainly a typo, reported.
    Unknown(String),
    /// Its prefix is one edit away from ours (`KAFAK_`, `SPRNG_KAFKA_`) and the
    /// rest names a key: almost certainly meant as the variable given here.
    Misspelled(String),
    /// Not ours (`KAFKA_HEAP_OPTS` in a Kafka container, `PATH`): skipped.
    Unrelated,
}

/// Spring Boot's SSL bundles as variables
/// (`SPRING_SSL_BUNDLE_JKS_<NAME>_KEYSTORE_PASSWORD`): Spring binds them
/// whether or not a file names the bundle or the key, so a bundle may live
/// in the environment alone, or keep its passwords there. Each variable
/// whose name ends in one of the keys this producer reads (`bundle_keys` of
/// `jks` or `pem`, spelled as a variable: dots as `_`, dashes dropped or as
/// `_`), with the bundle's name before it, and the key it sets.
pub(crate) fn ssl_bundle_vars<K>(
    env: &BTreeMap<String, String>,
    bundle_keys: impl Fn(&str) -> K,
) -> Vec<(ConfigKey, &str, &str)>
where
    K: Iterator<Item = &'static str>,
{
    let mut found = Vec::new();
    for (var, value) in env {
        let lower = var.to_lowercase();
        let Some(rest) = lower.strip_prefix("spring_ssl_bundle_") else {
            continue;
        };
        let Some((kind, rest)) = rest.split_once('_') else {
            continue;
        };
        let matched = bundle_keys(kind).find_map(|key| {
            [key.replace('-', ""), key.replace('-', "_")]
                .iter()
                .find_map(|spelled| {
                    let name = rest.strip_suffix(&spelled.replace('.', "_"))?;
                    let name = name.strip_suffix('_').filter(|n| !n.is_empty())?;
                    Some((name.to_owned(), key))
                })
        });
        if let Some((name, key)) = matched {
            let key = super::keys::parse_dotted(&format!("spring.ssl.bundle.{kind}.{name}.{key}"));
            found.push((key, var.as_str(), value.as_str()));
        }
    }
    found
}

/// Reads one variable name. `existing` are the keys the files use, so that
/// `KAFKA_TOPICS_ORDER_EVENTS` finds `kafka.topics.order-events`.
pub(crate) fn map_var(var: &str, existing: &[ConfigKey]) -> EnvKey {
    let lower = var.to_lowercase();
    let (root, rest): (&[&str], &str) = if let Some(rest) = lower.strip_prefix("spring_kafka_") {
        (&["spring", "kafka"], rest)
    } else if let Some(rest) = lower.strip_prefix("kafka_") {
        (&["kafka"], rest)
    } else {
        return misspelled_var(var, existing);
    };
    // Profiles and locations are read by the loader itself.
    if rest.starts_with("profiles_") || var.eq_ignore_ascii_case(LOCATION_VAR) {
        return EnvKey::Unrelated;
    }
    let words: Vec<&str> = rest.split('_').collect();
    if words.iter().any(|w| w.is_empty()) {
        return EnvKey::Unrelated;
    }
    let mut prefix = vec!["kafka".to_owned()];
    if let Some(pieces) = read_words(&words, &ROOT, &mut prefix, existing) {
        let mut key: Vec<String> = root.iter().map(|r| r.to_string()).collect();
        key.extend(pieces);
        return EnvKey::Key(key);
    }
    let owned_section = ["producer", "producers", "template"]
        .iter()
        .any(|section| words[0] == *section);
    if owned_section && !is_kubernetes_service_link(&words) {
        EnvKey::Unknown(format!("{}.{}", root.join("."), words.join(".")))
    } else {
        EnvKey::Unrelated
    }
}

/// Whether the words after the prefix end as the variables Kubernetes sets
/// for a Service (`<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT[_<PORT>]`,
/// `<NAME>_PORT`, `<NAME>_PORT_<n>_<TCP|UDP|SCTP>[_PROTO|_PORT|_ADDR]`): a
/// Service named `kafka-producer` gives every pod `KAFKA_PRODUCER_PORT`, which
/// is no configuration of ours (Spring ignores what binds to nothing).
fn is_kubernetes_service_link(words: &[&str]) -> bool {
    let service = words.iter().position(|w| *w == "service");
    if let Some(at) = service
        && at > 0
        && matches!(words.get(at + 1), Some(&"host" | &"port"))
        && (words.len() == at + 2 || words[at + 1] == "port")
    {
        return true;
    }
    match words.iter().rposition(|w| *w == "port") {
        Some(at) if at > 0 && at + 1 == words.len() => true,
        Some(at) if at > 0 => {
            let rest = &words[at + 1..];
            rest.first()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
                && rest
                    .get(1)
                    .is_some_and(|p| matches!(*p, "tcp" | "udp" | "sctp"))
                && rest.len() <= 3
        }
        _ => false,
    }
}

/// `KAFAK_PRODUCER_ACKS` or `SPRNG_KAFKA_PRODUCER_ACKS`: a prefix one edit
/// away from ours, followed by words that name a key.
fn misspelled_var(var: &str, existing: &[ConfigKey]) -> EnvKey {
    let words: Vec<&str> = var.split('_').collect();
    if words.iter().any(|w| w.is_empty()) {
        return EnvKey::Unrelated;
    }
    let pieces: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    let Some(root) = misspelled_root(&pieces) else {
        return EnvKey::Unrelated;
    };
    let rest = &words[root.pieces..];
    let lower: Vec<String> = rest.iter().map(|w| w.to_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    if lower.is_empty()
        || read_words(&lower, &ROOT, &mut vec!["kafka".to_owned()], existing).is_none()
    {
        return EnvKey::Unrelated;
    }
    // In the variable's own case.
    let meant = root.meant.replace('.', "_");
    let written_root = words[..root.pieces].join("_");
    let meant = if written_root == written_root.to_lowercase() {
        meant
    } else {
        meant.to_uppercase()
    };
    EnvKey::Misspelled(format!("{meant}_{}", rest.join("_")))
}

/// The written pieces `words` stand for under `node`, or `None` if they name no
/// key there. `prefix` is the identity path of `node`.
fn read_words(
    words: &[&str],
    node: &Node,
    prefix: &mut Vec<String>,
    existing: &[ConfigKey],
) -> Option<Vec<String>> {
    match node {
        Node::Setting(_) => words.is_empty().then(Vec::new),
        Node::Section(_) | Node::Producer { .. } => {
            // Longest match first: `KAFKA_PRODUCER_BATCH_SIZE` is `batch-size`,
            // not a `batch` section.
            for take in (1..=words.len()).rev() {
                let spelled = words[..take].concat();
                let Some(field) = node.fields().find(|f| relaxed(f.name) == spelled) else {
                    continue;
                };
                prefix.push(relaxed(field.name));
                let rest = read_words(&words[take..], &field.node, prefix, existing);
                prefix.pop();
                if let Some(mut rest) = rest {
                    rest.insert(0, field.name.to_owned());
                    return Some(rest);
                }
            }
            None
        }
        // Map keys: the one a file writes with these letters (so that
        // `..._JAAS_OPTIONS_USEKEYTAB` finds `useKeyTab`), else the words as
        // Spring's environment mapping joins them.
        Node::JavaProperties | Node::Topics | Node::JaasOptions => {
            if words.is_empty() {
                return None;
            }
            let spelled = words.concat();
            let known = existing_child(prefix, &spelled, existing);
            Some(vec![known.unwrap_or_else(|| {
                if matches!(node, Node::Topics) {
                    words.join("-")
                } else {
                    words.join(".")
                }
            })])
        }
        Node::NamedProducers => {
            // Prefer a producer the files name; otherwise the shortest name after
            // which the rest is a producer key.
            let splits = 1..words.len();
            let named = splits
                .clone()
                .find(|&take| existing_child(prefix, &words[..take].concat(), existing).is_some());
            named.into_iter().chain(splits).find_map(|take| {
                let spelled = words[..take].concat();
                let name = existing_child(prefix, &spelled, existing)
                    .unwrap_or_else(|| words[..take].join("-"));
                prefix.push(relaxed(&name));
                let rest = read_words(
                    &words[take..],
                    &Node::Producer { named: true },
                    prefix,
                    existing,
                );
                prefix.pop();
                rest.map(|mut rest| {
                    rest.insert(0, name);
                    rest
                })
            })
        }
        Node::Ignored | Node::ProfileGroups => None,
    }
}

/// The display name of the child of `prefix` that a file uses and whose letters
/// and digits are `spelled`.
fn existing_child(prefix: &[String], spelled: &str, existing: &[ConfigKey]) -> Option<String> {
    existing.iter().find_map(|key| {
        let child = key.path.get(prefix.len())?;
        (key.path.starts_with(prefix) && alphanumeric(child) == spelled)
            .then(|| key.names.get(prefix.len()).cloned())
            .flatten()
    })
}

/// The environment variables Spring would read for `key` (an application key
/// outside `kafka`): `app.topics.order-events` is `APP_TOPICS_ORDEREVENTS` or
/// `APP_TOPICS_ORDER_EVENTS`. Returns the first one set, with its value.
pub(crate) fn find_var_for<'e>(
    key: &ConfigKey,
    env: &'e BTreeMap<String, String>,
) -> Option<(&'e str, &'e str)> {
    if key.kind != KeyKind::Other || key.names.is_empty() {
        return None;
    }
    // Dashes dropped (Spring's form), or read as `_` (its legacy form).
    let spelled = |dash: &str| {
        key.names
            .iter()
            .map(|n| n.replace('-', dash))
            .collect::<Vec<_>>()
            .join("_")
    };
    [spelled(""), spelled("_")].iter().find_map(|wanted| {
        env.iter()
            .find(|(var, _)| var.eq_ignore_ascii_case(wanted))
            .map(|(var, value)| (var.as_str(), value.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::super::keys::parse_dotted;
    use super::*;

    fn mapped(var: &str, existing: &[&str]) -> EnvKey {
        let existing: Vec<ConfigKey> = existing.iter().map(|k| parse_dotted(k)).collect();
        map_var(var, &existing)
    }

    fn key(pieces: &[&str]) -> EnvKey {
        EnvKey::Key(pieces.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn spring_mapping_of_settings() {
        let expected = key(&["kafka", "producer", "batch-size"]);
        assert_eq!(mapped("KAFKA_PRODUCER_BATCH_SIZE", &[]), expected);
        assert_eq!(
            mapped("SPRING_KAFKA_PRODUCER_BATCH_SIZE", &[]),
            key(&["spring", "kafka", "producer", "batch-size"])
        );
        assert_eq!(mapped("KAFKA_PRODUCER_BATCHSIZE", &[]), expected);
        assert_eq!(mapped("kafka_producer_batch_size", &[]), expected);
        assert_eq!(mapped("Kafka_Producer_batchSize", &[]), expected);
        assert_eq!(
            mapped("KAFKA_TEMPLATE_TRANSACTION_ID_PREFIX", &[]),
            key(&["kafka", "template", "transaction-id-prefix"])
        );
        assert_eq!(
            mapped("KAFKA_BOOTSTRAP_SERVERS", &[]),
            key(&["kafka", "bootstrap-servers"])
        );
    }

    #[test]
    fn java_properties_get_dots() {
        assert_eq!(
            mapped("KAFKA_PRODUCER_PROPERTIES_ENABLE_IDEMPOTENCE", &[]),
            key(&["kafka", "producer", "properties", "enable.idempotence"])
        );
        assert_eq!(
            mapped(
                "KAFKA_PROPERTIES_MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION",
                &[]
            ),
            key(&[
                "kafka",
                "properties",
                "max.in.flight.requests.per.connection"
            ])
        );
    }

    #[test]
    fn names_used_in_files_are_matched_first() {
        assert_eq!(
            mapped("KAFKA_TOPICS_ORDER_EVENTS", &["kafka.topics.orderEvents"]),
            key(&["kafka", "topics", "orderEvents"])
        );
        assert_eq!(
            mapped("KAFKA_TOPICS_ORDER_EVENTS", &[]),
            key(&["kafka", "topics", "order-events"])
        );
        assert_eq!(
            mapped(
                "KAFKA_PRODUCERS_BULK_ORDERS_ACKS",
                &["kafka.producers.bulk-orders.acks"]
            ),
            key(&["kafka", "producers", "bulk-orders", "acks"])
        );
        // Without a file naming it, the shortest name that leaves a valid key.
        assert_eq!(
            mapped("KAFKA_PRODUCERS_BULK_LINGER", &[]),
            key(&["kafka", "producers", "bulk", "linger"])
        );
        assert_eq!(
            mapped("KAFKA_PRODUCERS_AUDIT_TEMPLATE_DEFAULT_TOPIC", &[]),
            key(&["kafka", "producers", "audit", "template", "default-topic"])
        );
    }

    #[test]
    fn unrelated_and_unknown_variables() {
        assert_eq!(mapped("KAFKA_HEAP_OPTS", &[]), EnvKey::Unrelated);
        assert_eq!(mapped("PATH", &[]), EnvKey::Unrelated);
        assert_eq!(mapped("KAFKA_PROFILES_ACTIVE", &[]), EnvKey::Unrelated);
        assert_eq!(mapped("KAFKA_PROFILES_INCLUDE", &[]), EnvKey::Unrelated);
        assert_eq!(mapped("KAFKA_PROFILES_GROUP_PROD", &[]), EnvKey::Unrelated);
        assert_eq!(mapped("KAFKA_CONFIG_LOCATION", &[]), EnvKey::Unrelated);
        assert_eq!(mapped("KAFKA_CONSUMER_GROUP_ID", &[]), EnvKey::Unrelated);
        assert_eq!(
            mapped("KAFKA_PRODUCER_BATCH_SIZ", &[]),
            EnvKey::Unknown("kafka.producer.batch.siz".to_owned())
        );
        assert_eq!(
            mapped("SPRING_KAFKA_PRODUCER_BATCH_SIZ", &[]),
            EnvKey::Unknown("spring.kafka.producer.batch.siz".to_owned())
        );
    }

    #[test]
    fn kubernetes_service_links_of_a_service_named_kafka_producer_are_not_ours() {
        for var in [
            "KAFKA_PRODUCER_SERVICE_HOST",
            "KAFKA_PRODUCER_SERVICE_PORT",
            "KAFKA_PRODUCER_SERVICE_PORT_METRICS",
            "KAFKA_PRODUCER_PORT",
            "KAFKA_PRODUCER_PORT_8080_TCP",
            "KAFKA_PRODUCER_PORT_8080_TCP_ADDR",
            "KAFKA_PRODUCER_PORT_8080_UDP_PROTO",
            "KAFKA_TEMPLATE_SERVICE_HOST",
            "KAFKA_PRODUCERS_PORT",
        ] {
            assert_eq!(mapped(var, &[]), EnvKey::Unrelated, "{var}");
        }
        // A typo of a real key is still reported.
        assert_eq!(
            mapped("KAFKA_PRODUCER_PORT_BATCH", &[]),
            EnvKey::Unknown("kafka.producer.port.batch".to_owned())
        );
    }

    #[test]
    fn misspelled_prefixes_followed_by_a_key() {
        assert_eq!(
            mapped("KAFAK_PRODUCER_BATCH_SIZE", &[]),
            EnvKey::Misspelled("KAFKA_PRODUCER_BATCH_SIZE".to_owned())
        );
        assert_eq!(
            mapped("SPRNG_KAFKA_BOOTSTRAP_SERVERS", &[]),
            EnvKey::Misspelled("SPRING_KAFKA_BOOTSTRAP_SERVERS".to_owned())
        );
        assert_eq!(
            mapped("spring_kafak_producer_acks", &[]),
            EnvKey::Misspelled("spring_kafka_producer_acks".to_owned())
        );
        // Not followed by a key of ours, or not a near miss: not ours.
        assert_eq!(mapped("KAFK_HOME", &[]), EnvKey::Unrelated);
        assert_eq!(mapped("KAFKA2_BOOTSTRAP_SERVERS", &[]), EnvKey::Unrelated);
        assert_eq!(mapped("KAFAK", &[]), EnvKey::Unrelated);
    }

    #[test]
    fn application_keys_use_spring_variable_names() {
        let env: BTreeMap<String, String> = [
            ("APP_TOPICS_ORDER_EVENTS".to_owned(), "x".to_owned()),
            ("APP_NAME".to_owned(), "y".to_owned()),
        ]
        .into();
        assert_eq!(
            find_var_for(&parse_dotted("app.topics.order-events"), &env),
            Some(("APP_TOPICS_ORDER_EVENTS", "x"))
        );
        assert_eq!(
            find_var_for(&parse_dotted("app.name"), &env),
            Some(("APP_NAME", "y"))
        );
        assert_eq!(find_var_for(&parse_dotted("app.other"), &env), None);
        assert_eq!(find_var_for(&parse_dotted("kafka.client-id"), &env), None);
    }
}
