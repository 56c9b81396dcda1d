//! What Kafka's own Java consumer read back, byte for byte.

use base64::Engine;
use kafka_record::{KafkaRecord, ValueFraming, ValueReadError};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::EmbeddedKafkaError;

/// One record as Kafka's Java consumer read it back.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumedRecord {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// Timestamp in milliseconds.
    pub timestamp: i64,
    /// `CreateTime` or `LogAppendTime`.
    pub timestamp_type: String,
    /// Key bytes, `None` when null.
    pub key: Option<Vec<u8>>,
    /// Value bytes, `None` when null.
    pub value: Option<Vec<u8>>,
    /// Headers in order: key and value bytes (`None` when null).
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl ConsumedRecord {
    /// A record to compare with what was read: no key, no value, no headers,
    /// timestamp 0 (`CreateTime`); add them with the `with_*` methods.
    ///
    /// ```
    /// use kafka_template_test::ConsumedRecord;
    ///
    /// let record = ConsumedRecord::new("orders", 0, 7)
    ///     .with_key("order-1")
    ///     .with_value(r#"{"amount_cents":1999}"#)
    ///     .with_header("tenant", "acme");
    /// assert_eq!(record.key_str().as_deref(), Some("order-1"));
    /// assert_eq!(record.header_str("tenant").as_deref(), Some("acme"));
    /// let value: serde_json::Value = record.value_json()?;
    /// assert_eq!(value["amount_cents"], 1999);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn new(topic: impl Into<String>, partition: i32, offset: i64) -> ConsumedRecord {
        ConsumedRecord {
            topic: topic.into(),
            partition,
            offset,
            timestamp: 0,
            timestamp_type: "CreateTime".to_owned(),
            key: None,
            value: None,
            headers: Vec::new(),
        }
    }

    /// With this key.
    pub fn with_key(mut self, key: impl Into<Vec<u8>>) -> ConsumedRecord {
        self.key = Some(key.into());
        self
    }

    /// With this value.
    pub fn with_value(mut self, value: impl Into<Vec<u8>>) -> ConsumedRecord {
        self.value = Some(value.into());
        self
    }

    /// With one more header.
    pub fn with_header(
        mut self,
        key: impl Into<String>,
        value: impl Into<Vec<u8>>,
    ) -> ConsumedRecord {
        self.headers.push((key.into(), Some(value.into())));
        self
    }

    /// With this timestamp (`CreateTime`, milliseconds).
    pub fn with_timestamp(mut self, millis: i64) -> ConsumedRecord {
        self.timestamp = millis;
        self
    }

    /// The key as UTF-8 text (lossy), for assertions.
    pub fn key_str(&self) -> Option<String> {
        self.key
            .as_deref()
            .map(|k| String::from_utf8_lossy(k).into_owned())
    }

    /// The value as UTF-8 text (lossy), for assertions.
    pub fn value_str(&self) -> Option<String> {
        self.value
            .as_deref()
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// The first header with this key, as UTF-8 text (lossy).
    pub fn header_str(&self, key: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// The value read back as the record type that was sent
    /// (`#[derive(KafkaRecord, Deserialize)]`): JSON with `serde_json`, Avro
    /// checked against its `framing` (the template's default is
    /// [`ValueFraming::SingleObject`]) and decoded with the type's schema.
    /// A null value reads as an empty one and fails to decode.
    pub fn value_as<T: KafkaRecord + DeserializeOwned>(
        &self,
        framing: &ValueFraming,
    ) -> Result<T, ValueReadError> {
        kafka_record::read_value(self.value.as_deref().unwrap_or_default(), framing)
    }

    /// The value as JSON of any shape (`serde_json::Value` or a type of yours).
    pub fn value_json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(self.value.as_deref().unwrap_or_default())
    }
}

/// A line of `JsonLinesFormatter`: bytes in base64.
#[derive(Deserialize)]
struct JsonRecord {
    topic: String,
    partition: i32,
    offset: i64,
    timestamp: i64,
    timestamp_type: String,
    key: Option<String>,
    value: Option<String>,
    headers: Vec<(String, Option<String>)>,
}

/// Parses what the kit's topic reader (Kafka's Java consumer) printed with its
/// `JsonLinesFormatter` (one JSON object a line; other lines are ignored),
/// sorted by partition and offset.
#[doc(hidden)]
pub fn parse_json_lines(output: &str) -> Result<Vec<ConsumedRecord>, EmbeddedKafkaError> {
    let mut records = Vec::new();
    for line in output.lines().filter(|l| l.starts_with('{')) {
        let bad = |reason: String| EmbeddedKafkaError::BadRecordLine {
            line: line.to_owned(),
            reason,
        };
        let r: JsonRecord = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let decode = |text: Option<String>| -> Result<Option<Vec<u8>>, EmbeddedKafkaError> {
            text.map(|t| {
                base64::engine::general_purpose::STANDARD
                    .decode(t)
                    .map_err(|e| bad(format!("bad base64: {e}")))
            })
            .transpose()
        };
        let mut headers = Vec::with_capacity(r.headers.len());
        for (k, v) in r.headers {
            headers.push((k, decode(v)?));
        }
        records.push(ConsumedRecord {
            topic: r.topic,
            partition: r.partition,
            offset: r.offset,
            timestamp: r.timestamp,
            timestamp_type: r.timestamp_type,
            key: decode(r.key)?,
            value: decode(r.value)?,
            headers,
        });
    }
    records.sort_by_key(|r| (r.partition, r.offset));
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatter_lines_parse_into_records_sorted_by_partition_and_offset() {
        let out = "WARN something\n\
            {\"topic\":\"t\",\"partition\":1,\"offset\":0,\"timestamp\":5,\"timestamp_type\":\"CreateTime\",\"key\":null,\"value\":\"aGk=\",\"headers\":[]}\n\
            {\"topic\":\"t\",\"partition\":0,\"offset\":3,\"timestamp\":6,\"timestamp_type\":\"CreateTime\",\"key\":\"aw==\",\"value\":null,\"headers\":[[\"h\",\"dg==\"],[\"n\",null]]}\n";
        let records = parse_json_lines(out).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].partition, 0);
        assert_eq!(records[0].key_str().as_deref(), Some("k"));
        assert_eq!(records[0].value, None);
        assert_eq!(records[0].header_str("h").as_deref(), Some("v"));
        assert_eq!(records[0].headers[1], ("n".to_owned(), None));
        assert_eq!(records[1].value_str().as_deref(), Some("hi"));
        assert_eq!(records[1].key, None);
    }

    #[test]
    fn a_broken_line_is_an_error_naming_it() {
        let err = parse_json_lines("{\"topic\":1}").unwrap_err();
        assert!(
            matches!(err, EmbeddedKafkaError::BadRecordLine { .. }),
            "{err}"
        );
    }
}
