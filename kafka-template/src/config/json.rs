//! `SPRING_APPLICATION_JSON`: settings given as one JSON object in a variable,
//! as Spring Boot reads them (`SpringApplicationJsonEnvironmentPostProcessor`):
//! nested objects are dotted keys, a list of scalars is a comma-separated
//! value, a list of objects indexed keys (`routes[0].name`), and `null`s are
//! left out. They rank above the environment's variables and below the
//! builder's overrides (Spring's command line), and may name the active
//! profiles and, read before any file, the configuration's locations, base
//! names and imports (`spring.config.*`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::ConfigIssue;
use super::keys::{KeyKind, parse_key};
use super::merge::RawValue;
use super::origin::Origin;

/// The variable Spring Boot reads inline JSON settings from.
pub(crate) const APPLICATION_JSON_VAR: &str = "SPRING_APPLICATION_JSON";

/// The settings of `SPRING_APPLICATION_JSON`, if set (and not blank).
pub(crate) fn application_json(
    env: &BTreeMap<String, String>,
    issues: &mut Vec<ConfigIssue>,
) -> Vec<RawValue> {
    let Some(text) = env
        .get(APPLICATION_JSON_VAR)
        .filter(|text| !text.trim().is_empty())
    else {
        return Vec::new();
    };
    let invalid = |line: usize, column: usize, message: String| ConfigIssue::Json {
        var: APPLICATION_JSON_VAR.to_owned(),
        line,
        column,
        message,
    };
    let root = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(root)) => root,
        Ok(other) => {
            issues.push(invalid(
                1,
                1,
                format!("expected an object, found {}", kind(&other)),
            ));
            return Vec::new();
        }
        // serde_json's message names the place, never the text around it
        // (the place is given apart).
        Err(error) => {
            let message = error.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(what, _)| what)
                .to_owned();
            issues.push(invalid(error.line(), error.column(), message));
            return Vec::new();
        }
    };
    let mut values = Vec::new();
    let mut path = Vec::new();
    for (key, value) in root {
        path.push(key);
        flatten(value, &mut path, &mut values);
        path.pop();
    }
    values
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn flatten(value: Value, path: &mut Vec<String>, out: &mut Vec<RawValue>) {
    let text = match value {
        Value::Null => return,
        Value::Object(entries) => {
            for (key, value) in entries {
                path.push(key);
                flatten(value, path, out);
                path.pop();
            }
            return;
        }
        Value::Array(items) if items.iter().all(is_scalar) => items
            .iter()
            .filter_map(scalar_text)
            .collect::<Vec<_>>()
            .join(","),
        Value::Array(items) => {
            let Some(last) = path.len().checked_sub(1) else {
                return;
            };
            for (index, item) in items.into_iter().enumerate() {
                let key = path[last].clone();
                path[last] = format!("{key}[{index}]");
                flatten(item, path, out);
                path[last] = key;
            }
            return;
        }
        scalar => match scalar_text(&scalar) {
            Some(text) => text,
            None => return,
        },
    };
    let key = parse_key(path);
    // An empty list where a section is (`"producer": []`) sets nothing.
    if key.kind == KeyKind::Section && text.is_empty() {
        return;
    }
    out.push(RawValue {
        key,
        written: path.join("."),
        value: text,
        origin: Origin::Env {
            var: APPLICATION_JSON_VAR.to_owned(),
        },
    });
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

/// A scalar as Spring binds it: text as written, numbers and booleans as
/// JSON writes them; `None` for null.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> (Vec<(String, String)>, Vec<ConfigIssue>) {
        let env = BTreeMap::from([(APPLICATION_JSON_VAR.to_owned(), json.to_owned())]);
        let mut issues = Vec::new();
        let mut values: Vec<(String, String)> = application_json(&env, &mut issues)
            .into_iter()
            .map(|v| (v.written, v.value))
            .collect();
        values.sort();
        (values, issues)
    }

    #[test]
    fn nested_objects_are_dotted_keys_as_spring_flattens_them() {
        let (values, issues) = read(
            r#"{"spring": {"kafka": {"producer": {"acks": "all", "retries": 3,
                "properties": {"enable.idempotence": true}},
                "bootstrap-servers": ["a:9092", "b:9092"]}},
               "app": {"routes": [{"name": "x"}, {"name": "y"}], "gone": null}}"#,
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(
            values,
            [
                ("app.routes[0].name".to_owned(), "x".to_owned()),
                ("app.routes[1].name".to_owned(), "y".to_owned()),
                (
                    "spring.kafka.bootstrap-servers".to_owned(),
                    "a:9092,b:9092".to_owned()
                ),
                ("spring.kafka.producer.acks".to_owned(), "all".to_owned()),
                (
                    "spring.kafka.producer.properties.enable.idempotence".to_owned(),
                    "true".to_owned()
                ),
                ("spring.kafka.producer.retries".to_owned(), "3".to_owned()),
            ]
        );
    }

    #[test]
    fn json_that_is_not_an_object_is_refused_with_its_place() {
        let (_, issues) = read("{\"spring\": {\"kafka\": \n  {\"producer\": }}}");
        let [ConfigIssue::Json { line, .. }] = issues.as_slice() else {
            panic!("{issues:?}");
        };
        assert_eq!(*line, 2);
        let (_, issues) = read("[1, 2]");
        assert!(
            issues[0]
                .to_string()
                .contains("expected an object, found a list"),
            "{}",
            issues[0]
        );
        // A password in the text is not repeated in the message.
        let (_, issues) = read(r#"{"sasl.jaas.config": "password=\"hunter2\"" oops}"#);
        assert!(!issues[0].to_string().contains("hunter2"), "{}", issues[0]);
        assert!(read("  ").0.is_empty());
    }
}
