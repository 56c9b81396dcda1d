//! Spring Boot style layered YAML configuration for producers and templates.
//!
//! # Sources and precedence
//!
//! From lowest to highest; a higher source wins key by key:
//!
//! 1. built-in defaults (`kafka.bootstrap-servers: localhost:9092` as in Spring
//!    Boot, `kafka.template.close-timeout: 30s`);
//! 2. `application.yaml`, then `application.yml`, then `application.properties`
//!    (Java's properties syntax, read as ISO-8859-1, `#---` between documents,
//!    `key[0]`, `key[1]` as a list), in each search directory: as in Spring
//!    Boot, `.properties` wins over `.yml`, which wins over `.yaml`;
//! 3. `application-{profile}` files with the same extensions for each active
//!    profile, in profile order (the last profile wins), in each search
//!    directory;
//! 4. environment variables (`KAFKA_PRODUCER_BATCH_SIZE` or
//!    `SPRING_KAFKA_PRODUCER_BATCH_SIZE` sets `kafka.producer.batch-size`; a
//!    list also in Spring's indexed form, `SPRING_KAFKA_BOOTSTRAPSERVERS_0`,
//!    `_1`, ...);
//! 5. `SPRING_APPLICATION_JSON`: one JSON object of settings in a variable,
//!    as Spring Boot reads it (nested objects are dotted keys, a list of
//!    scalars a comma-separated value, a list of objects indexed keys); it
//!    may name the profiles too (its `spring.profiles.active` above
//!    `SPRING_PROFILES_ACTIVE`, as Spring ranks it), and the config
//!    locations, base names and imports (its `spring.config.location`,
//!    `.additional-location`, `.name` and `.import` above the
//!    `SPRING_CONFIG_*` variables, below the same keys given to
//!    [`KafkaConfigBuilder::override_value`], read before any file as Spring
//!    reads them, as written: `${...}` in them is not resolved; wherever the
//!    variables are named below, these keys in the JSON or an override act
//!    the same and win over them);
//! 6. [`KafkaConfigBuilder::override_value`].
//!
//! Search directories are the working directory, then `config/`, then the
//! directories right under `config/` in name order (as in Spring, each later
//! one wins), replaced by the comma-separated `KAFKA_CONFIG_LOCATION` or by
//! [`KafkaConfigBuilder::dir`]; without either, Spring's
//! `SPRING_CONFIG_LOCATION` replaces them and
//! `SPRING_CONFIG_ADDITIONALLOCATION` (or `SPRING_CONFIG_ADDITIONAL_LOCATION`)
//! adds to them (directories, or files with their `-{profile}` variants;
//! `optional:` and `file:` prefixes as in Spring); `SPRING_CONFIG_IMPORT`
//! reads its files (and their `-{profile}` variants) above all of these,
//! whatever the locations. `SPRING_CONFIG_NAME` (comma-separated) names the
//! files' base names in place of `application` (a later name wins), as
//! Spring's `spring.config.name`. As in Spring, the default places are one location
//! group, and each `,`-separated entry of those variables another (`;`
//! joins locations into one group): a group is read whole (its base files,
//! then its profile files) and wins over the groups before it, so an
//! additional location's `application.yml` wins over the default places'
//! `application-prod.yml`. A document's
//! `spring.config.import` reads more files after it, which override it
//! (later imports win; a file is imported once, where first named;
//! `${...}` in it is resolved from the environment, as in
//! `on-profile`): a bare path is relative to the importing file,
//! `file:` to the working directory, `optional:` may be missing;
//! `configtree:<dir>/` reads a directory of files as Spring's config trees
//! (a file's name is its key, its content the value: a Kubernetes Secret
//! mounted as files); a `configserver:`, `vault:` or other source is not
//! read here (a warning when optional, else an error). When no `application.properties`, `.yml` or
//! `.yaml` exists in any of them, a `tracing` warning names every path searched, and the
//! configuration comes from the environment and the defaults. Inside a file,
//! the documents separated by `---` apply in order, later ones overriding
//! earlier ones; a document with `spring.config.activate.on-profile` (or
//! `kafka.config.activate.on-profile`) applies only when its profile
//! expression (`prod`, `!prod`, `prod & eu`, `dev | test`, `a, b`) matches the
//! active profiles; one with `spring.config.activate.on-cloud-platform`
//! (`kubernetes`, `cloud_foundry`, `heroku`, `sap`, `nomad`,
//! `azure_app_service`, `none`) only on that platform, detected from the
//! environment as Spring Boot detects it (`KUBERNETES_SERVICE_HOST` and
//! `_PORT`, `VCAP_APPLICATION`, `AWS_EXECUTION_ENV`, ...) unless
//! `spring.main.cloud-platform` names it: in a builder override, in
//! `SPRING_APPLICATION_JSON`, as `SPRING_MAIN_CLOUDPLATFORM` (or
//! `SPRING_MAIN_CLOUD_PLATFORM`), or else in a file's document without a
//! condition, the first of these that sets it (a name Spring does not know
//! enforces nothing, as in Spring: set above the files no platform is then
//! active, in a file the platform is detected; a warning says so).
//!
//! # Profiles
//!
//! As in Spring Boot 2.4 and later, with `spring.profiles.*` and our
//! `kafka.profiles.*` read alike, and `KAFKA_PROFILES_*` winning over
//! `SPRING_PROFILES_*` variables:
//!
//! - `profiles.active`: [`KafkaConfigBuilder::profiles`], else
//!   `SPRING_APPLICATION_JSON`'s, else
//!   `KAFKA_PROFILES_ACTIVE`, else `SPRING_PROFILES_ACTIVE` (comma lists), else
//!   the last `profiles.active` of the ungated documents of `application.yml`
//!   (its placeholders resolved from those documents and the environment, as
//!   in `${APP_ENV:local}`).
//! - `profiles.include` adds profiles before the active ones (which thus
//!   override them), whichever way those were chosen: from
//!   `KAFKA_PROFILES_INCLUDE` (or Spring's), then `SPRING_APPLICATION_JSON`,
//!   then every ungated document of
//!   `application.yml`, the highest-precedence one first.
//! - `profiles.group.<name>` (`production: [proddb, prodmq]`, or
//!   `KAFKA_PROFILES_GROUP_PRODUCTION`) puts its members right after `<name>`
//!   wherever it is active, recursively, each profile once.
//! - `profiles.default` (`default` when not set) applies only when no profile
//!   is active or included.
//!
//! [`KafkaConfig::profiles`] lists the result, in increasing precedence: the
//! profile files are read in that order, the last one winning. Profiles are
//! chosen before profile-specific files and gated documents are read, so
//! `active`, `include` or `default` there is an error, as Spring Boot's
//! `InvalidConfigDataPropertyException` is; a group there is one too (Spring
//! would ignore it), and so is Spring Boot 2.3's `spring.profiles` gate (which
//! Spring only warns about, applying the document to every profile).
//!
//! # Keys
//!
//! Keys mirror Spring Boot's `spring.kafka.*` under a `kafka:` root (a
//! `spring.kafka:` root is read the same): `bootstrap-servers`, `client-id`,
//! `properties.*` (Java client names, dotted keys intact), `security.protocol`,
//! `ssl.*`, `producer.{acks, batch-size, bootstrap-servers, buffer-memory,
//! client-id, compression-type, key-serializer, value-serializer, retries,
//! linger, transaction-id-prefix, properties.*, security.*, ssl.*}`,
//! `template.{default-topic, close-timeout, transaction-id-prefix,
//! allow-non-transactional, observation-enabled, micrometer-enabled,
//! trace-propagation-enabled}`,
//! `topics.*`
//! (names for placeholders), named producers `producers.<name>.*` with the
//! producer keys plus their own `template.*`, and `profiles.*` (above). Names
//! are relaxed: `batch-size`, `batchSize` and `batch_size` are one key. Sizes
//! take `32MB`, `16KB` or bytes; durations take `5ms`, `1s`, `2m`, ISO-8601, or
//! a number of milliseconds. Spring sections a producer does not use
//! (`consumer`, `admin`, `listener`, `streams`, `retry`) are accepted and kept
//! for lookups, but no producer reads them; any other unknown key under `kafka`
//! is an error with a "did you mean". Keys outside the root are the
//! application's: they are kept for [`KafkaConfig::lookup`] and placeholders,
//! except a root one typo away from ours with keys of ours under it (`kafak:`,
//! `spring.kafak:`, `sprng.kafka:`, or a variable `KAFAK_PRODUCER_ACKS`),
//! which is an error with a "did you mean" rather than settings nobody reads.
//!
//! `producer.transaction-id-prefix` makes a template transactional, as in
//! Spring, and without it a `properties.transactional.id` is taken as the
//! prefix (Spring's `DefaultKafkaProducerFactory`); the template's own
//! (`template.transaction-id-prefix`) overrides either, and alone makes
//! nothing transactional (Spring's `KafkaTemplate` is transactional only when
//! its producer factory is; a warning says so). The prefix is the
//! producer's `transactional.id` for validation (a prefix with
//! `enable.idempotence=false` is an error at the prefix's line), and the
//! template's pool gives its producers prefix + 0, 1, 2, ...
//! `template.allow-non-transactional` (a boolean: `true`/`false`, `on`/`off`,
//! `yes`/`no`, `1`/`0`) lets a transactional template send outside
//! transactions too.
//! `template.observation-enabled` (a boolean, default `false`, Spring's key)
//! gives every send a span, and `template.trace-propagation-enabled` (a
//! boolean, default `true`) writes the W3C trace context into every record's
//! headers; see [the crate's Tracing section](crate#tracing).
//! Java class names cannot be loaded: `interceptor.classes` and
//! `partitioner.class` are errors pointing at
//! `KafkaTemplate::builder().interceptor(...)` and `.partitioner(...)`.
//!
//! A producer's Java properties merge as in Spring: common settings, then
//! `kafka.properties.*`, then the producer's settings, then its
//! `properties.*`. A named producer inherits the common settings (not
//! `kafka.producer`'s); its template inherits `kafka.template`'s default topic,
//! close timeout, `allow-non-transactional`, `observation-enabled`,
//! `micrometer-enabled` and `trace-propagation-enabled`, not its transaction
//! id prefix.
//!
//! `${key}` and `${key:default}` placeholders work in any value of any source and
//! may nest; a key is looked up (relaxed) in the merged configuration, then in
//! the environment (`${app.topics.orders}` reads `APP_TOPICS_ORDERS`, `${BROKERS}`
//! reads `BROKERS`). `\${` is a literal `${`. As Spring resolves lazily, a
//! placeholder that cannot be resolved in one of the application's own keys
//! (outside `kafka`) leaves that key unset, with a warning, rather than stop
//! the load; a Kafka key that uses it is an error, named there.
//!
//! Everything is validated when the configuration loads: each producer's Java
//! properties go through `kafka_core::config::ProducerConfig::check_properties`,
//! and every error names the key as written (`spring.kafka.` or `kafka.`, as in
//! the file or variable), the value, its origin (file and line, or the
//! variable) and what is allowed; all errors are reported, not only the first.
//! A key of the shared `kafka.properties` (`spring.kafka.properties`) that no
//! producer has and that is not a typo of one (`session.timeout.ms`,
//! `group.id`: Spring shares them with consumers and admin clients) is left out
//! with a warning instead, as the Java producer warns.
//! [`ConfigLoadError`]'s `Debug` is its message, so `main` returning it prints
//! it readably. Secret values (keys containing `password`, `secret`, `jaas`,
//! `token` or `sasl.`) are shown as `[hidden]`.
//!
//! # What the `config` crate does here, and where it is worked around
//!
//! `config` is the merge engine: each source becomes a `config::Source` added
//! in precedence order, and its deep merge picks the winning value of each key
//! (see `merge.rs`). It falls short in four places, each worked around and
//! tested in `tests/config_crate_gaps.rs`:
//!
//! - **Multi-document YAML**: its YAML format rejects a file with more than one
//!   document, and records no line numbers. Files are read with `yaml-rust2`'s
//!   marked event parser instead (`yaml.rs`), one layer per active document.
//! - **Dotted Java keys**: its path syntax splits `enable.idempotence` into
//!   `enable` → `idempotence`. Keys are normalised before the merge and a Java
//!   name is handed over as one table key, which its merge keeps whole.
//! - **Environment keys**: its `Environment` source lowercases names, maps every
//!   `_` to `.` (`batch.size`, not `batch-size`) and records only "the
//!   environment" as origin. Variables are read against the schema instead
//!   (`env.rs`), keeping the variable name as the origin.
//! - **Relaxed names**: it compares keys exactly, so `batchSize` in a file and
//!   `batchsize` from its lowercased environment would be two keys. Keys are
//!   relaxed before they reach it.

mod configtree;
mod env;
mod error;
mod json;
mod keys;
mod load;
mod merge;
mod origin;
mod placeholder;
mod producers;
mod profiles;
mod properties;
mod resolve;
mod schema;
mod units;
mod validate;
mod yaml;

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

pub use error::{ConfigIssue, ConfigLoadError, HIDDEN, is_secret_key};
pub use load::KafkaConfigBuilder;
pub use origin::Origin;
pub(crate) use producers::TRANSACTIONAL_ID;
pub use producers::{DEFAULT_CLOSE_TIMEOUT, ResolvedProperty, TemplateSettings};

use env::find_var_for;
use keys::{KeyKind, parse_dotted, relaxed};
use merge::RawValue;
use placeholder::PlaceholderError;
use producers::ProducerSetup;
use resolve::Resolver;

/// The loaded, merged, resolved and validated configuration.
///
/// ```
/// use kafka_template::config::{KafkaConfig, Origin};
///
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(
///     dir.path().join("application.yml"),
///     "kafka:\n  producer:\n    acks: all\n  topics:\n    orders: orders-v1\n",
/// )
/// .unwrap();
/// let config = KafkaConfig::builder()
///     .dir(dir.path())
///     .env_source([("KAFKA_PRODUCER_BATCH_SIZE", "64KB")])
///     .load()
///     .unwrap();
/// assert_eq!(config.profiles(), ["default"]);
/// let props = config.producer_properties(None).unwrap();
/// let batch = props.iter().find(|p| p.key == "batch.size").unwrap();
/// assert_eq!(batch.value, "65536");
/// assert_eq!(batch.origin, Origin::Env { var: "KAFKA_PRODUCER_BATCH_SIZE".into() });
/// assert_eq!(
///     config.resolve_placeholders("${kafka.topics.orders}").unwrap(),
///     "orders-v1"
/// );
/// ```
#[derive(Clone)]
pub struct KafkaConfig {
    profiles: Vec<String>,
    /// Every key's final value, by identity path.
    entries: BTreeMap<Vec<String>, RawValue>,
    /// The environment read at load, for `${VAR}` placeholders.
    env: BTreeMap<String, String>,
    /// The default producer first, then named ones by name.
    producers: Vec<ProducerSetup>,
}

impl KafkaConfig {
    /// Loads from the default locations, profiles and the process environment;
    /// see the [module docs](self).
    pub fn load() -> Result<Self, ConfigLoadError> {
        Self::builder().load()
    }

    /// A builder to choose directories, profiles, overrides or the environment.
    pub fn builder() -> KafkaConfigBuilder {
        KafkaConfigBuilder::default()
    }

    /// The active profiles in increasing precedence, included and group
    /// profiles in their places (see [Profiles](self#profiles)); the default
    /// profiles (`["default"]`) when none is active.
    pub fn profiles(&self) -> &[String] {
        &self.profiles
    }

    /// The named producers (`kafka.producers.<name>`), as written, sorted.
    pub fn producer_names(&self) -> Vec<&str> {
        self.producers
            .iter()
            .filter_map(|p| p.name.as_deref())
            .collect()
    }

    /// The Java client properties of the default producer (`None`) or of a named
    /// one, sorted by name, each with its origin: common settings, then
    /// `kafka.properties.*`, then the producer's settings, then its
    /// `properties.*` (later wins). Only configured values are listed; the
    /// producer applies its own defaults to the rest.
    pub fn producer_properties(
        &self,
        producer: Option<&str>,
    ) -> Result<Vec<ResolvedProperty>, ConfigLoadError> {
        Ok(self
            .producer(producer)?
            .properties
            .iter()
            .map(|(property, _)| property.clone())
            .collect())
    }

    /// The key as the user wrote it (`spring.kafka.bootstrap-servers`) that
    /// set a producer's Java property, for messages about its value.
    pub(crate) fn written_key(&self, producer: Option<&str>, java_key: &str) -> Option<String> {
        self.producer(producer)
            .ok()?
            .properties
            .iter()
            .find(|(property, _)| property.key == java_key)
            .map(|(_, provenance)| provenance.written_key.clone())
    }

    /// The template settings of the default producer (`None`) or of a named one.
    pub fn template_settings(
        &self,
        producer: Option<&str>,
    ) -> Result<TemplateSettings, ConfigLoadError> {
        Ok(self.producer(producer)?.template.clone())
    }

    fn producer(&self, name: Option<&str>) -> Result<&ProducerSetup, ConfigLoadError> {
        let wanted = name.map(relaxed);
        self.producers
            .iter()
            .find(|p| p.id == wanted)
            .ok_or_else(|| {
                ConfigIssue::UnknownProducer {
                    name: name.unwrap_or_default().to_owned(),
                    known: self
                        .producer_names()
                        .iter()
                        .map(|n| n.to_string())
                        .collect(),
                }
                .into()
            })
    }

    /// The final value of a key, any spelling (`kafka.producer.batchSize`,
    /// `app.topics.orders`), as configured (before unit conversion); for keys
    /// outside `kafka`, an environment variable named the Spring way also counts.
    pub fn lookup(&self, key: &str) -> Option<&str> {
        let key = parse_dotted(key);
        if let Some(entry) = self.entries.get(&key.path) {
            return Some(&entry.value);
        }
        find_var_for(&key, &self.env).map(|(_, value)| value)
    }

    /// Where the final value of a key came from.
    pub fn origin(&self, key: &str) -> Option<&Origin> {
        let key = parse_dotted(key);
        self.entries.get(&key.path).map(|entry| &entry.origin)
    }

    /// Replaces `${key}` and `${key:default}` placeholders in `text` with
    /// configuration values (for topic names derived at runtime, e.g.
    /// `${app.topics.orders:orders}`).
    pub fn resolve_placeholders(&self, text: &str) -> Result<String, ConfigLoadError> {
        Resolver::over_resolved(&self.entries, &self.env)
            .resolve_text(text)
            .map_err(|error| {
                let reason = match error {
                    PlaceholderError::Unresolvable { name } => format!(
                        "no value for '${{{name}}}'; set {name} or give a default as ${{{name}:default}}"
                    ),
                    PlaceholderError::Cycle { chain } => {
                        format!("placeholder cycle: {}", chain.join(" -> "))
                    }
                    PlaceholderError::Unclosed => "a '${' has no matching '}'".to_owned(),
                    PlaceholderError::Upstream => "a referenced value failed".to_owned(),
                };
                ConfigIssue::TextPlaceholder {
                    text: text.to_owned(),
                    reason,
                }
                .into()
            })
    }

    /// The resolved configuration, one line per value with its origin, secrets
    /// shown as `[hidden]`: every `kafka.*` key a producer or template uses, then
    /// each producer's merged Java properties.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# active profiles: {}", self.profiles.join(", "));
        for entry in self.entries.values() {
            if matches!(entry.key.kind, KeyKind::Other | KeyKind::Ignored) {
                continue;
            }
            let key = entry.key.display();
            let _ = writeln!(
                out,
                "{key} = {}  ({})",
                error::shown_value(&key, &entry.value),
                entry.origin
            );
        }
        for producer in &self.producers {
            let _ = writeln!(out, "# {} properties", producer.label());
            for (property, _) in &producer.properties {
                // Secrets hidden, and credentials in a URL (a registry's
                // `https://user:password@host`) cut out.
                let shown = if is_secret_key(&property.config_key) {
                    HIDDEN.to_owned()
                } else {
                    error::shown_value(&property.key, &property.value)
                };
                let _ = writeln!(
                    out,
                    "{} = {shown}  ({}, {})",
                    property.key, property.config_key, property.origin
                );
            }
        }
        out
    }
}

impl fmt::Debug for KafkaConfig {
    // Shows what describe() shows: secrets hidden, the environment left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaConfig")
            .field("profiles", &self.profiles)
            .field("describe", &self.describe())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use producers::Provenance;

    /// The configuration is built directly (without files to load) to check how
    /// secrets are shown.
    #[test]
    fn secrets_are_hidden_in_describe_and_debug() {
        let secret_keys = [
            "kafka.properties.sasl.jaas.config",
            "kafka.properties.sasl.oauthbearer.client.credentials.client.secret",
            "kafka.ssl.key-store-password",
            "kafka.topics.client-secret",
            "kafka.topics.api-token",
        ];
        let entries = secret_keys
            .iter()
            .map(|key| {
                let key = parse_dotted(key);
                let value = RawValue {
                    written: key.display(),
                    key,
                    value: "s3cr3t".to_owned(),
                    origin: Origin::Default,
                };
                (value.key.path.clone(), value)
            })
            .collect();
        let property = ResolvedProperty {
            key: "sasl.jaas.config".to_owned(),
            value: "s3cr3t".to_owned(),
            origin: Origin::Default,
            config_key: "kafka.properties.sasl.jaas.config".to_owned(),
        };
        let config = KafkaConfig {
            profiles: vec!["default".to_owned()],
            entries,
            env: BTreeMap::new(),
            producers: vec![ProducerSetup {
                id: None,
                name: None,
                properties: vec![(
                    property.clone(),
                    Provenance {
                        written_key: property.config_key.clone(),
                        written_value: property.value.clone(),
                    },
                )],
                template: TemplateSettings::default(),
            }],
        };
        let described = config.describe();
        assert!(!described.contains("s3cr3t"), "{described}");
        assert_eq!(described.matches("[hidden]").count(), 6, "{described}");
        assert!(!format!("{config:?}").contains("s3cr3t"));
        assert!(!format!("{property:?}").contains("s3cr3t"));
    }

    #[test]
    fn secret_key_names() {
        for key in [
            "kafka.ssl.key-password",
            "sasl.jaas.config",
            "kafka.properties.sasl.oauthbearer.client.credentials.client.secret",
            "kafka.properties[sasl.oauthbearer.assertion.private.key.passphrase]",
            "app.db.PASSWORD",
            "kafka.topics.api-token",
            "client.secret",
            // Relaxed spellings of a PEM private key's key.
            "spring.kafka.ssl.keyStoreKey",
            "spring.kafka.ssl.key_store_key",
            "SPRING_KAFKA_SSL_KEYSTOREKEY",
            "spring.kafka.producer.ssl.keyStoreCertificateChain",
            "basic.auth.userInfo",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "kafka.producer.acks",
            "bootstrap.servers",
            "kafka.client-id",
            // Not secrets (Java logs them): an error about them shows the value.
            "kafka.properties.sasl.mechanism",
            "kafka.properties[sasl.login.refresh.window.factor]",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }
}
