//! `schema.registry.ssl.*` in every form the Java client's `ssl.*` keys take
//! (PKCS12 / JKS-typed / PEM store files with passwords, inline PEM), against
//! the harness's HTTPS registry (`scripts/registry start --tls`); stores that
//! cannot be opened are errors naming the key, never the password.

use kafka_schema_registry::{RegistryConfig, RegistryError, Schema, SchemaRegistryClient};
use kafka_testkit::registry::{Registry, make_ca};

const V1: &str = r#"{"type":"record","name":"TlsOrder","namespace":"shop","fields":[{"name":"id","type":"long"}]}"#;

fn client(props: &[(&str, &str)]) -> Result<SchemaRegistryClient, RegistryError> {
    SchemaRegistryClient::new(RegistryConfig::from_properties(props.iter().copied()).unwrap())
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn every_store_form_reaches_the_https_registry() {
    let registry = Registry::get_tls();
    let tls = registry.tls().expect("an https registry");
    // A client certificate from a CA of the test's own (the registry does not
    // ask for one; the key store is loaded and offered all the same).
    let own = tempfile::tempdir().unwrap();
    make_ca(own.path(), "client-secret", &["client"]);
    let client_p12 = own.path().join("client.p12");
    let client_pem = own.path().join("client-with-key.pem");
    std::fs::write(
        &client_pem,
        read(&own.path().join("client.pem")) + &read(&own.path().join("client.key")),
    )
    .unwrap();
    let url = registry.url();
    let truststore = tls.truststore_p12().display().to_string();
    let ca_pem = tls.ca_pem().display().to_string();
    let client_p12 = client_p12.display().to_string();
    let client_pem = client_pem.display().to_string();
    let ca_text = read(&tls.ca_pem());
    let chain_text = read(&own.path().join("client.pem"));
    let key_text = read(&own.path().join("client.key"));
    let forms: Vec<Vec<(&str, &str)>> = vec![
        // PKCS12 trust and key stores, key password as Java gives it.
        vec![
            ("schema.registry.ssl.truststore.location", &truststore),
            ("schema.registry.ssl.truststore.type", "PKCS12"),
            ("schema.registry.ssl.truststore.password", tls.password()),
            ("schema.registry.ssl.keystore.location", &client_p12),
            ("schema.registry.ssl.keystore.type", "PKCS12"),
            ("schema.registry.ssl.keystore.password", "client-secret"),
            ("schema.registry.ssl.key.password", "client-secret"),
        ],
        // Java's default type JKS, which reads PKCS12 files.
        vec![
            ("schema.registry.ssl.truststore.location", &truststore),
            ("schema.registry.ssl.truststore.type", "JKS"),
            ("schema.registry.ssl.truststore.password", tls.password()),
        ],
        // PEM files.
        vec![
            ("schema.registry.ssl.truststore.location", &ca_pem),
            ("schema.registry.ssl.truststore.type", "PEM"),
            ("schema.registry.ssl.keystore.location", &client_pem),
            ("schema.registry.ssl.keystore.type", "PEM"),
        ],
        // Inline PEM.
        vec![
            ("schema.registry.ssl.truststore.certificates", &ca_text),
            (
                "schema.registry.ssl.keystore.certificate.chain",
                &chain_text,
            ),
            ("schema.registry.ssl.keystore.key", &key_text),
        ],
    ];
    let mut ids = Vec::new();
    for form in forms {
        let mut props = vec![("schema.registry.url", url)];
        props.extend(form.iter().copied());
        let c = client(&props).unwrap_or_else(|e| panic!("{form:?}: {e}"));
        ids.push(
            c.register("tls-forms-value", &Schema::avro(V1))
                .unwrap_or_else(|e| panic!("{form:?}: {e}")),
        );
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");

    // The key store with a wrong password: the key named, no password shown.
    let err = client(&[
        ("schema.registry.url", url),
        ("schema.registry.ssl.truststore.location", &truststore),
        ("schema.registry.ssl.truststore.password", tls.password()),
        ("schema.registry.ssl.keystore.location", &client_p12),
        ("schema.registry.ssl.keystore.password", "wrong-secret"),
    ])
    .expect_err("a key store that does not open");
    let message = err.to_string();
    assert!(
        message.starts_with("schema.registry.ssl.keystore.location"),
        "{message}"
    );
    assert!(message.contains("wrong password"), "{message}");
    assert!(!message.contains("wrong-secret") && !format!("{err:?}").contains("wrong-secret"));

    // No trust store: the Mozilla roots do not trust the harness CA.
    let err = client(&[("schema.registry.url", url)])
        .unwrap()
        .register("tls-forms-value", &Schema::avro(V1))
        .expect_err("an untrusted registry");
    assert!(
        matches!(err, RegistryError::TlsHandshake { ref url, .. } if url == registry.url()),
        "{err:?}"
    );
}
