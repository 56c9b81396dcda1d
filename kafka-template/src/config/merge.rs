//! Layering with the `config` crate: each source (defaults, each active YAML
//! document, the environment, builder overrides) becomes one `config::Source`,
//! added in precedence order, and `config` merges them (later sources win key by
//! key, tables merge deeply).
//!
//! What is handed to `config` is already normalised, because it cannot do that
//! itself: keys are relaxed identities (it compares keys exactly, so `batchSize`
//! and `batch-size` would be two keys), and a Java name such as
//! `enable.idempotence` is one table key (given to `config` as a flat dotted
//! string, its path parser would split it into `enable` → `idempotence`). Each
//! leaf's `config` origin is a token naming the [`RawValue`] it came from, so the
//! winner's file, line or variable survive the merge (`config` keeps only a URI
//! string per value).

use ::config::{Config, Map, Source, Value, ValueKind};

use super::keys::ConfigKey;
use super::origin::Origin;

/// One value from one source, before merging.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawValue {
    pub key: ConfigKey,
    /// The key as written in its source, for messages about it.
    pub written: String,
    pub value: String,
    pub origin: Origin,
}

/// One source's values, keyed by identity path.
#[derive(Clone, Debug)]
struct LayerSource {
    table: Map<String, Value>,
}

impl Source for LayerSource {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, ::config::ConfigError> {
        Ok(self.table.clone())
    }
}

/// Merges `layers` (lowest precedence first) and returns the winning value of
/// every key.
pub(crate) fn merge(layers: Vec<Vec<RawValue>>) -> Result<Vec<RawValue>, String> {
    let mut all: Vec<RawValue> = Vec::new();
    let mut builder = Config::builder();
    for layer in layers {
        let mut table = Map::new();
        for value in layer {
            let token = all.len().to_string();
            insert(&mut table, &value.key.path, &value.value, &token);
            all.push(value);
        }
        builder = builder.add_source(LayerSource { table });
    }
    let merged = builder
        .build()
        .and_then(|config| config.collect())
        .map_err(|e| format!("merging the configuration sources failed: {e}"))?;
    let mut winners = Vec::new();
    collect_leaves(&merged, &mut winners)?;
    let mut result: Vec<RawValue> = winners
        .into_iter()
        .filter_map(|index| all.get(index).cloned())
        .collect();
    result.sort_by(|a, b| a.key.path.cmp(&b.key.path));
    Ok(result)
}

/// Puts `value` at `path`, making tables on the way (a value in the way is
/// replaced: within one source, the later key wins).
fn insert(table: &mut Map<String, Value>, path: &[String], value: &str, token: &str) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = table;
    for segment in parents {
        let child = current
            .entry(segment.clone())
            .or_insert_with(|| Value::new(None, ValueKind::Table(Map::new())));
        if !matches!(child.kind, ValueKind::Table(_)) {
            *child = Value::new(None, ValueKind::Table(Map::new()));
        }
        let ValueKind::Table(inner) = &mut child.kind else {
            return;
        };
        current = inner;
    }
    current.insert(
        last.clone(),
        Value::new(Some(&token.to_owned()), ValueKind::String(value.to_owned())),
    );
}

fn collect_leaves(table: &Map<String, Value>, out: &mut Vec<usize>) -> Result<(), String> {
    for value in table.values() {
        match &value.kind {
            ValueKind::Table(inner) => collect_leaves(inner, out)?,
            _ => {
                let index = value
                    .origin()
                    .and_then(|token| token.parse().ok())
                    .ok_or_else(|| "a merged value lost its origin".to_owned())?;
                out.push(index);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::keys::parse_dotted;
    use super::*;

    fn raw(key: &str, value: &str, origin: Origin) -> RawValue {
        RawValue {
            key: parse_dotted(key),
            written: key.to_owned(),
            value: value.to_owned(),
            origin,
        }
    }

    #[test]
    fn later_layers_win_key_by_key() {
        let merged = merge(vec![
            vec![
                raw("kafka.producer.acks", "1", Origin::Default),
                raw("kafka.client-id", "a", Origin::Default),
            ],
            vec![raw("kafka.producer.acks", "all", Origin::Override)],
        ])
        .unwrap();
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].written, "kafka.client-id");
        assert_eq!(merged[1].value, "all");
        assert_eq!(merged[1].origin, Origin::Override);
    }

    #[test]
    fn relaxed_spellings_merge_and_dotted_java_names_stay_whole() {
        let merged = merge(vec![
            vec![
                raw("kafka.producer.batchSize", "1", Origin::Default),
                raw(
                    "kafka.properties.enable.idempotence",
                    "false",
                    Origin::Default,
                ),
            ],
            vec![
                raw("kafka.producer.batch_size", "2", Origin::Override),
                raw(
                    "kafka.properties[enable.idempotence]",
                    "true",
                    Origin::Override,
                ),
            ],
        ])
        .unwrap();
        assert_eq!(merged.len(), 2);
        assert!(merged.iter().all(|v| v.origin == Origin::Override));
        assert_eq!(
            merged[1].key.path,
            ["kafka", "properties", "enable.idempotence"]
        );
    }
}
