//! The [`Request`] / [`Response`] traits that every message implements, and the
//! framing that puts a size prefix and a header in front of a request body.

use bytes::{BufMut, BytesMut};

use super::api_key::ApiKey;
use super::codec_error::{DecodeError, EncodeError};
use super::header::RequestHeader;
use super::primitives::{Decoder, Encoder};
use super::splices::Splices;

/// A request message: its API, the versions this client implements, and how to
/// encode its body at one of them.
///
/// Version choice is the connection's job (the highest version both sides
/// support); header versions follow from [`Request::FLEXIBLE_FROM`].
pub trait Request {
    /// The API this request calls.
    const API_KEY: ApiKey;
    /// Lowest version this client implements.
    const MIN_VERSION: i16;
    /// Highest version this client implements.
    const MAX_VERSION: i16;
    /// First flexible version (compact encodings, tagged fields, header v2).
    const FLEXIBLE_FROM: i16;
    /// The matching response.
    type Response: Response;

    /// Append the body (no header, no size prefix) encoded at `version`.
    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError>;

    /// [`encode`](Self::encode), leaving long shared byte fields out of `buf`
    /// and listing them in `splices` to be written from their own memory. The
    /// default copies everything into `buf`; Produce leaves its record
    /// batches out.
    fn encode_spliced(
        &self,
        buf: &mut BytesMut,
        splices: &mut Splices,
        version: i16,
    ) -> Result<(), EncodeError> {
        let _ = splices;
        self.encode(buf, version)
    }

    /// The highest version this request can be sent at: `MAX_VERSION` unless
    /// the newest versions need data it lacks (Produce v13 needs every
    /// topic's id). The connection sends at the lower of this and the highest
    /// version it shares with the broker.
    fn max_version(&self) -> i16 {
        Self::MAX_VERSION
    }

    /// Whether `version` uses the flexible encodings.
    fn is_flexible(version: i16) -> bool {
        version >= Self::FLEXIBLE_FROM
    }

    /// Whether the response header carries tagged fields (header v1). ApiVersions
    /// responses always use header v0.
    fn response_header_is_flexible(version: i16) -> bool {
        Self::API_KEY != ApiKey::ApiVersions && Self::is_flexible(version)
    }

    /// Check `version` and return an encoder for the body at that version.
    fn body_encoder(buf: &mut BytesMut, version: i16) -> Result<Encoder<'_>, EncodeError> {
        Self::check_encode_version(version)?;
        Ok(Encoder::new(buf, Self::is_flexible(version)))
    }

    /// Check `version` and set `dec` to decode the response body at that version.
    fn prepare_body_decoder(dec: &mut Decoder<'_>, version: i16) -> Result<(), DecodeError> {
        Self::check_decode_version(version)?;
        dec.set_flexible(Self::is_flexible(version));
        Ok(())
    }

    /// `Err(UnsupportedVersion)` unless `MIN_VERSION <= version <= MAX_VERSION`.
    fn check_encode_version(version: i16) -> Result<(), EncodeError> {
        if (Self::MIN_VERSION..=Self::MAX_VERSION).contains(&version) {
            Ok(())
        } else {
            Err(EncodeError::UnsupportedVersion {
                api: Self::API_KEY,
                version,
                min: Self::MIN_VERSION,
                max: Self::MAX_VERSION,
            })
        }
    }

    /// `Err(UnsupportedVersion)` unless `MIN_VERSION <= version <= MAX_VERSION`.
    fn check_decode_version(version: i16) -> Result<(), DecodeError> {
        if (Self::MIN_VERSION..=Self::MAX_VERSION).contains(&version) {
            Ok(())
        } else {
            Err(DecodeError::UnsupportedVersion {
                api: Self::API_KEY,
                version,
                min: Self::MIN_VERSION,
                max: Self::MAX_VERSION,
            })
        }
    }
}

/// A response message, decoded from untrusted bytes.
pub trait Response: Sized {
    /// Decode the body (after the response header) at `version`. The decoder's
    /// flexible flag is set by the implementation from `version`.
    fn decode(buf: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError>;

    /// How long the broker says it throttles this client for a quota
    /// (`throttle_time_ms`; 0 for responses without the field). Java records
    /// it for every response in `produce-throttle-time`.
    fn throttle_time_ms(&self) -> i32 {
        0
    }

    /// KIP-219: whether at `version` the broker answered before throttling,
    /// so the client must hold its next requests on the connection for
    /// [`throttle_time_ms`](Self::throttle_time_ms) itself (Java's
    /// `shouldClientThrottle`).
    fn client_throttles(version: i16) -> bool {
        let _ = version;
        false
    }
}

/// Decode a whole response body for request type `R`, rejecting trailing bytes
/// (they would mean this client misread the layout).
pub fn decode_response<R: Request>(body: &[u8], version: i16) -> Result<R::Response, DecodeError> {
    let mut dec = Decoder::new(body, R::is_flexible(version));
    let response = R::Response::decode(&mut dec, version)?;
    if dec.is_empty() {
        Ok(response)
    } else {
        Err(DecodeError::TrailingBytes {
            api: R::API_KEY,
            version,
            remaining: dec.remaining(),
        })
    }
}

/// Append one complete request frame to `buf`: `int32` size, header (v1, or v2
/// when flexible) and body. On error `buf` is left as it was.
///
/// ```
/// use bytes::BytesMut;
/// use kafka_core::protocol::{encode_request_frame, messages::ApiVersionsRequest};
/// let mut buf = BytesMut::new();
/// encode_request_frame(&mut buf, &ApiVersionsRequest::default(), 0, 1, Some("c"))?;
/// // size, api key 18, version 0, correlation id 1, client id "c"
/// assert_eq!(&buf[..], &[0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 1, 0, 1, b'c']);
/// # Ok::<(), kafka_core::protocol::EncodeError>(())
/// ```
pub fn encode_request_frame<R: Request>(
    buf: &mut BytesMut,
    request: &R,
    version: i16,
    correlation_id: i32,
    client_id: Option<&str>,
) -> Result<(), EncodeError> {
    encode_frame(buf, None, request, version, correlation_id, client_id)
}

/// [`encode_request_frame`], leaving long shared byte fields (Produce's record
/// batches) out of `buf` and in `splices`; the frame is `buf` with them in
/// their places ([`Splices::io_slices`]), and its size prefix counts them. On
/// error `buf` and `splices` are left as they were.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use kafka_core::protocol::messages::{ProducePartitionData, ProduceRequest, ProduceTopicData};
/// use kafka_core::protocol::{Splices, Uuid, encode_request_frame, encode_request_frame_spliced};
///
/// let batch = |index| ProducePartitionData { index, records: Some(Bytes::from(vec![1u8; 8192])) };
/// let request = ProduceRequest {
///     transactional_id: None,
///     transaction_v2: false,
///     acks: -1,
///     timeout_ms: 30_000,
///     topics: vec![ProduceTopicData {
///         name: "t".into(),
///         topic_id: Uuid::ZERO,
///         partitions: vec![batch(0), batch(1)],
///     }],
/// };
/// let mut copied = BytesMut::new();
/// encode_request_frame(&mut copied, &request, 9, 1, Some("c"))?;
/// let (mut buf, mut splices) = (BytesMut::new(), Splices::new());
/// encode_request_frame_spliced(&mut buf, &mut splices, &request, 9, 1, Some("c"))?;
/// assert_eq!(splices.len(), 2 * 8192);
/// let frame: Vec<u8> = splices.io_slices(&buf).iter().flat_map(|s| s.to_vec()).collect();
/// assert_eq!(frame, copied);
/// # Ok::<(), kafka_core::protocol::EncodeError>(())
/// ```
pub fn encode_request_frame_spliced<R: Request>(
    buf: &mut BytesMut,
    splices: &mut Splices,
    request: &R,
    version: i16,
    correlation_id: i32,
    client_id: Option<&str>,
) -> Result<(), EncodeError> {
    encode_frame(buf, Some(splices), request, version, correlation_id, client_id)
}

fn encode_frame<R: Request>(
    buf: &mut BytesMut,
    mut splices: Option<&mut Splices>,
    request: &R,
    version: i16,
    correlation_id: i32,
    client_id: Option<&str>,
) -> Result<(), EncodeError> {
    let start = buf.len();
    let spliced_before = splices.as_deref().map(Splices::count);
    let result = encode_frame_parts(
        buf,
        splices.as_deref_mut(),
        request,
        version,
        correlation_id,
        client_id,
        start,
    );
    if result.is_err() {
        buf.truncate(start);
        if let (Some(splices), Some(count)) = (splices, spliced_before) {
            splices.truncate(count);
        }
    }
    result
}

fn encode_frame_parts<R: Request>(
    buf: &mut BytesMut,
    splices: Option<&mut Splices>,
    request: &R,
    version: i16,
    correlation_id: i32,
    client_id: Option<&str>,
    start: usize,
) -> Result<(), EncodeError> {
    R::check_encode_version(version)?;
    buf.put_i32(0); // patched below once the size is known
    RequestHeader {
        api_key: R::API_KEY,
        api_version: version,
        correlation_id,
        client_id,
    }
    .encode(buf, R::is_flexible(version))?;
    let spliced = match splices {
        Some(splices) => {
            let before = splices.len();
            request.encode_spliced(buf, splices, version)?;
            splices.len() - before
        }
        None => {
            request.encode(buf, version)?;
            0
        }
    };
    let size = buf.len() - start - 4 + spliced;
    let size = i32::try_from(size).map_err(|_| EncodeError::TooLong {
        what: "request frame",
        length: size,
        max: i32::MAX as usize,
    })?;
    buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
    Ok(())
}
