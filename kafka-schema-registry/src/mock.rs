//! The in-process registry behind `mock://scope` URLs, as Confluent's
//! `MockSchemaRegistry`: one per scope in the process, shared by every client
//! of that scope; ids and versions as a real registry gives them; Avro
//! compatibility checked (default level BACKWARD, as Confluent's).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, TryLockError};

use apache_avro::schema_compatibility::SchemaCompatibility;

use crate::client::{RegisteredSchema, Schema, SchemaType};
use crate::error::RegistryError;

#[derive(Default)]
struct State {
    /// Schemas by id - 1.
    schemas: Vec<Schema>,
    /// Per subject, the ids of its versions in order.
    subjects: HashMap<String, Vec<u32>>,
    /// Per subject compatibility levels; `None` key: the default.
    levels: HashMap<Option<String>, String>,
}

/// An in-process schema registry.
#[derive(Default)]
pub struct MockRegistry {
    state: Mutex<State>,
}

impl std::fmt::Debug for MockRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `try_lock`: formatting the registry while this thread holds its
        // lock (a log line inside one of its methods) must not deadlock.
        let mut out = f.debug_struct("MockRegistry");
        let state = match self.state.try_lock() {
            Ok(state) => Some(state),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        match state {
            Some(state) => out
                .field("schemas", &state.schemas.len())
                .field("subjects", &state.subjects.len()),
            None => out.field("state", &"<in use>"),
        };
        out.finish_non_exhaustive()
    }
}

static SCOPES: OnceLock<Mutex<HashMap<String, Arc<MockRegistry>>>> = OnceLock::new();

fn scopes() -> &'static Mutex<HashMap<String, Arc<MockRegistry>>> {
    SCOPES.get_or_init(Default::default)
}

const MOCK_URL: &str = "mock://";

impl MockRegistry {
    /// The registry of `scope`, made on first use.
    pub fn scope(scope: &str) -> Arc<MockRegistry> {
        Arc::clone(
            scopes()
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(scope.to_owned())
                .or_default(),
        )
    }

    /// Forgets `scope` (Confluent's `MockSchemaRegistry.dropScope`): the next
    /// client of it starts with an empty registry.
    pub fn drop_scope(scope: &str) {
        scopes()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(scope);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn not_found(
        subject: Option<&str>,
        operation: &'static str,
        code: i64,
        message: String,
    ) -> RegistryError {
        RegistryError::Refused {
            operation,
            subject: subject.map(str::to_owned),
            url: MOCK_URL.to_owned(),
            status: 404,
            error_code: Some(code),
            message,
        }
    }

    pub(crate) fn register(&self, subject: &str, schema: &Schema) -> Result<u32, RegistryError> {
        if let Some(reason) = invalid(schema) {
            return Err(RegistryError::Refused {
                operation: "register the schema",
                subject: Some(subject.to_owned()),
                url: MOCK_URL.to_owned(),
                status: 422,
                error_code: Some(42201),
                message: reason,
            });
        }
        // A schema the subject holds already keeps its id, whatever the
        // compatibility with later versions, as a real registry answers.
        if let Ok(registered) = self.lookup(subject, schema) {
            return Ok(registered.id);
        }
        let messages = self.check(subject, schema);
        if !messages.is_empty() {
            return Err(RegistryError::Incompatible {
                subject: subject.to_owned(),
                messages,
            });
        }
        let mut state = self.state();
        let id = match state.schemas.iter().position(|s| s == schema) {
            Some(i) => i as u32 + 1,
            None => {
                state.schemas.push(schema.clone());
                state.schemas.len() as u32
            }
        };
        let versions = state.subjects.entry(subject.to_owned()).or_default();
        if !versions.contains(&id) {
            versions.push(id);
        }
        Ok(id)
    }

    pub(crate) fn lookup(
        &self,
        subject: &str,
        schema: &Schema,
    ) -> Result<RegisteredSchema, RegistryError> {
        const OP: &str = "look up the schema";
        let state = self.state();
        let Some(versions) = state.subjects.get(subject) else {
            return Err(Self::not_found(
                Some(subject),
                OP,
                40401,
                format!("Subject '{subject}' not found."),
            ));
        };
        versions
            .iter()
            .enumerate()
            .find(|(_, id)| state.schemas[**id as usize - 1] == *schema)
            .map(|(i, id)| RegisteredSchema {
                subject: subject.to_owned(),
                version: i as i32 + 1,
                id: *id,
                schema: schema.clone(),
            })
            .ok_or_else(|| Self::not_found(Some(subject), OP, 40403, "Schema not found".to_owned()))
    }

    pub(crate) fn schema_by_id(&self, id: u32) -> Result<Schema, RegistryError> {
        let state = self.state();
        (id as usize)
            .checked_sub(1)
            .and_then(|i| state.schemas.get(i))
            .cloned()
            .ok_or_else(|| {
                Self::not_found(
                    None,
                    "fetch a schema by id",
                    40403,
                    format!("Schema {id} not found"),
                )
            })
    }

    pub(crate) fn latest(&self, subject: &str) -> Result<RegisteredSchema, RegistryError> {
        let state = self.state();
        match state
            .subjects
            .get(subject)
            .and_then(|v| v.last().map(|id| (v.len(), *id)))
        {
            Some((version, id)) => Ok(RegisteredSchema {
                subject: subject.to_owned(),
                version: version as i32,
                id,
                schema: state.schemas[id as usize - 1].clone(),
            }),
            None => Err(Self::not_found(
                Some(subject),
                "fetch the latest version",
                40401,
                format!("Subject '{subject}' not found."),
            )),
        }
    }

    pub(crate) fn set_compatibility(&self, subject: Option<&str>, level: &str) {
        self.state().levels.insert(
            subject.map(str::to_owned),
            level.trim().to_ascii_uppercase(),
        );
    }

    /// Why `schema` may not be added to `subject` (empty: it may).
    pub(crate) fn check(&self, subject: &str, schema: &Schema) -> Vec<String> {
        let state = self.state();
        let level = state
            .levels
            .get(&Some(subject.to_owned()))
            .or_else(|| state.levels.get(&None))
            .map_or("BACKWARD", String::as_str);
        let Some(versions) = state.subjects.get(subject) else {
            return Vec::new();
        };
        if schema.schema_type != SchemaType::Avro || level == "NONE" {
            return Vec::new();
        }
        let Ok(new) = apache_avro::Schema::parse_str(&schema.schema) else {
            return Vec::new(); // register() reports it as invalid
        };
        let against: Vec<&u32> = if level.ends_with("_TRANSITIVE") {
            versions.iter().collect()
        } else {
            versions.last().into_iter().collect()
        };
        let mut messages = Vec::new();
        for id in against {
            let old_schema = &state.schemas[*id as usize - 1];
            let Ok(old) = apache_avro::Schema::parse_str(&old_schema.schema) else {
                continue;
            };
            let backward = level.starts_with("BACKWARD") || level.starts_with("FULL");
            let forward = level.starts_with("FORWARD") || level.starts_with("FULL");
            if backward && let Err(e) = SchemaCompatibility::can_read(&old, &new) {
                messages.push(format!(
                    "{level}: the new schema cannot read data written with schema id {id}: {e}"
                ));
            }
            if forward && let Err(e) = SchemaCompatibility::can_read(&new, &old) {
                messages.push(format!(
                    "{level}: schema id {id} cannot read data written with the new schema: {e}"
                ));
            }
        }
        messages
    }
}

fn invalid(schema: &Schema) -> Option<String> {
    match schema.schema_type {
        SchemaType::Avro => apache_avro::Schema::parse_str(&schema.schema)
            .err()
            .map(|e| format!("Invalid schema: {e}")),
        SchemaType::Json => serde_json::from_str::<serde_json::Value>(&schema.schema)
            .err()
            .map(|e| format!("Invalid schema: {e}")),
        SchemaType::Protobuf => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_counts_and_never_waits_for_the_lock() {
        let registry = MockRegistry::default();
        let schema = Schema::avro(r#"{"type":"record","name":"A","fields":[]}"#);
        registry.register("a-value", &schema).expect("registered");
        assert_eq!(
            format!("{registry:?}"),
            "MockRegistry { schemas: 1, subjects: 1, .. }"
        );
        // Formatted while this thread holds the lock (a log line inside one
        // of its methods): answers at once instead of deadlocking.
        let _held = registry.state();
        assert_eq!(
            format!("{registry:?}"),
            r#"MockRegistry { state: "<in use>", .. }"#
        );
    }
}
