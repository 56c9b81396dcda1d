//! From merged keys to each producer's Java properties and template settings.
//!
//! Spring's merge order for a producer's properties: the common settings
//! (`kafka.bootstrap-servers`, `kafka.client-id`, `kafka.ssl.*`, ...), then
//! `kafka.properties.*`, then the producer's own settings, then its
//! `properties.*`, each stage overriding the one before by Java name. This is
//! structural, independent of which source a value came from: a file's
//! `kafka.producer.acks` beats an environment variable's `kafka.properties.acks`.
//! A named producer (`kafka.producers.<name>`) starts from the same common
//! settings, not from `kafka.producer`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kafka_record::JavaSerializer;

use crate::record_type::{
    ADD_TYPE_HEADERS, RegistryLine, SERIALIZER_KEYS, SerializerLine, SerializerLines,
    TYPE_MAPPINGS, is_template_key, parse_add_type_headers, parse_type_mappings,
};
use crate::registry::registry_serializer;

use super::error::{ConfigIssue, ConfigLoadError, is_secret_key, shown_value};
use super::keys::{KeyKind, Scope};
use super::merge::RawValue;
use super::origin::Origin;
use super::schema::{Conversion, Setting};
use super::units::{
    BOOL_EXPECTED, DURATION_EXPECTED, SIZE_EXPECTED, parse_bool, parse_duration, parse_size,
};

/// The template close timeout when none is configured: Spring Kafka's
/// `DefaultKafkaProducerFactory` closes its producer with 30 s
/// (`DEFAULT_PHYSICAL_CLOSE_TIMEOUT`), where the Java client's own `close()`
/// would wait without limit.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(30);

/// One Java client property of a producer, with where its value came from.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResolvedProperty {
    /// The Java client name (`batch.size`).
    pub key: String,
    /// The value in the Java client's terms (`32MB` is `33554432`, `5ms` is `5`).
    pub value: String,
    /// Where the value came from.
    pub origin: Origin,
    /// The configuration key that set it (`kafka.producer.batch-size`).
    pub config_key: String,
}

impl fmt::Debug for ResolvedProperty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if is_secret_key(&self.key) || is_secret_key(&self.config_key) {
            super::error::HIDDEN
        } else {
            self.value.as_str()
        };
        f.debug_struct("ResolvedProperty")
            .field("key", &self.key)
            .field("value", &value)
            .field("origin", &self.origin)
            .field("config_key", &self.config_key)
            .finish()
    }
}

/// What a template built for a producer is configured with.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TemplateSettings {
    /// `template.default-topic`: where sends without a topic go.
    pub default_topic: Option<String>,
    /// `template.close-timeout`: how long closing the template waits for
    /// buffered records; [`DEFAULT_CLOSE_TIMEOUT`] when not set.
    pub close_timeout: Duration,
    /// `template.transaction-id-prefix`, else `producer.transaction-id-prefix`,
    /// else `properties.transactional.id` (as Spring's producer factory takes
    /// it): makes the template transactional. Its pool's producers get
    /// `transactional.id` = prefix + 0, 1, 2, ... (see
    /// [`KafkaTemplate::execute_in_transaction`](crate::KafkaTemplate::execute_in_transaction)).
    pub transaction_id_prefix: Option<String>,
    /// `template.allow-non-transactional` (default `false`, Spring's
    /// `KafkaTemplate.setAllowNonTransactional`): whether a transactional
    /// template also sends outside a transaction, through a producer of its
    /// own without `transactional.id`. Without it such sends are refused.
    pub allow_non_transactional: bool,
    /// `template.observation-enabled` (default `false`, as Spring's
    /// `KafkaTemplate.setObservationEnabled`): a `tracing` span per send,
    /// named and attributed by OpenTelemetry's messaging conventions, ended
    /// when the record's outcome is known (see the crate's "Tracing" docs).
    pub observation_enabled: bool,
    /// `template.micrometer-enabled` (default `true`, as Spring's
    /// `KafkaTemplate.setMicrometerEnabled`, which Spring Boot leaves at its
    /// default): without observation, each send is timed in the
    /// `spring.kafka.template` timer Spring keeps by default (tags `name`,
    /// `result`, `exception`), published to the `metrics` facade. With
    /// observation on, the observation's timer is kept instead, as in Spring.
    pub micrometer_enabled: bool,
    /// `template.trace-propagation-enabled` (default `true`): the W3C trace
    /// context (`traceparent`, `tracestate`) of the send span, or of the
    /// caller's current span, goes into each record's headers, so consumers
    /// continue the trace. Needs the `opentelemetry` cargo feature (on by
    /// default) and an OpenTelemetry layer for `tracing`; without a valid span
    /// context no header is written, and a `traceparent` the record already
    /// has is kept.
    pub trace_propagation_enabled: bool,
}

impl Default for TemplateSettings {
    /// No default topic, [`DEFAULT_CLOSE_TIMEOUT`], not transactional, no
    /// span per send, trace context propagated.
    fn default() -> Self {
        TemplateSettings {
            default_topic: None,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            transaction_id_prefix: None,
            allow_non_transactional: false,
            observation_enabled: false,
            micrometer_enabled: true,
            trace_propagation_enabled: true,
        }
    }
}

/// A property's value as the user wrote it, for messages about it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Provenance {
    pub written_key: String,
    pub written_value: String,
}

/// Everything about one producer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ProducerSetup {
    /// `None` for `kafka.producer`; the relaxed name otherwise.
    pub id: Option<String>,
    /// The name as written.
    pub name: Option<String>,
    /// Sorted by Java name, each with its provenance.
    pub properties: Vec<(ResolvedProperty, Provenance)>,
    pub template: TemplateSettings,
}

impl ProducerSetup {
    /// `default producer` or `producer 'orders'`.
    pub(crate) fn label(&self) -> String {
        match &self.name {
            None => "default producer".to_owned(),
            Some(name) => format!("producer '{name}'"),
        }
    }
}

impl ProducerSetup {
    /// The line setting `java_key`; `None` when unset, empty, or naming a class
    /// that validation already reported.
    fn serializer_line(&self, java_key: &str) -> Option<SerializerLine> {
        let (property, provenance) = self.properties.iter().find(|(p, _)| p.key == java_key)?;
        let serializer = JavaSerializer::from_class(&property.value).ok()?;
        Some(SerializerLine {
            serializer,
            written_key: provenance.written_key.clone(),
            origin: property.origin.clone(),
        })
    }

    /// The line setting `java_key` when it names `KafkaAvroSerializer` or
    /// `KafkaJsonSchemaSerializer`.
    fn registry_line(&self, java_key: &str) -> Option<RegistryLine> {
        let (property, provenance) = self.properties.iter().find(|(p, _)| p.key == java_key)?;
        registry_serializer(&property.value).map(|format| RegistryLine {
            format,
            written_key: provenance.written_key.clone(),
            origin: property.origin.clone(),
        })
    }

    /// The schema registry properties (`schema.registry.url`, ...), by Java
    /// name. With `bearer.auth.credentials.source=SASL_OAUTHBEARER_INHERIT`
    /// (Confluent's `SaslOauthCredentialProvider`), the token settings come
    /// from the producer's own SASL OAUTHBEARER login: `OAUTHBEARER` with the
    /// `bearer.auth.*` keys filled from `sasl.oauthbearer.token.endpoint.url`,
    /// the client id, secret and scope (`sasl.oauthbearer.client.credentials.*`
    /// and `sasl.oauthbearer.scope`, else the login module's `clientId`,
    /// `clientSecret` and `scope`) and the claim names, unless set
    /// themselves. Without a token endpoint to inherit, the source stays as
    /// written, for the registry settings to refuse.
    pub(crate) fn registry_properties(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .properties
            .iter()
            .filter(|(p, _)| kafka_schema_registry::is_registry_key(&p.key))
            .map(|(p, _)| (p.key.clone(), p.value.clone()))
            .collect();
        let inherits = out.iter().any(|(k, v)| {
            k == "bearer.auth.credentials.source"
                && v.trim().eq_ignore_ascii_case("SASL_OAUTHBEARER_INHERIT")
        });
        if inherits && let Some(inherited) = self.inherited_oauth() {
            for (key, value) in inherited {
                if !out.iter().any(|(k, _)| k == key) {
                    out.push((key.to_owned(), value));
                }
            }
            for (key, value) in &mut out {
                if key == "bearer.auth.credentials.source" {
                    "OAUTHBEARER".clone_into(value);
                }
            }
        }
        out
    }

    /// The registry's `bearer.auth.*` token settings from this producer's
    /// SASL OAUTHBEARER client credentials login; `None` without its token
    /// endpoint.
    fn inherited_oauth(&self) -> Option<Vec<(&'static str, String)>> {
        let property = |key: &str| {
            self.properties
                .iter()
                .find(|(p, _)| p.key == key)
                .map(|(p, _)| p.value.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let endpoint = property("sasl.oauthbearer.token.endpoint.url")?;
        let jaas =
            property("sasl.jaas.config").and_then(|text| kafka_core::JaasConfig::parse(&text).ok());
        let option = |name: &str| {
            jaas.as_ref()
                .and_then(|jaas| jaas.option(name))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let settings = [
            ("bearer.auth.issuer.endpoint.url", Some(endpoint)),
            (
                "bearer.auth.client.id",
                property("sasl.oauthbearer.client.credentials.client.id")
                    .or_else(|| option("clientId")),
            ),
            (
                "bearer.auth.client.secret",
                property("sasl.oauthbearer.client.credentials.client.secret")
                    .or_else(|| option("clientSecret")),
            ),
            (
                "bearer.auth.scope",
                property("sasl.oauthbearer.scope").or_else(|| option("scope")),
            ),
            (
                "bearer.auth.scope.claim.name",
                property("sasl.oauthbearer.scope.claim.name"),
            ),
            (
                "bearer.auth.sub.claim.name",
                property("sasl.oauthbearer.sub.claim.name"),
            ),
        ];
        Some(
            settings
                .into_iter()
                .filter_map(|(key, value)| Some((key, value?)))
                .collect(),
        )
    }
}

impl super::KafkaConfig {
    /// The serializer lines of the default producer (`None`) or a named one.
    pub(crate) fn serializer_lines(
        &self,
        producer: Option<&str>,
    ) -> Result<SerializerLines, ConfigLoadError> {
        let setup = self.producer(producer)?;
        let property = |java_key: &str| {
            setup
                .properties
                .iter()
                .find(|(p, _)| p.key == java_key)
                .map(|(p, _)| p.value.as_str())
        };
        // Checked when the configuration loaded (validate.rs).
        let omit_type_headers =
            property(ADD_TYPE_HEADERS).and_then(parse_add_type_headers) == Some(false);
        let type_mappings = property(TYPE_MAPPINGS)
            .and_then(parse_type_mappings)
            .unwrap_or_default();
        Ok(SerializerLines {
            key: setup.serializer_line(SERIALIZER_KEYS[0]),
            value: setup.serializer_line(SERIALIZER_KEYS[1]),
            key_registry: setup.registry_line(SERIALIZER_KEYS[0]),
            value_registry: setup.registry_line(SERIALIZER_KEYS[1]),
            omit_type_headers,
            type_mappings,
        })
    }

    /// The schema registry properties of the default producer (`None`) or a
    /// named one, by Java name (`schema.registry.url`, `basic.auth.user.info`, ...).
    pub(crate) fn registry_properties(
        &self,
        producer: Option<&str>,
    ) -> Result<Vec<(String, String)>, ConfigLoadError> {
        Ok(self.producer(producer)?.registry_properties())
    }
}

/// Converts a setting's text to the Java client's form, or says what is expected.
pub(crate) fn convert(setting: Setting, text: &str) -> Result<String, String> {
    match setting.conversion() {
        Conversion::Text => Ok(text.to_owned()),
        Conversion::List => Ok(text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .collect::<Vec<_>>()
            .join(",")),
        Conversion::Size => parse_size(text)
            .map(|bytes| bytes.to_string())
            .ok_or_else(|| SIZE_EXPECTED.to_owned()),
        Conversion::Millis => match parse_duration(text) {
            Some(d) if d.subsec_nanos() % 1_000_000 == 0 => Ok(d.as_millis().to_string()),
            Some(_) => Err(format!("{DURATION_EXPECTED}, in whole milliseconds")),
            None => Err(DURATION_EXPECTED.to_owned()),
        },
        Conversion::Duration => parse_duration(text)
            .map(|d| format!("{}ms", d.as_millis()))
            .ok_or_else(|| DURATION_EXPECTED.to_owned()),
        Conversion::Bool => parse_bool(text)
            .map(|b| b.to_string())
            .ok_or_else(|| BOOL_EXPECTED.to_owned()),
    }
}

/// Builds every producer (the default one first, then named ones by name) from
/// the resolved entries; conversion problems are returned as issues.
pub(crate) fn build_producers(
    entries: &BTreeMap<Vec<String>, RawValue>,
) -> (Vec<ProducerSetup>, Vec<ConfigIssue>) {
    let mut issues = Vec::new();
    // Convert every setting once; a bad value is reported once, however many
    // producers inherit it.
    let mut settings: Vec<(&RawValue, Scope, Setting, String)> = Vec::new();
    let mut java: Vec<(&RawValue, Scope, String)> = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for entry in entries.values() {
        match &entry.key.kind {
            KeyKind::Setting { scope, setting } => {
                remember_name(scope, entry, &mut names);
                // Spring binds an empty value of a typed property (a size,
                // duration, number or flag: `batch-size:`, `${BATCH:}`) as
                // not set, and the default applies.
                let typed = !matches!(setting.conversion(), Conversion::Text | Conversion::List)
                    || *setting == Setting::Retries;
                if typed && entry.value.trim().is_empty() {
                    continue;
                }
                match convert(*setting, &entry.value) {
                    Ok(converted) => settings.push((entry, scope.clone(), *setting, converted)),
                    Err(expected) => issues.push(ConfigIssue::InvalidValue {
                        key: entry.written.clone(),
                        value: shown_value(&entry.written, &entry.value),
                        origin: entry.origin.clone(),
                        expected,
                    }),
                }
            }
            KeyKind::JavaProperty { scope, name } => {
                remember_name(scope, entry, &mut names);
                java.push((entry, scope.clone(), name.clone()));
            }
            _ => {}
        }
    }

    leave_other_clients_keys(&mut java);

    let jaas = jaas_config(entries, &settings, &mut issues);
    let mut bundle_issues = Vec::new();
    let ids = std::iter::once(None).chain(names.keys().cloned().map(Some));
    let producers = ids
        .map(|id| {
            let mut properties: Vec<(ResolvedProperty, Provenance)> = Vec::new();
            let producer_scope = Scope::Producer(id.clone());
            for scope in [&Scope::Common, &producer_scope] {
                for (entry, _, setting, converted) in settings.iter().filter(|s| &s.1 == scope) {
                    if let Some(java_name) = setting.java_name() {
                        put(&mut properties, java_name, converted, entry);
                    }
                }
                for (entry, _, name) in java.iter().filter(|j| &j.1 == scope) {
                    // Spring Boot's producer always sets its key and value
                    // serializers (StringSerializer by default) over the
                    // common `spring.kafka.properties.*`: a serializer there
                    // never takes effect, so it does not here either.
                    if scope == &Scope::Common && SERIALIZER_KEYS.contains(&name.as_ref()) {
                        tracing::warn!(
                            key = %entry.written,
                            origin = %entry.origin,
                            "ignored, as Spring Boot ignores it: the producer's \
                             key-serializer/value-serializer (StringSerializer by default) \
                             wins over spring.kafka.properties.*; set \
                             spring.kafka.producer.key-serializer or value-serializer"
                        );
                        continue;
                    }
                    put(&mut properties, name, &entry.value, entry);
                }
            }
            connection_details(&settings, &producer_scope, &mut properties);
            ssl_bundle(
                entries,
                &settings,
                &producer_scope,
                &mut properties,
                &mut bundle_issues,
            );
            // Spring installs its JAAS login JVM-wide, which the Java client
            // uses when `sasl.jaas.config` is not set.
            if let Some((entry, config)) = &jaas
                && !properties.iter().any(|(p, _)| p.key == SASL_JAAS_CONFIG)
            {
                put(&mut properties, SASL_JAAS_CONFIG, config, entry);
            }
            let (mut template, prefixes) = template_settings(&settings, id.as_ref());
            transactional_id_from_prefix(&mut template, prefixes, &mut properties);
            properties.sort_by(|a, b| a.0.key.cmp(&b.0.key));
            ProducerSetup {
                name: id.as_ref().and_then(|id| names.get(id).cloned()),
                id,
                properties,
                template,
            }
        })
        .collect();
    // Reported once, however many producers use the bundle.
    for issue in bundle_issues {
        if !issues.contains(&issue) {
            issues.push(issue);
        }
    }
    (producers, issues)
}

const SASL_JAAS_CONFIG: &str = "sasl.jaas.config";

/// The keys of a Spring Boot SSL bundle of `kind` (`jks` or `pem`) this
/// producer reads (`keystore.password`, ...).
pub(super) fn ssl_bundle_keys(kind: &str) -> impl Iterator<Item = &'static str> + use<> {
    let table = match kind {
        "jks" => JKS_BUNDLE,
        "pem" => PEM_BUNDLE,
        _ => &[],
    };
    table.iter().map(|(key, ..)| *key)
}

/// Whether `entry` is a key of a Spring Boot SSL bundle (`spring.ssl.bundle.*`).
fn is_ssl_bundle_key(entry: &RawValue) -> bool {
    entry
        .key
        .path
        .starts_with(&["spring".to_owned(), "ssl".to_owned(), "bundle".to_owned()])
}

/// The Java properties of a JKS bundle's keys (`spring.ssl.bundle.jks.<name>.*`).
/// Each: the bundle key, its Java property, and for PEM material (a
/// location or PEM text, given inline) the store whose type becomes `PEM`.
const JKS_BUNDLE: &[(&str, &str, Option<&str>)] = &[
    ("keystore.location", "ssl.keystore.location", None),
    ("keystore.password", "ssl.keystore.password", None),
    ("keystore.type", "ssl.keystore.type", None),
    ("key.password", "ssl.key.password", None),
    ("truststore.location", "ssl.truststore.location", None),
    ("truststore.password", "ssl.truststore.password", None),
    ("truststore.type", "ssl.truststore.type", None),
    ("protocol", "ssl.protocol", None),
    ("options.enabled-protocols", "ssl.enabled.protocols", None),
    ("options.ciphers", "ssl.cipher.suites", None),
];

/// The Java properties of a PEM bundle's keys (`spring.ssl.bundle.pem.<name>.*`),
/// as [`JKS_BUNDLE`].
const PEM_BUNDLE: &[(&str, &str, Option<&str>)] = &[
    (
        "keystore.certificate",
        "ssl.keystore.certificate.chain",
        Some("ssl.keystore.type"),
    ),
    (
        "keystore.private-key",
        "ssl.keystore.key",
        Some("ssl.keystore.type"),
    ),
    ("keystore.private-key-password", "ssl.key.password", None),
    (
        "truststore.certificate",
        "ssl.truststore.certificates",
        Some("ssl.truststore.type"),
    ),
    ("protocol", "ssl.protocol", None),
    ("options.enabled-protocols", "ssl.enabled.protocols", None),
    ("options.ciphers", "ssl.cipher.suites", None),
];

/// The store keys Spring refuses next to a bundle in the same `ssl` section
/// (`MutuallyExclusiveConfigurationPropertiesException`).
const EXCLUDED_BY_BUNDLE: &[&str] = &[
    "ssl.keystore.key",
    "ssl.keystore.location",
    "ssl.truststore.certificates",
    "ssl.truststore.location",
];

/// Whether the Java property `key` is one a bundle gives: with a bundle,
/// Spring's engine factory takes the stores, key and protocols from it and
/// reads none of these properties, wherever they are set.
fn given_by_bundle(key: &str) -> bool {
    key.starts_with("ssl.keystore.")
        || key.starts_with("ssl.truststore.")
        || matches!(
            key,
            "ssl.key.password" | "ssl.protocol" | "ssl.enabled.protocols" | "ssl.cipher.suites"
        )
}

/// Spring Boot's `spring.kafka.ssl.bundle` (or `producer.ssl.bundle`): the
/// JKS or PEM bundle of that name (`spring.ssl.bundle.jks.<name>` /
/// `.pem.<name>`) as the `ssl.*` properties it stands for. As in Spring, a
/// bundle and the store locations or PEM texts of its own `ssl` section
/// exclude each other; the store settings from anywhere else give way to it
/// (with a warning).
fn ssl_bundle(
    entries: &BTreeMap<Vec<String>, RawValue>,
    settings: &[(&RawValue, Scope, Setting, String)],
    producer_scope: &Scope,
    properties: &mut Vec<(ResolvedProperty, Provenance)>,
    issues: &mut Vec<ConfigIssue>,
) {
    let named = |scope: &Scope| {
        settings
            .iter()
            .find(|(_, s, setting, _)| s == scope && *setting == Setting::SslBundle)
            .map(|(entry, ..)| *entry)
    };
    let Some(bundle) = named(producer_scope)
        .or_else(|| named(&Scope::Common))
        .filter(|entry| !entry.value.trim().is_empty())
    else {
        return;
    };
    let name = bundle.value.trim();
    let bundle_path =
        |kind: &str| super::keys::parse_dotted(&format!("spring.ssl.bundle.{kind}.{name}")).path;
    let key_of = |kind: &str, rest: &str| {
        super::keys::parse_dotted(&format!("spring.ssl.bundle.{kind}.{name}.{rest}"))
    };
    let in_bundle = |kind: &str| {
        let prefix = bundle_path(kind);
        entries.keys().any(|path| path.starts_with(&prefix))
    };
    // Spring refuses two bundles of one name; here, where a variable can
    // add to a bundle no file names, one kind must not quietly win.
    if in_bundle("jks") && in_bundle("pem") {
        issues.push(ConfigIssue::Conflict {
            key: bundle.written.clone(),
            origin: bundle.origin.clone(),
            message: format!(
                "it names SSL bundle '{name}', which is configured both under \
                 spring.ssl.bundle.jks.{name} and spring.ssl.bundle.pem.{name}: as in Spring, a \
                 bundle's name must be unique"
            ),
        });
        return;
    }
    let (kind, table) = if in_bundle("jks") {
        ("jks", JKS_BUNDLE)
    } else if in_bundle("pem") {
        ("pem", PEM_BUNDLE)
    } else {
        issues.push(ConfigIssue::InvalidValue {
            key: bundle.written.clone(),
            value: bundle.value.clone(),
            origin: bundle.origin.clone(),
            expected: format!(
                "the name of an SSL bundle configured under spring.ssl.bundle.jks.{name} or \
                 spring.ssl.bundle.pem.{name}"
            ),
        });
        return;
    };
    // Spring checks each `ssl` section that names a bundle, the one whose
    // bundle is used or not.
    for scope in [producer_scope, &Scope::Common] {
        let Some(named_here) = named(scope).filter(|entry| !entry.value.trim().is_empty()) else {
            continue;
        };
        let same_section = settings.iter().find(|(entry, s, setting, _)| {
            s == scope
                && matches!(setting, Setting::Ssl(java) if EXCLUDED_BY_BUNDLE.contains(java))
                && !entry.value.trim().is_empty()
        });
        if let Some((store, ..)) = same_section {
            issues.push(ConfigIssue::Conflict {
                key: named_here.written.clone(),
                origin: named_here.origin.clone(),
                message: format!(
                    "it names SSL bundle '{}', and {} is set too: as in Spring, use the bundle \
                     or the store settings, not both",
                    named_here.value.trim(),
                    store.written
                ),
            });
            return;
        }
    }
    properties.retain(|(property, _)| {
        let kept = !given_by_bundle(&property.key);
        if !kept {
            tracing::warn!(
                key = %property.config_key,
                origin = %property.origin,
                "ignored, as Spring Boot ignores it: SSL bundle '{name}' gives the TLS stores \
                 and protocols"
            );
        }
        kept
    });
    for (bundle_key, java_name, pem_store) in table {
        let Some(entry) = entries.get(&key_of(kind, bundle_key).path) else {
            continue;
        };
        let Some(store_type) = pem_store else {
            put(properties, java_name, &entry.value, entry);
            continue;
        };
        match pem_text(&entry.value, &entry.origin, is_secret_key(&entry.written)) {
            Ok(text) => put(properties, java_name, &text, entry),
            Err(message) => issues.push(ConfigIssue::InvalidValue {
                key: entry.written.clone(),
                value: shown_value(&entry.written, &entry.value),
                origin: entry.origin.clone(),
                expected: message,
            }),
        }
        put(properties, store_type, "PEM", entry);
    }
}

/// A PEM bundle's certificate or key: its text, given inline (a PEM header
/// anywhere in it, as Spring's `PemContent` looks for one: `openssl` output
/// may start with "Bag Attributes") or read from its location (relative as
/// a Spring resource: see [`store_location`]). For a `secret` key the
/// value, which may be a mangled private key, is not repeated in the error.
fn pem_text(value: &str, origin: &Origin, secret: bool) -> Result<String, String> {
    if value.contains("-----BEGIN") {
        return Ok(value.to_owned());
    }
    let path = store_location("ssl.keystore.location", value, origin, true);
    std::fs::read_to_string(&path).map_err(|error| {
        if secret {
            format!("PEM text or the location of a PEM file (not PEM text, and not a readable file: {error})")
        } else {
            format!("PEM text or the location of a PEM file ({path}: {error})")
        }
    })
}

/// Spring's `spring.kafka.jaas.*`, when `enabled`: the login as a
/// `sasl.jaas.config` value (`<login-module> <control-flag> k="v" ...;`),
/// with the `enabled` entry it stems from. Spring's defaults: Kerberos'
/// `Krb5LoginModule`, `required`.
fn jaas_config<'a>(
    entries: &'a BTreeMap<Vec<String>, RawValue>,
    settings: &[(&'a RawValue, Scope, Setting, String)],
    issues: &mut Vec<ConfigIssue>,
) -> Option<(&'a RawValue, String)> {
    let find = |wanted: Setting| {
        settings
            .iter()
            .find(|(_, scope, setting, _)| *scope == Scope::Common && *setting == wanted)
    };
    let (enabled, _, _, on) = find(Setting::JaasEnabled)?;
    if on != "true" {
        return None;
    }
    let module = find(Setting::JaasLoginModule)
        .map(|(entry, ..)| entry.value.trim())
        .filter(|module| !module.is_empty())
        .unwrap_or("com.sun.security.auth.module.Krb5LoginModule");
    let flag = match find(Setting::JaasControlFlag) {
        None => "required".to_owned(),
        Some((entry, ..)) => {
            let flag = entry.value.trim().to_ascii_lowercase();
            if !matches!(
                flag.as_str(),
                "required" | "requisite" | "sufficient" | "optional"
            ) {
                issues.push(ConfigIssue::InvalidValue {
                    key: entry.written.clone(),
                    value: entry.value.clone(),
                    origin: entry.origin.clone(),
                    expected: "one of required, requisite, sufficient, optional".to_owned(),
                });
                return None;
            }
            flag
        }
    };
    let mut config = format!("{module} {flag}");
    for entry in entries.values() {
        if let KeyKind::JaasOption { name } = &entry.key.kind {
            let value = entry.value.replace('\\', "\\\\").replace('"', "\\\"");
            config.push_str(&format!(" {name}=\"{value}\""));
        }
    }
    config.push(';');
    Some((*enabled, config))
}

/// Spring's `kafka.properties` are common to producers, consumers and admin
/// clients (a Confluent Cloud snippet puts `session.timeout.ms` there): a key
/// there that no producer has, and that is not a typo of a producer's, is left
/// to the other clients, with a warning, as the Java producer warns of a
/// config it does not know. In a producer's own `properties` it stays an
/// error.
fn leave_other_clients_keys(java: &mut Vec<(&RawValue, Scope, String)>) {
    java.retain(|(entry, scope, name)| {
        let for_others = *scope == Scope::Common
            && !kafka_core::config::keys::is_producer_key(name)
            && kafka_core::config::keys::closest_producer_key(name).is_none()
            && !is_template_key(name);
        if for_others {
            tracing::warn!(
                key = %entry.written,
                origin = %entry.origin,
                "'{}' (from {}) is not a producer config: left to the consumers and admin \
                 clients the shared properties are also for",
                entry.written,
                entry.origin
            );
        }
        !for_others
    });
}

/// The Java properties naming files (TLS stores). A Spring `*-location` key
/// holds a resource: a bare or `classpath:` path there is Spring's class
/// path, which has no counterpart here but the configuration's own
/// directory (where `application.yml` sits in `src/main/resources`), so it
/// is taken relative to the file that wrote it; a `file:` path is relative to
/// the working directory, as Spring's `file:` resources are. A raw Java
/// property (`properties.ssl.truststore.location`) and any value from
/// elsewhere (environment, overrides) is a plain path, as the Java client
/// opens it: relative to the working directory.
const FILE_LOCATIONS: &[&str] = &[
    "ssl.truststore.location",
    "ssl.keystore.location",
    "schema.registry.ssl.truststore.location",
    "schema.registry.ssl.keystore.location",
];

fn store_location(java_name: &str, value: &str, origin: &Origin, spring_key: bool) -> String {
    if !FILE_LOCATIONS.contains(&java_name) {
        return value.to_owned();
    }
    let path = value.trim();
    if !spring_key {
        return path.to_owned();
    }
    if let Some(in_working_dir) = path.strip_prefix("file:") {
        return in_working_dir.to_owned();
    }
    let path = path.strip_prefix("classpath:").unwrap_or(path);
    match origin {
        Origin::File { path: file, .. } if !path.is_empty() && Path::new(path).is_relative() => {
            file.parent()
                .map_or_else(|| PathBuf::from(path), |dir| dir.join(path))
                .display()
                .to_string()
        }
        _ => path.to_owned(),
    }
}

fn remember_name(scope: &Scope, entry: &RawValue, names: &mut BTreeMap<String, String>) {
    if let Scope::Producer(Some(id)) | Scope::Template(Some(id)) = scope {
        // kafka.producers.<name>...: the name is the third segment.
        if let Some(name) = entry.key.names.get(2) {
            names.entry(id.clone()).or_insert_with(|| name.clone());
        }
    }
}

/// Spring Boot's connection details (`KafkaConnectionDetails`): the producer's
/// `bootstrap-servers` (else the common one) and `security.protocol` are put
/// back over a `properties.bootstrap.servers` / `security.protocol`, as
/// `KafkaAutoConfiguration` puts them after the properties. Only when written
/// (the built-in `localhost:9092` default does not displace a property: Spring
/// would, and connect to localhost), with a warning that the property is
/// ignored, as it is in Spring.
fn connection_details(
    settings: &[(&RawValue, Scope, Setting, String)],
    producer_scope: &Scope,
    properties: &mut Vec<(ResolvedProperty, Provenance)>,
) {
    for setting in [Setting::BootstrapServers, Setting::SecurityProtocol] {
        let Some(java_name) = setting.java_name() else {
            continue;
        };
        let written = [producer_scope, &Scope::Common]
            .into_iter()
            .find_map(|scope| {
                settings.iter().find(|(entry, s, kind, _)| {
                    s == scope && *kind == setting && entry.origin != Origin::Default
                })
            });
        let Some((entry, _, _, converted)) = written else {
            continue;
        };
        // What the properties hold for it now: the setting itself (nothing
        // to do), or a property put after it.
        let Some((property, provenance)) = properties.iter().find(|(p, _)| p.key == java_name)
        else {
            continue;
        };
        if property.config_key == entry.key.display() {
            continue;
        }
        tracing::warn!(
            key = %provenance.written_key,
            origin = %property.origin,
            "ignored, as Spring Boot ignores it: {} (from {}) wins over a `{java_name}` property",
            entry.written,
            entry.origin
        );
        put(properties, java_name, converted, entry);
    }
}

/// Sets (or replaces, keeping the place) a Java property.
fn put(
    properties: &mut Vec<(ResolvedProperty, Provenance)>,
    java_name: &str,
    value: &str,
    entry: &RawValue,
) {
    let property = ResolvedProperty {
        key: java_name.to_owned(),
        value: store_location(
            java_name,
            value,
            &entry.origin,
            matches!(entry.key.kind, KeyKind::Setting { .. }) || is_ssl_bundle_key(entry),
        ),
        origin: entry.origin.clone(),
        config_key: entry.key.display(),
    };
    let provenance = Provenance {
        written_key: entry.written.clone(),
        written_value: entry.value.clone(),
    };
    match properties.iter_mut().find(|(p, _)| p.key == java_name) {
        Some(slot) => *slot = (property, provenance),
        None => properties.push((property, provenance)),
    }
}

/// The Java property a transaction id prefix becomes: each producer of a
/// transactional template's pool gets `transactional.id` = prefix + n.
pub(crate) const TRANSACTIONAL_ID: &str = "transactional.id";

/// The `transaction-id-prefix` entries of a producer: the template's and
/// the producer's own (each when set and not blank).
#[derive(Clone, Copy, Default)]
struct PrefixEntries<'a> {
    template: Option<&'a RawValue>,
    producer: Option<&'a RawValue>,
}

/// The template settings of producer `id`, and its `transaction-id-prefix`
/// entries.
fn template_settings<'a>(
    settings: &[(&'a RawValue, Scope, Setting, String)],
    id: Option<&String>,
) -> (TemplateSettings, PrefixEntries<'a>) {
    let find = |scope: Scope, wanted: Setting| {
        settings
            .iter()
            .find(|(_, s, setting, _)| *s == scope && *setting == wanted)
            .map(|(entry, _, _, converted)| (*entry, converted.clone()))
    };
    let own_template = Scope::Template(id.cloned());
    let shared_template = Scope::Template(None);
    // A named producer's template falls back to `kafka.template` for the topic,
    // the timeout, allow-non-transactional, observation and trace propagation,
    // but never for the transaction
    // id prefix: two producers with one prefix would fence each other.
    let inherited = |wanted: Setting| {
        find(own_template.clone(), wanted).or_else(|| find(shared_template.clone(), wanted))
    };
    let default_topic = inherited(Setting::DefaultTopic)
        .map(|(entry, _)| entry.value.clone())
        .filter(|topic| !topic.is_empty());
    let close_timeout = inherited(Setting::CloseTimeout)
        .and_then(|(entry, _)| parse_duration(&entry.value))
        .unwrap_or(DEFAULT_CLOSE_TIMEOUT);
    let flag = |wanted: Setting, default: bool| {
        inherited(wanted).map_or(default, |(_, converted)| converted == "true")
    };
    let allow_non_transactional = flag(Setting::AllowNonTransactional, false);
    let prefix_in = |scope: Scope| {
        find(scope, Setting::TransactionIdPrefix)
            .map(|(entry, _)| entry)
            .filter(|entry| !entry.value.trim().is_empty())
    };
    let prefixes = PrefixEntries {
        template: prefix_in(own_template.clone()),
        producer: prefix_in(Scope::Producer(id.cloned())),
    };
    let settings = TemplateSettings {
        default_topic,
        close_timeout,
        // Decided with the producer's properties (see below).
        transaction_id_prefix: None,
        allow_non_transactional,
        observation_enabled: flag(Setting::ObservationEnabled, false),
        micrometer_enabled: flag(Setting::MicrometerEnabled, true),
        trace_propagation_enabled: flag(Setting::TracePropagationEnabled, true),
    };
    (settings, prefixes)
}

/// Spring's `DefaultKafkaProducerFactory`: a `transaction-id-prefix` becomes
/// the producer's `transactional.id` (so kafka-core judges it, and its
/// problems name the prefix's key and line: a prefix with
/// `enable.idempotence=false` is a conflict); without one, a
/// `properties.transactional.id` is taken as the prefix.
///
/// As Spring's `KafkaTemplate`, which is transactional only when its
/// producer factory is, `template.transaction-id-prefix` overrides a
/// transactional producer's prefix and alone makes nothing transactional.
fn transactional_id_from_prefix(
    template: &mut TemplateSettings,
    prefixes: PrefixEntries<'_>,
    properties: &mut Vec<(ResolvedProperty, Provenance)>,
) {
    let from_properties = properties
        .iter()
        .find(|(p, _)| p.key == TRANSACTIONAL_ID)
        .map(|(p, _)| p.value.trim().to_owned())
        .filter(|prefix| !prefix.is_empty());
    let transactional = prefixes.producer.is_some() || from_properties.is_some();
    let winner = match (prefixes.template, prefixes.producer) {
        (Some(template_entry), _) if transactional => Some(template_entry),
        (Some(template_entry), _) => {
            tracing::warn!(
                key = %template_entry.written,
                origin = %template_entry.origin,
                "{} (from {}) has no effect: the producer is not transactional (as in Spring, \
                 set spring.kafka.producer.transaction-id-prefix to run transactions)",
                template_entry.written,
                template_entry.origin
            );
            None
        }
        (None, producer_entry) => producer_entry,
    };
    template.transaction_id_prefix = match winner {
        Some(entry) => {
            let prefix = entry.value.trim().to_owned();
            put(properties, TRANSACTIONAL_ID, &prefix, entry);
            Some(prefix)
        }
        None => from_properties,
    };
}

#[cfg(test)]
mod tests {
    use super::super::keys::parse_dotted;
    use super::*;

    fn entries(pairs: &[(&str, &str)]) -> BTreeMap<Vec<String>, RawValue> {
        pairs
            .iter()
            .map(|(key, value)| {
                let key = parse_dotted(key);
                let raw = RawValue {
                    written: key.display(),
                    key,
                    value: (*value).to_owned(),
                    origin: Origin::Default,
                };
                (raw.key.path.clone(), raw)
            })
            .collect()
    }

    /// As Spring Boot, whose producer serializers (StringSerializer by
    /// default) always win over `spring.kafka.properties.*`: a serializer
    /// there takes no effect; at the producer's level it does.
    #[test]
    fn common_serializer_properties_take_no_effect() {
        let (producers, issues) = build_producers(&entries(&[
            (
                "kafka.properties.value.serializer",
                "org.apache.kafka.common.serialization.ByteArraySerializer",
            ),
            ("kafka.properties.linger.ms", "7"),
            (
                "kafka.producer.properties.key.serializer",
                "org.apache.kafka.common.serialization.ByteArraySerializer",
            ),
        ]));
        assert!(issues.is_empty(), "{issues:?}");
        let value = |key: &str| {
            producers[0]
                .properties
                .iter()
                .find(|(p, _)| p.key == key)
                .map(|(p, _)| p.value.clone())
        };
        assert_eq!(value("value.serializer"), None);
        assert_eq!(value("linger.ms").as_deref(), Some("7"));
        assert_eq!(
            value("key.serializer").as_deref(),
            Some("org.apache.kafka.common.serialization.ByteArraySerializer")
        );
    }

    /// Which template a prefix reaches, and the transactional.id it becomes.
    #[test]
    fn transaction_id_prefixes_reach_their_own_template_only() {
        let (producers, issues) = build_producers(&entries(&[
            ("kafka.template.transaction-id-prefix", "shared-tx-"),
            ("kafka.producers.bulk.linger", "5ms"),
            ("kafka.producers.audit.transaction-id-prefix", "audit-tx-"),
            ("kafka.producers.ledger.transaction-id-prefix", "ledger-tx-"),
            (
                "kafka.producers.ledger.template.transaction-id-prefix",
                "ledger-template-tx-",
            ),
        ]));
        assert!(issues.is_empty(), "{issues:?}");
        let prefix = |name: Option<&str>| {
            let id = name.map(str::to_owned);
            producers
                .iter()
                .find(|p| p.id == id)
                .and_then(|p| p.template.transaction_id_prefix.clone())
        };
        // As Spring's KafkaTemplate: its prefix alone makes nothing
        // transactional (the producer has none; a warning says so).
        assert_eq!(prefix(None), None);
        assert_eq!(prefix(Some("bulk")), None, "never inherited");
        assert_eq!(prefix(Some("audit")).as_deref(), Some("audit-tx-"));
        assert_eq!(
            prefix(Some("ledger")).as_deref(),
            Some("ledger-template-tx-"),
            "the template's own wins over its producer's"
        );
        let (producers, _) = build_producers(&entries(&[
            ("kafka.producer.transaction-id-prefix", "orders-tx-"),
            // Inherited by no named producer, and not a prefix of its own.
            ("kafka.template.transaction-id-prefix", ""),
        ]));
        assert_eq!(
            producers[0].template.transaction_id_prefix.as_deref(),
            Some("orders-tx-")
        );
        let transactional_id = producers[0]
            .properties
            .iter()
            .find(|(p, _)| p.key == TRANSACTIONAL_ID)
            .map(|(p, _)| (p.value.as_str(), p.config_key.as_str()));
        assert_eq!(
            transactional_id,
            Some(("orders-tx-", "kafka.producer.transaction-id-prefix"))
        );
    }

    #[test]
    fn a_transactional_id_property_is_the_prefix_unless_one_is_set() {
        let prefix_of = |pairs: &[(&str, &str)]| {
            let (producers, issues) = build_producers(&entries(pairs));
            assert!(issues.is_empty(), "{issues:?}");
            let setup = &producers[0];
            let property = setup
                .properties
                .iter()
                .find(|(p, _)| p.key == TRANSACTIONAL_ID)
                .map(|(p, _)| p.value.clone());
            (setup.template.transaction_id_prefix.clone(), property)
        };
        assert_eq!(
            prefix_of(&[("kafka.producer.properties.transactional.id", "tx-")]),
            (Some("tx-".into()), Some("tx-".into()))
        );
        assert_eq!(
            prefix_of(&[
                ("kafka.producer.properties.transactional.id", "ignored-"),
                ("kafka.template.transaction-id-prefix", "wins-"),
            ]),
            (Some("wins-".into()), Some("wins-".into()))
        );
        assert_eq!(prefix_of(&[("kafka.producer.linger", "5")]), (None, None));
    }

    #[test]
    fn allow_non_transactional_is_a_spring_boolean() {
        for (text, expected) in [("true", true), ("ON", true), ("no", false), ("0", false)] {
            let (producers, issues) = build_producers(&entries(&[(
                "kafka.template.allow-non-transactional",
                text,
            )]));
            assert!(issues.is_empty(), "{issues:?}");
            assert_eq!(
                producers[0].template.allow_non_transactional, expected,
                "{text}"
            );
        }
        let (_, issues) = build_producers(&entries(&[(
            "kafka.template.allow-non-transactional",
            "maybe",
        )]));
        assert_eq!(issues.len(), 1, "{issues:?}");
    }

    /// Observation is off and trace propagation on unless a key says
    /// otherwise; a named producer's template inherits `kafka.template`'s
    /// and may override them.
    #[test]
    fn observation_and_trace_propagation_are_spring_booleans_with_defaults() {
        let flags = |pairs: &[(&str, &str)]| {
            let (producers, issues) = build_producers(&entries(pairs));
            assert!(issues.is_empty(), "{issues:?}");
            producers
                .iter()
                .map(|p| {
                    (
                        p.name.clone(),
                        p.template.observation_enabled,
                        p.template.trace_propagation_enabled,
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            flags(&[("kafka.producer.linger", "5")]),
            [(None, false, true)]
        );
        assert_eq!(
            flags(&[
                ("kafka.template.observation-enabled", "on"),
                ("kafka.template.trace-propagation-enabled", "no"),
                ("kafka.producers.audit.linger", "5"),
                (
                    "kafka.producers.ledger.template.observation-enabled",
                    "false"
                ),
                (
                    "kafka.producers.ledger.template.trace-propagation-enabled",
                    "1"
                ),
            ]),
            [
                (None, true, false),
                (Some("audit".into()), true, false),
                (Some("ledger".into()), false, true),
            ]
        );
        for key in [
            "kafka.template.observation-enabled",
            "kafka.template.trace-propagation-enabled",
        ] {
            let (_, issues) = build_producers(&entries(&[(key, "sometimes")]));
            assert_eq!(issues.len(), 1, "{key}: {issues:?}");
        }
    }

    #[test]
    fn store_locations_resolve_as_spring_resources_or_java_paths() {
        let file = Origin::File {
            path: PathBuf::from("config/application.yml"),
            line: 3,
        };
        let beside_the_file = |path: &str| Path::new("config").join(path).display().to_string();
        // A Spring resource: bare or classpath: beside the file, file: in
        // the working directory.
        let spring = |value: &str, origin: &Origin| {
            store_location("ssl.truststore.location", value, origin, true)
        };
        assert_eq!(
            spring("certs/ca.p12", &file),
            beside_the_file("certs/ca.p12")
        );
        assert_eq!(
            spring("classpath:certs/ca.p12", &file),
            beside_the_file("certs/ca.p12")
        );
        assert_eq!(spring("file:certs/ca.p12", &file), "certs/ca.p12");
        assert_eq!(spring("file:/etc/kafka/me.p12", &file), "/etc/kafka/me.p12");
        let env = Origin::Env {
            var: "KAFKA_SSL_TRUST_STORE_LOCATION".into(),
        };
        assert_eq!(spring("certs/ca.p12", &env), "certs/ca.p12");
        // A raw Java property: a path as the Java client opens it.
        assert_eq!(
            store_location("ssl.truststore.location", "certs/ca.p12", &file, false),
            "certs/ca.p12"
        );
        assert_eq!(
            store_location(
                "schema.registry.ssl.truststore.location",
                "certs/sr.p12",
                &file,
                true
            ),
            beside_the_file("certs/sr.p12")
        );
        assert_eq!(
            store_location("client.id", "certs/x", &file, true),
            "certs/x"
        );
    }

    #[test]
    fn conversions_to_java_values() {
        assert_eq!(convert(Setting::BatchSize, "32MB").unwrap(), "33554432");
        assert_eq!(
            convert(Setting::BufferMemory, "1048576").unwrap(),
            "1048576"
        );
        assert_eq!(convert(Setting::Linger, "5ms").unwrap(), "5");
        assert_eq!(convert(Setting::Linger, "5").unwrap(), "5");
        assert_eq!(convert(Setting::Linger, "1s").unwrap(), "1000");
        assert_eq!(
            convert(Setting::BootstrapServers, " a:9092 , b:9092,").unwrap(),
            "a:9092,b:9092"
        );
        assert_eq!(
            convert(Setting::Acks, "fast").unwrap(),
            "fast",
            "core judges acks"
        );
        assert!(
            convert(Setting::BatchSize, "32XB")
                .unwrap_err()
                .contains("16KB")
        );
        assert!(
            convert(Setting::Linger, "500us")
                .unwrap_err()
                .contains("whole milliseconds")
        );
    }
}
