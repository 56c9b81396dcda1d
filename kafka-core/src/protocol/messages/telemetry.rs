//! KIP-714 client telemetry: GetTelemetrySubscriptions (key 71) and
//! PushTelemetry (key 72), both v0 only and flexible from v0.
//!
//! A client asks a broker which of its metrics the cluster's client-metrics
//! subscriptions want ([`GetTelemetrySubscriptionsRequest`]), then pushes them
//! every push interval as an OpenTelemetry `MetricsData` protobuf, possibly
//! compressed ([`PushTelemetryRequest`]).

use bytes::{Bytes, BytesMut};

use crate::protocol::api_key::ApiKey;
use crate::protocol::codec_error::{DecodeError, EncodeError};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::primitives::{Decoder, Uuid};
use crate::protocol::request::{Request, Response};

/// Asks a broker for this client's telemetry subscription.
///
/// ```
/// use kafka_core::protocol::{Uuid, messages::GetTelemetrySubscriptionsRequest};
/// // The first request of a client instance: the broker assigns an id.
/// let first = GetTelemetrySubscriptionsRequest { client_instance_id: Uuid::ZERO };
/// assert!(first.client_instance_id.is_zero());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetTelemetrySubscriptionsRequest {
    /// The id the broker assigned to this client instance, or
    /// [`Uuid::ZERO`] for the first request (the broker then assigns one).
    pub client_instance_id: Uuid,
}

/// The subscription: which metrics to push, how often, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetTelemetrySubscriptionsResponse {
    /// Quota throttle in milliseconds.
    pub throttle_time_ms: i32,
    /// `NONE` on success.
    pub error_code: ErrorCode,
    /// The id assigned to this client instance if the request's was zero,
    /// else zero.
    pub client_instance_id: Uuid,
    /// The current subscription set's id; pushes name it.
    pub subscription_id: i32,
    /// Compression types (`compression.type` ids) the broker accepts for
    /// pushes, in its order of preference; `none` is always accepted.
    pub accepted_compression_types: Vec<i8>,
    /// How often to push, in milliseconds.
    pub push_interval_ms: i32,
    /// The largest metrics payload the broker accepts, in bytes.
    pub telemetry_max_bytes: i32,
    /// Counters as deltas since the previous push (`true`) or cumulative.
    pub delta_temporality: bool,
    /// Metric name prefixes wanted: empty means none, one empty string means all.
    pub requested_metrics: Vec<String>,
}

/// Pushes one collection of metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTelemetryRequest {
    /// The id the broker assigned to this client instance.
    pub client_instance_id: Uuid,
    /// The subscription the metrics follow.
    pub subscription_id: i32,
    /// The client is closing: the last push.
    pub terminating: bool,
    /// The codec of `metrics` (a `compression.type` id; 0 for none).
    pub compression_type: i8,
    /// OpenTelemetry `MetricsData` v1 protobuf, compressed as `compression_type` says.
    pub metrics: Bytes,
}

/// The broker's verdict on a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushTelemetryResponse {
    /// Quota throttle in milliseconds.
    pub throttle_time_ms: i32,
    /// `NONE` on success.
    pub error_code: ErrorCode,
}

impl Request for GetTelemetrySubscriptionsRequest {
    const API_KEY: ApiKey = ApiKey::GetTelemetrySubscriptions;
    const MIN_VERSION: i16 = 0;
    const MAX_VERSION: i16 = 0;
    const FLEXIBLE_FROM: i16 = 0;
    type Response = GetTelemetrySubscriptionsResponse;

    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        let mut enc = Self::body_encoder(buf, version)?;
        enc.uuid(&self.client_instance_id);
        enc.empty_tagged_fields();
        Ok(())
    }
}

impl Response for GetTelemetrySubscriptionsResponse {
    fn throttle_time_ms(&self) -> i32 {
        self.throttle_time_ms
    }

    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        GetTelemetrySubscriptionsRequest::prepare_body_decoder(dec, version)?;
        let response = GetTelemetrySubscriptionsResponse {
            throttle_time_ms: dec.i32()?,
            error_code: ErrorCode::from_code(dec.i16()?),
            client_instance_id: dec.uuid()?,
            subscription_id: dec.i32()?,
            accepted_compression_types: dec.array(|d| d.i8())?,
            push_interval_ms: dec.i32()?,
            telemetry_max_bytes: dec.i32()?,
            delta_temporality: dec.bool()?,
            requested_metrics: dec.string_array()?,
        };
        dec.skip_tagged_fields()?;
        Ok(response)
    }
}

impl Request for PushTelemetryRequest {
    const API_KEY: ApiKey = ApiKey::PushTelemetry;
    const MIN_VERSION: i16 = 0;
    const MAX_VERSION: i16 = 0;
    const FLEXIBLE_FROM: i16 = 0;
    type Response = PushTelemetryResponse;

    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        let mut enc = Self::body_encoder(buf, version)?;
        enc.uuid(&self.client_instance_id);
        enc.i32(self.subscription_id);
        enc.bool(self.terminating);
        enc.i8(self.compression_type);
        enc.bytes(&self.metrics)?;
        enc.empty_tagged_fields();
        Ok(())
    }
}

impl Response for PushTelemetryResponse {
    fn throttle_time_ms(&self) -> i32 {
        self.throttle_time_ms
    }

    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        PushTelemetryRequest::prepare_body_decoder(dec, version)?;
        let response = PushTelemetryResponse {
            throttle_time_ms: dec.i32()?,
            error_code: ErrorCode::from_code(dec.i16()?),
        };
        dec.skip_tagged_fields()?;
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::test_support::{ours, str_bytes, theirs};
    use crate::protocol::request::decode_response;

    const ID: [u8; 16] = [7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    #[test]
    fn get_subscriptions_request_matches_kafka_protocol() {
        for id in [[0; 16], ID] {
            let request = GetTelemetrySubscriptionsRequest {
                client_instance_id: Uuid(id),
            };
            let expected = kafka_protocol::messages::GetTelemetrySubscriptionsRequest::default()
                .with_client_instance_id(uuid::Uuid::from_bytes(id));
            assert_eq!(ours(&request, 0), theirs(&expected, 0));
        }
    }

    #[test]
    fn push_request_matches_kafka_protocol() {
        for terminating in [false, true] {
            let request = PushTelemetryRequest {
                client_instance_id: Uuid(ID),
                subscription_id: -17,
                terminating,
                compression_type: 4,
                metrics: Bytes::from_static(b"\x0a\x03abc"),
            };
            let expected = kafka_protocol::messages::PushTelemetryRequest::default()
                .with_client_instance_id(uuid::Uuid::from_bytes(ID))
                .with_subscription_id(-17)
                .with_terminating(terminating)
                .with_compression_type(4)
                .with_metrics(Bytes::from_static(b"\x0a\x03abc"));
            assert_eq!(ours(&request, 0), theirs(&expected, 0));
        }
    }

    #[test]
    fn get_subscriptions_response_decodes() {
        let theirs_response =
            kafka_protocol::messages::GetTelemetrySubscriptionsResponse::default()
                .with_throttle_time_ms(3)
                .with_error_code(0)
                .with_client_instance_id(uuid::Uuid::from_bytes(ID))
                .with_subscription_id(1234)
                .with_accepted_compression_types(vec![4, 3, 1, 2])
                .with_push_interval_ms(1000)
                .with_telemetry_max_bytes(1 << 20)
                .with_delta_temporality(true)
                .with_requested_metrics(vec![
                    str_bytes("org.apache.kafka.producer."),
                    str_bytes(""),
                ]);
        let bytes = theirs(&theirs_response, 0);
        assert_eq!(
            decode_response::<GetTelemetrySubscriptionsRequest>(&bytes, 0).unwrap(),
            GetTelemetrySubscriptionsResponse {
                throttle_time_ms: 3,
                error_code: ErrorCode::NONE,
                client_instance_id: Uuid(ID),
                subscription_id: 1234,
                accepted_compression_types: vec![4, 3, 1, 2],
                push_interval_ms: 1000,
                telemetry_max_bytes: 1 << 20,
                delta_temporality: true,
                requested_metrics: vec!["org.apache.kafka.producer.".into(), String::new()],
            }
        );
    }

    #[test]
    fn push_response_decodes() {
        let theirs_response = kafka_protocol::messages::PushTelemetryResponse::default()
            .with_throttle_time_ms(50)
            .with_error_code(ErrorCode::UNKNOWN_SUBSCRIPTION_ID.code());
        let bytes = theirs(&theirs_response, 0);
        assert_eq!(
            decode_response::<PushTelemetryRequest>(&bytes, 0).unwrap(),
            PushTelemetryResponse {
                throttle_time_ms: 50,
                error_code: ErrorCode::UNKNOWN_SUBSCRIPTION_ID,
            }
        );
    }

    #[test]
    fn truncated_responses_are_errors() {
        let full = theirs(
            &kafka_protocol::messages::GetTelemetrySubscriptionsResponse::default()
                .with_requested_metrics(vec![str_bytes("a.b")]),
            0,
        );
        for len in 0..full.len() {
            assert!(
                decode_response::<GetTelemetrySubscriptionsRequest>(&full[..len], 0).is_err(),
                "{len} bytes"
            );
        }
        assert!(decode_response::<PushTelemetryRequest>(&[0, 0, 0], 0).is_err());
        assert!(decode_response::<PushTelemetryRequest>(&[0; 7], 1).is_err());
    }
}
