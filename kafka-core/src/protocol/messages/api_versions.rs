//! ApiVersions (key 18), v0–v3: which versions of each API the broker speaks.
//!
//! v1 adds throttle time, v3 is flexible and sends the client's software name and
//! version. A broker that does not know the request version answers
//! `UNSUPPORTED_VERSION` in the v0 layout, listing its own ApiVersions range
//! (KIP-511); [`ApiVersionsResponse`] decodes that answer whatever version was
//! asked for, so the caller can retry at a version the broker accepts.

use bytes::BytesMut;

use crate::protocol::api_key::ApiKey;
use crate::protocol::codec_error::{DecodeError, EncodeError};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::primitives::Decoder;
use crate::protocol::request::{Request, Response};

/// The software name sent in ApiVersions v3+ (brokers log and meter it).
pub const CLIENT_SOFTWARE_NAME: &str = "kafka-template-rs";
/// The software version sent in ApiVersions v3+.
pub const CLIENT_SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Asks the broker which API versions it supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersionsRequest {
    /// Name of this client (v3+). Brokers reject names outside `[a-zA-Z0-9.-]`.
    pub client_software_name: String,
    /// Version of this client (v3+), same character rules.
    pub client_software_version: String,
}

impl Default for ApiVersionsRequest {
    fn default() -> Self {
        ApiVersionsRequest {
            client_software_name: CLIENT_SOFTWARE_NAME.to_owned(),
            client_software_version: CLIENT_SOFTWARE_VERSION.to_owned(),
        }
    }
}

/// One API's supported version range, as the broker reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiVersionRange {
    /// The API key (raw, so that APIs newer than this client are kept).
    pub api_key: i16,
    /// Lowest supported version, inclusive.
    pub min_version: i16,
    /// Highest supported version, inclusive.
    pub max_version: i16,
}

/// The broker's supported API versions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiVersionsResponse {
    /// `NONE`, or `UNSUPPORTED_VERSION` when the request version was too new (then
    /// `api_keys` holds at least the broker's ApiVersions range, on Kafka 2.4+).
    pub error_code: ErrorCode,
    /// Supported ranges per API.
    pub api_keys: Vec<ApiVersionRange>,
    /// Quota throttle in milliseconds (v1+; 0 otherwise).
    pub throttle_time_ms: i32,
    /// The cluster's finalized features (v3+, tagged field 2), such as
    /// `transaction.version` or `metadata.version`; empty when not sent.
    pub finalized_features: Vec<FinalizedFeature>,
}

/// One cluster-wide finalized feature (`kafka-features.sh describe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalizedFeature {
    /// The feature's name, e.g. `transaction.version`.
    pub name: String,
    /// The cluster-wide finalized max version level.
    pub max_version_level: i16,
    /// The cluster-wide finalized min version level.
    pub min_version_level: i16,
}

impl ApiVersionsResponse {
    /// The broker's range for `api_key`, if it supports the API.
    pub fn range_for(&self, api_key: ApiKey) -> Option<ApiVersionRange> {
        self.api_keys
            .iter()
            .copied()
            .find(|range| range.api_key == api_key.code())
    }

    /// The finalized (max) version level of feature `name`, if the broker sent it.
    pub fn finalized_feature_level(&self, name: &str) -> Option<i16> {
        FinalizedFeature::level_of(&self.finalized_features, name)
    }
}

impl FinalizedFeature {
    /// The finalized (max) level of feature `name` among `features`.
    pub fn level_of(features: &[FinalizedFeature], name: &str) -> Option<i16> {
        features
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.max_version_level)
    }
}

impl Request for ApiVersionsRequest {
    const API_KEY: ApiKey = ApiKey::ApiVersions;
    const MIN_VERSION: i16 = 0;
    const MAX_VERSION: i16 = 3;
    const FLEXIBLE_FROM: i16 = 3;
    type Response = ApiVersionsResponse;

    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {
        let mut enc = Self::body_encoder(buf, version)?;
        if version >= 3 {
            enc.string(&self.client_software_name)?;
            enc.string(&self.client_software_version)?;
        }
        enc.empty_tagged_fields();
        Ok(())
    }
}

impl Response for ApiVersionsResponse {
    fn throttle_time_ms(&self) -> i32 {
        self.throttle_time_ms
    }

    fn client_throttles(version: i16) -> bool {
        version >= 2
    }

    fn decode(dec: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {
        ApiVersionsRequest::check_decode_version(version)?;
        // An UNSUPPORTED_VERSION answer is always laid out as v0 (KIP-511).
        let mut peek = dec.clone();
        peek.set_flexible(false);
        let layout = if peek.i16().ok() == Some(ErrorCode::UNSUPPORTED_VERSION.code()) {
            0
        } else {
            version
        };
        dec.set_flexible(ApiVersionsRequest::is_flexible(layout));
        let error_code = ErrorCode::from_code(dec.i16()?);
        let api_keys = dec.array(|dec| {
            let range = ApiVersionRange {
                api_key: dec.i16()?,
                min_version: dec.i16()?,
                max_version: dec.i16()?,
            };
            dec.skip_tagged_fields()?;
            Ok(range)
        })?;
        let throttle_time_ms = if layout >= 1 { dec.i32()? } else { 0 };
        // Tagged: 0 supported features, 1 finalized features epoch,
        // 2 finalized features (read: `transaction.version` decides the
        // transaction protocol), 3 ZK migration flag.
        let mut finalized_features = Vec::new();
        dec.tagged_fields(|tag, field| {
            if tag == 2 {
                finalized_features = field.array(|dec| {
                    let feature = FinalizedFeature {
                        name: dec.string()?,
                        max_version_level: dec.i16()?,
                        min_version_level: dec.i16()?,
                    };
                    dec.skip_tagged_fields()?;
                    Ok(feature)
                })?;
            }
            Ok(())
        })?;
        Ok(ApiVersionsResponse {
            error_code,
            api_keys,
            throttle_time_ms,
            finalized_features,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::test_support::{ours, theirs};
    use crate::protocol::request::decode_response;
    use kafka_protocol::messages::api_versions_response::{
        ApiVersion, FinalizedFeatureKey, SupportedFeatureKey,
    };
    use kafka_protocol::protocol::StrBytes;

    #[test]
    fn request_bytes_match_kafka_protocol_at_every_version() {
        for version in 0..=3 {
            let request = ApiVersionsRequest::default();
            let expected = kafka_protocol::messages::ApiVersionsRequest::default()
                .with_client_software_name(StrBytes::from_static_str(CLIENT_SOFTWARE_NAME))
                .with_client_software_version(StrBytes::from_static_str(CLIENT_SOFTWARE_VERSION));
            assert_eq!(
                ours(&request, version),
                theirs(&expected, version),
                "v{version}"
            );
        }
    }

    fn their_response() -> kafka_protocol::messages::ApiVersionsResponse {
        kafka_protocol::messages::ApiVersionsResponse::default()
            .with_throttle_time_ms(17)
            .with_api_keys(vec![
                ApiVersion::default()
                    .with_api_key(0)
                    .with_min_version(3)
                    .with_max_version(13),
                ApiVersion::default()
                    .with_api_key(18)
                    .with_min_version(0)
                    .with_max_version(4),
            ])
            .with_supported_features(vec![
                SupportedFeatureKey::default()
                    .with_name(StrBytes::from_static_str("metadata.version"))
                    .with_min_version(1)
                    .with_max_version(27),
            ])
            .with_finalized_features_epoch(5)
            .with_finalized_features(vec![
                FinalizedFeatureKey::default()
                    .with_name(StrBytes::from_static_str("metadata.version"))
                    .with_min_version_level(1)
                    .with_max_version_level(27),
                FinalizedFeatureKey::default()
                    .with_name(StrBytes::from_static_str("transaction.version"))
                    .with_min_version_level(0)
                    .with_max_version_level(2),
            ])
    }

    #[test]
    fn response_decodes_at_every_version() {
        for version in 0..=3 {
            let bytes = theirs(&their_response(), version);
            let response = decode_response::<ApiVersionsRequest>(&bytes, version).unwrap();
            assert_eq!(response.error_code, ErrorCode::NONE);
            assert_eq!(response.throttle_time_ms, if version >= 1 { 17 } else { 0 });
            assert_eq!(
                response.range_for(ApiKey::Produce),
                Some(ApiVersionRange {
                    api_key: 0,
                    min_version: 3,
                    max_version: 13
                })
            );
            assert_eq!(
                response
                    .range_for(ApiKey::ApiVersions)
                    .map(|r| r.max_version),
                Some(4)
            );
            assert_eq!(response.range_for(ApiKey::Metadata), None);
            // Finalized features are a tagged field of the flexible v3.
            let expected_level = if version >= 3 { Some(2) } else { None };
            assert_eq!(
                response.finalized_feature_level("transaction.version"),
                expected_level,
                "v{version}"
            );
            if version >= 3 {
                assert_eq!(
                    response.finalized_features[0],
                    FinalizedFeature {
                        name: "metadata.version".into(),
                        max_version_level: 27,
                        min_version_level: 1
                    }
                );
            }
        }
    }

    #[test]
    fn unsupported_version_answer_is_read_as_v0_whatever_was_asked() {
        let answer = kafka_protocol::messages::ApiVersionsResponse::default()
            .with_error_code(ErrorCode::UNSUPPORTED_VERSION.code())
            .with_api_keys(vec![
                ApiVersion::default()
                    .with_api_key(18)
                    .with_min_version(0)
                    .with_max_version(2),
            ]);
        let v0_bytes = theirs(&answer, 0);
        for asked in 0..=3 {
            let response = decode_response::<ApiVersionsRequest>(&v0_bytes, asked).unwrap();
            assert_eq!(response.error_code, ErrorCode::UNSUPPORTED_VERSION);
            assert_eq!(
                response
                    .range_for(ApiKey::ApiVersions)
                    .map(|r| r.max_version),
                Some(2)
            );
        }
    }

    #[test]
    fn out_of_range_versions_are_rejected() {
        let mut buf = BytesMut::new();
        assert!(matches!(
            ApiVersionsRequest::default().encode(&mut buf, 4),
            Err(EncodeError::UnsupportedVersion { .. })
        ));
        assert!(decode_response::<ApiVersionsRequest>(&[0, 0], -1).is_err());
    }
}
