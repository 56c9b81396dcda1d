//! The client against a real registry: Apicurio Registry's Confluent API,
//! started by scripts/registry (kafka-testkit), and read back by an
//! independent client (curl through the testkit).

use kafka_schema_registry::{RegistryConfig, RegistryError, Schema, SchemaRegistryClient};
use kafka_testkit::registry::Registry;
use kafka_testkit::unique_name;

const V1: &str =
    r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"}]}"#;
const V2_OPTIONAL: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"note","type":["null","string"],"default":null}]}"#;
const V2_BREAKING: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"qty","type":"int"}]}"#;

#[test]
fn register_lookup_fetch_latest_and_compatibility_against_apicurio() {
    let registry = Registry::get();
    let client = SchemaRegistryClient::new(
        RegistryConfig::from_properties([("schema.registry.url", registry.url())]).unwrap(),
    )
    .unwrap();
    let subject = format!("{}-value", unique_name("orders"));
    let id1 = client.register(&subject, &Schema::avro(V1)).unwrap();
    assert_eq!(client.register(&subject, &Schema::avro(V1)).unwrap(), id1);
    let found = client.lookup(&subject, &Schema::avro(V1)).unwrap();
    assert_eq!((found.id, found.version), (id1, 1));
    let fetched = client.schema_by_id(id1).unwrap();
    assert!(fetched.schema.contains("\"Order\""), "{fetched:?}");

    client
        .set_compatibility(Some(&subject), "BACKWARD")
        .unwrap();
    client
        .check_compatibility(&subject, &Schema::avro(V2_OPTIONAL))
        .unwrap();
    let id2 = client
        .register(&subject, &Schema::avro(V2_OPTIONAL))
        .unwrap();
    assert_ne!(id1, id2);
    assert_eq!(registry.versions(&subject), vec![1, 2]);
    let latest = client.latest_version(&subject).unwrap();
    assert_eq!((latest.id, latest.version), (id2, 2));

    let err = client
        .check_compatibility(&subject, &Schema::avro(V2_BREAKING))
        .unwrap_err();
    assert!(matches!(err, RegistryError::Incompatible { .. }), "{err:?}");
    let err = client
        .register(&subject, &Schema::avro(V2_BREAKING))
        .unwrap_err();
    match &err {
        RegistryError::Incompatible {
            subject: s,
            messages,
        } => {
            assert_eq!(s, &subject);
            assert!(!messages.is_empty() && !messages[0].is_empty());
        }
        other => panic!("expected Incompatible, got {other}"),
    }
    assert_eq!(registry.versions(&subject), vec![1, 2]);

    let err = client
        .latest_version(&format!("{subject}-missing"))
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::Refused { status: 404, .. }),
        "{err:?}"
    );
}
