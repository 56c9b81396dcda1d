//! Shared body of the response-decoding fuzz targets.

use kafka_core::protocol::{Request, decode_response};

/// Decode `data` as the response of `R`: the first byte picks the version
/// (wrapping over the supported range plus one unsupported version on each
/// side), the rest is the body. Errors are fine; panics and hangs are bugs.
pub fn decode_one_version<R: Request>(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let span = i16::from(selector) % (R::MAX_VERSION - R::MIN_VERSION + 3);
    let version = R::MIN_VERSION - 1 + span;
    let result = decode_response::<R>(body, version);
    if !(R::MIN_VERSION..=R::MAX_VERSION).contains(&version) {
        assert!(
            result.is_err(),
            "v{version} is outside the supported range and must be refused"
        );
    }
}
