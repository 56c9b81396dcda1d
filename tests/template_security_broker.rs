//! KafkaTemplate configured the Spring Boot way for a secured cluster:
//! `spring.kafka.security.protocol`, `spring.kafka.ssl.*` with a store location
//! relative to application.yml, `sasl.*` under `properties`, secrets from
//! `${ENV}` placeholders and hidden by `describe()`. Against a broker of its own
//! (`scripts/kafka start --security`), read back by Kafka's own Java consumer
//! through the same SASL_SSL listener.

use kafka_template::core::ProducerRecord;
use kafka_template::{KafkaConfig, KafkaTemplate};
use kafka_testkit::Cluster;

const TRUSTSTORE_PASSWORD: &str = "harness-tls-secret";
const SCRAM_PASSWORD: &str = "alice-secret";

/// `yaml` as `dir`'s application.yml, loaded with the secrets and `extra`
/// in the environment.
fn load(dir: &std::path::Path, yaml: &str, extra: &[(&str, &str)]) -> KafkaConfig {
    std::fs::write(dir.join("application.yml"), yaml).expect("write config");
    let mut env = vec![
        ("TRUSTSTORE_PASSWORD", TRUSTSTORE_PASSWORD),
        ("SCRAM_PASSWORD", SCRAM_PASSWORD),
    ];
    env.extend_from_slice(extra);
    KafkaConfig::builder()
        .dir(dir)
        .env_source(env)
        .load()
        .unwrap_or_else(|e| panic!("config loads: {e}"))
}

#[test]
fn spring_keys_reach_a_sasl_ssl_listener() {
    let cluster = Cluster::start_secured(1);
    let topic = cluster.create_topic("tpl-secure", 1, 1);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("certs")).expect("certs dir");
    std::fs::copy(
        cluster.tls_dir().join("truststore.p12"),
        dir.path().join("certs").join("truststore.p12"),
    )
    .expect("copy the trust store");
    let yaml = format!(
        "spring:\n\
         \x20 kafka:\n\
         \x20   bootstrap-servers: {}\n\
         \x20   security:\n\
         \x20     protocol: SASL_SSL\n\
         \x20   ssl:\n\
         \x20     trust-store-location: certs/truststore.p12\n\
         \x20     trust-store-type: PKCS12\n\
         \x20     trust-store-password: ${{TRUSTSTORE_PASSWORD}}\n\
         \x20   properties:\n\
         \x20     sasl.mechanism: SCRAM-SHA-512\n\
         \x20     sasl.jaas.config: org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"${{SCRAM_PASSWORD}}\";\n",
        cluster.listener_bootstrap("SASL_SSL")
    );
    let config = load(dir.path(), &yaml, &[]);

    let described = config.describe();
    assert!(described.contains("security.protocol"), "{described}");
    for secret in [TRUSTSTORE_PASSWORD, SCRAM_PASSWORD] {
        assert!(!described.contains(secret), "{described}");
        assert!(!format!("{config:?}").contains(secret));
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let template = KafkaTemplate::builder()
            .config(config)
            .build()
            .unwrap_or_else(|e| panic!("template: {e}"));
        for i in 0..3 {
            template
                .send(ProducerRecord::new(topic.clone(), format!("secure {i}")))
                .await
                .unwrap_or_else(|e| panic!("send {i}: {e:?}"));
        }
    });

    // Spring Boot SSL bundles naming the same trust: a JKS bundle (the
    // PKCS12 store) and a PEM bundle (the CA certificate), each chosen by
    // spring.kafka.ssl.bundle; and the JKS bundle again with its password
    // only in Spring's variable for it.
    std::fs::copy(
        cluster.tls_dir().join("ca.pem"),
        dir.path().join("certs").join("ca.pem"),
    )
    .expect("copy the CA certificate");
    let password_var = [(
        "SPRING_SSL_BUNDLE_JKS_KAFKA_TRUSTSTORE_PASSWORD",
        TRUSTSTORE_PASSWORD,
    )];
    for (bundle, lines, env) in [
        (
            "jks",
            "      jks:\n        kafka:\n          truststore:\n            location: certs/truststore.p12\n            type: PKCS12\n            password: ${TRUSTSTORE_PASSWORD}\n",
            &[][..],
        ),
        (
            "pem",
            "      pem:\n        kafka:\n          truststore:\n            certificate: certs/ca.pem\n",
            &[],
        ),
        (
            "jks-env",
            "      jks:\n        kafka:\n          truststore:\n            location: certs/truststore.p12\n            type: PKCS12\n",
            &password_var,
        ),
    ] {
        let yaml = format!(
            "spring:\n  ssl:\n    bundle:\n{lines}  kafka:\n    bootstrap-servers: {}\n    security:\n      protocol: SASL_SSL\n    ssl:\n      bundle: kafka\n    properties:\n      sasl.mechanism: SCRAM-SHA-512\n      sasl.jaas.config: org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"${{SCRAM_PASSWORD}}\";\n",
            cluster.listener_bootstrap("SASL_SSL")
        );
        let config = load(dir.path(), &yaml, env);
        assert!(!config.describe().contains(TRUSTSTORE_PASSWORD));
        runtime.block_on(async {
            let template = KafkaTemplate::builder()
                .config(config)
                .build()
                .unwrap_or_else(|e| panic!("template: {e}"));
            template
                .send(ProducerRecord::new(
                    topic.clone(),
                    format!("{bundle} bundle"),
                ))
                .await
                .unwrap_or_else(|e| panic!("send through the {bundle} bundle: {e:?}"));
        });
    }

    let records = cluster.read_all_through(&topic, 6, "SASL_SSL", Some("SCRAM-SHA-512"));
    let values: Vec<String> = records.iter().filter_map(|r| r.value_str()).collect();
    assert_eq!(
        values,
        [
            "secure 0",
            "secure 1",
            "secure 2",
            "jks bundle",
            "pem bundle",
            "jks-env bundle"
        ]
    );
}
