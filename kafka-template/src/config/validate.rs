//! Validation of each producer's Java properties by kafka-core, at load, with
//! every error mapped back to the configuration key and origin that set the value.

use kafka_core::config::{ConfigError, ProducerConfig};
use kafka_record::{JavaSerializer, JavaSerializerError};

use super::error::{ConfigIssue, shown_value};
use super::producers::ProducerSetup;

/// What to do instead of a Java class name, where kafka-core's advice (its
/// own builders) is not what a template user needs.
fn template_alternative(java_key: &str) -> Option<&'static str> {
    match java_key {
        "interceptor.classes" => Some(
            "it names Java classes, which cannot be loaded here; implement \
             kafka_template::ProducerInterceptor and add it with \
             KafkaTemplate::builder().interceptor(...)",
        ),
        "partitioner.class" => Some(
            "it names a Java class, which cannot be loaded here; implement \
             kafka_template::core::Partitioner and give it to \
             KafkaTemplate::builder().partitioner(...)",
        ),
        _ => None,
    }
}
use crate::record_type::{
    ADD_TYPE_HEADERS, SERIALIZER_KEYS, TYPE_MAPPINGS, is_template_key, parse_add_type_headers,
    parse_type_mappings,
};
use crate::registry::registry_serializer;
use kafka_schema_registry::RegistryConfig;

/// Every error kafka-core finds in `properties`, not only the first.
///
/// THE ONE CALL INTO KAFKA-CORE. `ProducerConfig::check_properties` judges
/// exactly as `from_properties` would, without logging or using up a generated
/// client id; it stops at the first problem, so the key it names is taken out
/// and the rest checked again until the remainder is accepted (at most one
/// round per property).
fn check_with_kafka_core(properties: &[(String, String)]) -> Vec<ConfigError> {
    let mut remaining = properties.to_vec();
    let mut removed: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for _ in 0..=properties.len() {
        let Err(error) = ProducerConfig::check_properties(remaining.iter().map(|(k, v)| (k, v)))
        else {
            break;
        };
        let key = error.key().to_owned();
        // Taking out an invalid required key makes it "missing": not news.
        if !(matches!(error, ConfigError::Missing { .. }) && removed.contains(&key)) {
            errors.push(error);
        }
        let before = remaining.len();
        remaining.retain(|(k, _)| *k != key);
        if remaining.len() == before {
            break;
        }
        removed.push(key);
    }
    errors
}

/// kafka-core's verdict on one producer, as configuration issues, after the
/// serializer lines' (which the template checks itself: see [`serializer_issues`]).
pub(crate) fn validate_producer(producer: &ProducerSetup) -> Vec<ConfigIssue> {
    // A transaction id prefix is there as `transactional.id` (see
    // producers.rs), so kafka-core judges it as it would the pool's ids.
    let properties: Vec<(String, String)> = producer
        .properties
        .iter()
        .filter(|(p, _)| !is_template_key(&p.key))
        .map(|(p, _)| (p.key.clone(), p.value.clone()))
        .collect();
    let mut issues = serializer_issues(producer);
    issues.extend(json_serializer_issues(producer));
    issues.extend(registry_issues(producer));
    issues.extend(
        check_with_kafka_core(&properties)
            .into_iter()
            .map(|error| to_issue(&error, producer)),
    );
    issues
}

/// `key.serializer` / `value.serializer` must name a Java serializer whose
/// bytes are known ([`JavaSerializer`]); whether it agrees with a record type
/// is checked when the template meets the type. An empty value is unset.
/// Spring's `JsonSerializer` settings: `spring.json.add.type.headers` a
/// boolean, `spring.json.type.mapping` `token:class` pairs.
fn json_serializer_issues(producer: &ProducerSetup) -> Vec<ConfigIssue> {
    producer
        .properties
        .iter()
        .filter_map(|(property, provenance)| {
            let expected = match property.key.as_str() {
                ADD_TYPE_HEADERS if parse_add_type_headers(&property.value).is_none() => {
                    "true or false"
                }
                TYPE_MAPPINGS if parse_type_mappings(&property.value).is_none() => {
                    "token:class pairs separated by commas, e.g. order:com.example.Order"
                }
                _ => return None,
            };
            Some(ConfigIssue::InvalidValue {
                key: provenance.written_key.clone(),
                value: shown_value(&provenance.written_key, &provenance.written_value),
                origin: property.origin.clone(),
                expected: expected.to_owned(),
            })
        })
        .collect()
}

fn serializer_issues(producer: &ProducerSetup) -> Vec<ConfigIssue> {
    producer
        .properties
        .iter()
        .filter(|(p, _)| SERIALIZER_KEYS.contains(&p.key.as_str()) && !p.value.trim().is_empty())
        .filter_map(|(property, provenance)| {
            let key = provenance.written_key.clone();
            let origin = property.origin.clone();
            match JavaSerializer::from_class(&property.value) {
                Ok(_) => None,
                Err(JavaSerializerError::SchemaRegistry { .. })
                    if registry_serializer(&property.value).is_some() =>
                {
                    None // registry_issues checks its registry settings
                }
                Err(error @ JavaSerializerError::SchemaRegistry { .. }) => {
                    Some(ConfigIssue::Unsupported {
                        key,
                        origin,
                        reason: error.to_string(),
                    })
                }
                Err(JavaSerializerError::Unknown { suggestion, .. }) => {
                    Some(ConfigIssue::InvalidValue {
                        value: shown_value(&key, &provenance.written_value),
                        key,
                        origin,
                        expected: format!(
                            "a Java serializer whose bytes this producer knows (the record types \
                             decide the bytes; the line must agree with them): {}{}",
                            JavaSerializer::known_classes().join(", "),
                            suggestion
                                .map(|s| format!("; did you mean {s}?"))
                                .unwrap_or_default()
                        ),
                    })
                }
                Err(other) => Some(ConfigIssue::InvalidValue {
                    value: shown_value(&key, &provenance.written_value),
                    key,
                    origin,
                    expected: other.to_string(),
                }),
            }
        })
        .collect()
}

/// With a `KafkaAvroSerializer` / `KafkaJsonSchemaSerializer` line or any
/// registry key set: the registry
/// settings, read as Confluent's serializer reads them (`schema.registry.url`
/// required), each problem named as written with its origin.
fn registry_issues(producer: &ProducerSetup) -> Vec<ConfigIssue> {
    let avro_line = producer.properties.iter().find_map(|(p, provenance)| {
        let format = registry_serializer(&p.value)?;
        SERIALIZER_KEYS
            .contains(&p.key.as_str())
            .then_some((p, provenance, format))
    });
    let properties = producer.registry_properties();
    if avro_line.is_none() && properties.is_empty() {
        return Vec::new();
    }
    let Err(error) =
        RegistryConfig::from_properties(properties.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    else {
        return Vec::new();
    };
    let set = producer.properties.iter().find(|(p, _)| p.key == error.key);
    match (set, avro_line) {
        (Some((property, provenance)), _) => vec![ConfigIssue::InvalidValue {
            value: shown_value(&provenance.written_key, &provenance.written_value),
            key: provenance.written_key.clone(),
            origin: property.origin.clone(),
            expected: error.problem,
        }],
        (None, Some((property, provenance, format))) => vec![ConfigIssue::Missing {
            key: format!("kafka.properties.{}", error.key),
            hint: format!(
                "{} (from {}) names {}: {} {}",
                provenance.written_key,
                property.origin,
                format.class().rsplit('.').next().unwrap_or_default(),
                error.key,
                error.problem
            ),
        }],
        (None, None) => vec![ConfigIssue::Missing {
            key: format!("kafka.properties.{}", error.key),
            hint: format!(
                "schema registry settings are given: {} {}",
                error.key, error.problem
            ),
        }],
    }
}

fn to_issue(error: &ConfigError, producer: &ProducerSetup) -> ConfigIssue {
    let Some((property, provenance)) = producer
        .properties
        .iter()
        .find(|(p, _)| p.key == error.key())
    else {
        return match error {
            ConfigError::Missing { key, hint } => ConfigIssue::Missing {
                key: spring_key_for(key),
                hint: hint.clone(),
            },
            other => ConfigIssue::Rejected {
                producer: producer.label(),
                message: other.to_string(),
            },
        };
    };
    let key = provenance.written_key.clone();
    let origin = property.origin.clone();
    match error {
        ConfigError::InvalidValue { allowed, .. } => {
            // Secret by the key as written or as Java names it.
            let shown = |value: &str| {
                if crate::config::error::is_secret_key(&property.key) {
                    crate::config::error::HIDDEN.to_owned()
                } else {
                    shown_value(&key, value)
                }
            };
            let value = shown(&provenance.written_value);
            let expected = if provenance.written_value == property.value {
                allowed.clone()
            } else {
                // `1GB` for batch.size: say what it became.
                format!("{allowed} ({value} is {})", shown(&property.value))
            };
            ConfigIssue::InvalidValue {
                key,
                value,
                origin,
                expected,
            }
        }
        ConfigError::UnknownKey { suggestion, .. } => {
            // Suggest in the same place, spelled as written:
            // spring.kafka.properties.<java name>.
            let prefix = provenance
                .written_key
                .strip_suffix(property.key.as_str())
                .or_else(|| property.config_key.strip_suffix(property.key.as_str()))
                .unwrap_or("");
            ConfigIssue::UnknownKey {
                key,
                origin,
                suggestion: suggestion.as_ref().map(|s| format!("{prefix}{s}")),
                known: Vec::new(),
            }
        }
        ConfigError::Unsupported { reason, .. } => ConfigIssue::Unsupported {
            key,
            origin,
            reason: template_alternative(&property.key)
                .map_or_else(|| reason.clone(), str::to_owned),
        },
        ConfigError::Conflict { message, .. } => ConfigIssue::Conflict {
            key,
            origin,
            message: message.clone(),
        },
        other => ConfigIssue::Rejected {
            producer: producer.label(),
            message: other.to_string(),
        },
    }
}

/// The configuration key that sets a Java property, for "missing" messages.
fn spring_key_for(java: &str) -> String {
    match java {
        "bootstrap.servers" => "kafka.bootstrap-servers".to_owned(),
        other => format!("kafka.properties.{other}"),
    }
}
