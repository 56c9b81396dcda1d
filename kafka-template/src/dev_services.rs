//! Dev services, as Quarkus has them: in the `dev` profile, when no
//! `kafka.bootstrap-servers` is configured (anywhere: file, environment,
//! `kafka.properties`, the producer's own) and `kafka.dev-services.enabled` is
//! not `false`, the template starts a local Kafka broker through
//! `kafka-template-test`, logs its address, creates the topics of the
//! registered record types and stops the broker when it closes. Needs Java (the
//! broker is Apache Kafka's own); without it the build fails saying so.
//!
//! On with the `dev-services` feature (a default one, as Quarkus users expect
//! dev services without asking); `default-features = false` leaves the test
//! kit out of a production build.

use crate::config::{KafkaConfig, Origin, ResolvedProperty};
use crate::template::TemplateError;

/// The broker dev services started.
#[cfg(feature = "dev-services")]
pub(crate) type DevBroker = kafka_template_test::EmbeddedKafka;
/// Without the feature there is never one.
#[cfg(not(feature = "dev-services"))]
pub(crate) type DevBroker = std::convert::Infallible;

/// Whether this configuration asks for dev services: the `dev` profile, no
/// bootstrap servers configured, `kafka.dev-services.enabled` not `false`.
pub(crate) fn wanted(
    config: &KafkaConfig,
    properties: &[ResolvedProperty],
) -> Result<bool, TemplateError> {
    if !config.profiles().iter().any(|p| p == "dev") {
        return Ok(false);
    }
    let enabled = match config.lookup("kafka.dev-services.enabled") {
        None => true,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            let origin = config
                .origin("kafka.dev-services.enabled")
                .map_or_else(String::new, |o| format!(" ({o})"));
            return Err(TemplateError::DevServices(format!(
                "kafka.dev-services.enabled is `{v}`{origin}; write true or false"
            )));
        }
    };
    let configured = properties
        .iter()
        .any(|p| p.key == "bootstrap.servers" && !matches!(p.origin, Origin::Default));
    Ok(enabled && !configured)
}

/// Starts the broker and points the producer's `bootstrap.servers` at it.
#[cfg(feature = "dev-services")]
pub(crate) fn start(properties: &mut [ResolvedProperty]) -> Result<DevBroker, TemplateError> {
    let broker = kafka_template_test::EmbeddedKafka::start().map_err(|e| {
        TemplateError::DevServices(format!(
            "the dev profile has no kafka.bootstrap-servers, so dev services start a local \
             Kafka broker, which failed: {e}. Configure kafka.bootstrap-servers, or set \
             kafka.dev-services.enabled: false"
        ))
    })?;
    tracing::info!(
        bootstrap_servers = broker.bootstrap_servers(),
        pid = broker.pid().unwrap_or_default(),
        log = %broker.log_file().display(),
        "dev services: started a local Kafka broker (dev profile, no kafka.bootstrap-servers); \
         it stops when the template closes"
    );
    for p in properties
        .iter_mut()
        .filter(|p| p.key == "bootstrap.servers")
    {
        p.value = broker.bootstrap_servers().to_owned();
    }
    Ok(broker)
}

/// Without the feature: says how to get dev services, or to configure a broker.
#[cfg(not(feature = "dev-services"))]
pub(crate) fn start(_: &mut [ResolvedProperty]) -> Result<DevBroker, TemplateError> {
    Err(TemplateError::DevServices(
        "the dev profile has no kafka.bootstrap-servers, and kafka-template was built \
         without its `dev-services` feature to start a local broker: configure \
         kafka.bootstrap-servers, enable the feature, or set kafka.dev-services.enabled: false"
            .to_owned(),
    ))
}

/// Creates the registered record types' topics on the dev broker.
#[cfg(feature = "dev-services")]
pub(crate) fn create_topics<'a>(
    broker: &DevBroker,
    topics: impl IntoIterator<Item = &'a str>,
) -> Result<(), TemplateError> {
    let mut done = std::collections::BTreeSet::new();
    for topic in topics {
        if done.insert(topic) {
            broker.create_topic(topic, 1).map_err(|e| {
                TemplateError::DevServices(format!("creating topic {topic} failed: {e}"))
            })?;
            tracing::info!(topic, "dev services: topic created");
        }
    }
    Ok(())
}

#[cfg(not(feature = "dev-services"))]
pub(crate) fn create_topics<'a>(
    broker: &DevBroker,
    _: impl IntoIterator<Item = &'a str>,
) -> Result<(), TemplateError> {
    match *broker {}
}

/// Stops the broker (the template closed).
#[cfg(feature = "dev-services")]
pub(crate) fn stop(broker: &DevBroker) {
    broker.stop();
    tracing::info!("dev services: Kafka broker stopped");
}

#[cfg(not(feature = "dev-services"))]
pub(crate) fn stop(broker: &DevBroker) {
    match *broker {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted_with(profiles: &[&str], overrides: &[(&str, &str)]) -> Result<bool, TemplateError> {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = KafkaConfig::builder()
            .dir(dir.path())
            .profiles(profiles.iter().copied())
            .env_source(Vec::<(String, String)>::new());
        for (k, v) in overrides {
            builder = builder.override_value(*k, *v);
        }
        let config = builder.load().unwrap();
        let properties = config.producer_properties(None).unwrap();
        wanted(&config, &properties)
    }

    #[test]
    fn only_the_dev_profile_without_bootstrap_servers_wants_a_broker() {
        assert!(wanted_with(&["dev"], &[]).unwrap());
        assert!(!wanted_with(&[], &[]).unwrap());
        assert!(!wanted_with(&["prod"], &[]).unwrap());
        assert!(!wanted_with(&["dev"], &[("kafka.bootstrap-servers", "b:9092")]).unwrap());
        assert!(!wanted_with(&["dev"], &[("kafka.producer.bootstrap-servers", "b:9092")]).unwrap());
        assert!(
            !wanted_with(
                &["dev"],
                &[("kafka.properties[bootstrap.servers]", "b:9092")]
            )
            .unwrap()
        );
        assert!(!wanted_with(&["dev"], &[("kafka.dev-services.enabled", "false")]).unwrap());
        assert!(wanted_with(&["dev"], &[("kafka.dev-services.enabled", "TRUE")]).unwrap());
    }

    #[test]
    fn an_enabled_flag_that_is_no_boolean_is_an_error_naming_it() {
        let err = wanted_with(&["dev"], &[("kafka.dev-services.enabled", "yes")]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("kafka.dev-services.enabled is `yes`"),
            "{text}"
        );
        assert!(text.contains("true or false"), "{text}");
    }
}
