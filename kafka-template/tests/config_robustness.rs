//! Property tests: any file, variable or text gives a value or an error, never
//! a panic; and every spelling of a key binds the same key.

mod config_common;

use config_common::ConfigDir;
use kafka_template::config::KafkaConfig;
use proptest::prelude::*;

/// Text made mostly of YAML's structural characters, so that many inputs get
/// deep into the parser.
fn yamlish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("kafka:".to_owned()),
            Just("\n  ".to_owned()),
            Just("producer:".to_owned()),
            Just("---\n".to_owned()),
            Just("${".to_owned()),
            Just("}".to_owned()),
            Just("spring.config.activate.on-profile: ".to_owned()),
            Just("properties:".to_owned()),
            "[-:\\[\\]{}&*!|>'\"#%@`,?~ \n]{1,4}",
            "[a-zA-Z0-9._]{1,12}",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_file_loads_or_fails_cleanly(text in yamlish(), profile in "[a-z!&|() ,]{0,8}") {
        let dir = ConfigDir::new();
        dir.write("application.yml", &text);
        let result = dir.builder().profiles(profile.split(',')).load();
        if let Err(error) = result {
            prop_assert!(!error.issues().is_empty());
            prop_assert!(!error.to_string().is_empty());
        }
    }

    #[test]
    fn any_environment_loads_or_fails_cleanly(
        vars in proptest::collection::vec(("(KAFKA_|SPRING_KAFKA_|APP_)?[A-Za-z_]{0,24}", ".{0,20}"), 0..8)
    ) {
        let dir = ConfigDir::new();
        dir.write("application.yml", "app.name: ${APP_NAME:x}\nkafka.client-id: ${app.name}\n");
        let _ = dir.builder().env_source(vars).load();
    }

    #[test]
    fn any_text_resolves_or_fails_cleanly(text in ".{0,40}", key in ".{0,30}") {
        let config = KafkaConfig::builder()
            .dir(ConfigDir::new().path())
            .env_source([("KAFKA_TOPICS_A", "${kafka.topics.b:x}")])
            .load()
            .unwrap();
        let _ = config.resolve_placeholders(&text);
        let _ = config.lookup(&key);
        let _ = config.origin(&key);
    }

    #[test]
    fn every_spelling_binds_the_same_key(
        words in proptest::collection::vec("[a-z]{1,6}", 1..4),
        style in 0..4_usize,
    ) {
        let kebab = words.join("-");
        let spelled = match style {
            0 => kebab.clone(),
            1 => words.join("_"),
            2 => words
                .iter()
                .enumerate()
                .map(|(i, w)| if i == 0 { w.clone() } else { w[..1].to_uppercase() + &w[1..] })
                .collect(),
            _ => words.join("_").to_uppercase(),
        };
        let config = KafkaConfig::builder()
            .dir(ConfigDir::new().path())
            .env_source(Vec::<(String, String)>::new())
            .override_value(format!("app.{spelled}"), "v")
            .load()
            .unwrap();
        let kebab_key = format!("app.{kebab}");
        prop_assert_eq!(config.lookup(&kebab_key), Some("v"));
    }
}
