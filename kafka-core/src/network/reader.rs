//! The connection's reader task: splits the byte stream into size-prefixed
//! frames and hands each to the pending request it answers.

use std::sync::Arc;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::error::DisconnectReason;
use super::shared::Shared;

/// Read buffer growth step; one read usually brings several small responses.
const READ_CHUNK: usize = 64 * 1024;

/// Run until the stream ends or breaks, then close the connection.
pub(crate) async fn read_responses<R>(shared: Arc<Shared>, mut stream: R, max_response_size: usize)
where
    R: AsyncRead + Unpin,
{
    let reason = read_until_failure(&shared, &mut stream, max_response_size).await;
    shared.close(reason);
}

async fn read_until_failure<R>(
    shared: &Shared,
    stream: &mut R,
    max_response_size: usize,
) -> DisconnectReason
where
    R: AsyncRead + Unpin,
{
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    loop {
        // Dispatch every complete frame already buffered.
        while let Some(size_bytes) = buf.first_chunk::<4>() {
            let size = i32::from_be_bytes(*size_bytes);
            // A frame holds at least the correlation id. The size is checked
            // before anything is reserved for it.
            let size = match usize::try_from(size) {
                Ok(size) if (4..=max_response_size).contains(&size) => size,
                _ => {
                    return DisconnectReason::InvalidFrameSize {
                        size: i64::from(size),
                        max: max_response_size,
                    };
                }
            };
            if buf.len() < 4 + size {
                buf.reserve(4 + size - buf.len());
                break;
            }
            buf.advance(4);
            let frame = buf.split_to(size).freeze();
            if let Err(reason) = shared.dispatch(frame) {
                return reason;
            }
        }
        if buf.capacity() - buf.len() < READ_CHUNK / 8 {
            buf.reserve(READ_CHUNK);
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) => return DisconnectReason::Eof,
            Ok(_) => {}
            Err(error) => return DisconnectReason::Io(Arc::new(error)),
        }
    }
}
