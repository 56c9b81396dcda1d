//! Byte fields left out of an encoded request and written from their own
//! memory: the record batches of a Produce request go to the socket where the
//! accumulator built them, not copied into the request's buffer first (as
//! Java's `MultiRecordsSend` writes each batch's `ByteBuffer`).

use std::io::IoSlice;

use bytes::Bytes;

/// Fields at least this long are spliced; shorter ones are cheaper to copy
/// than to write as a slice of their own.
pub const SPLICE_FROM: usize = 2048;

/// The fields an [`Encoder`](super::Encoder) left out of its buffer, each
/// with the buffer position it belongs at.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use kafka_core::protocol::{Encoder, Splices};
///
/// let batch = Bytes::from(vec![7u8; 4096]);
/// let (mut buf, mut splices) = (BytesMut::new(), Splices::new());
/// let mut enc = Encoder::new(&mut buf, false).splicing_into(&mut splices);
/// enc.i32(1);
/// enc.nullable_shared_bytes(Some(&batch))?;
/// enc.i32(2);
/// // The buffer holds the length prefix; the batch's bytes stay where they were.
/// assert_eq!(buf.len(), 12);
/// assert_eq!(splices.len(), 4096);
/// let whole: Vec<u8> = splices.io_slices(&buf).iter().flat_map(|s| s.to_vec()).collect();
/// assert_eq!(whole.len(), 12 + 4096);
/// assert_eq!(&whole[8..12], &[7; 4]);
/// # Ok::<(), kafka_core::protocol::EncodeError>(())
/// ```
#[derive(Debug, Default)]
pub struct Splices {
    /// Each field and the buffer position it goes before, in buffer order.
    parts: Vec<(usize, Bytes)>,
    len: usize,
}

impl Splices {
    /// None yet.
    pub fn new() -> Splices {
        Splices::default()
    }

    /// Bytes left out of the buffer: what the frame holds beyond it.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was left out.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Forgets every field (and lets go of its bytes).
    pub fn clear(&mut self) {
        self.parts.clear();
        self.len = 0;
    }

    /// `bytes` belongs at position `at` of the buffer.
    pub(super) fn push(&mut self, at: usize, bytes: &Bytes) {
        self.len += bytes.len();
        self.parts.push((at, bytes.clone()));
    }

    /// Forgets the fields after the first `count` (an encoding that failed).
    pub(super) fn truncate(&mut self, count: usize) {
        for (_, bytes) in self.parts.drain(count.min(self.parts.len())..) {
            self.len -= bytes.len();
        }
    }

    /// How many fields were left out.
    pub(super) fn count(&self) -> usize {
        self.parts.len()
    }

    /// `buf` with the fields in their places, as the slices to write in
    /// order. `buf` is the buffer they were left out of.
    pub fn io_slices<'b>(&'b self, buf: &'b [u8]) -> Vec<IoSlice<'b>> {
        let mut slices = Vec::with_capacity(2 * self.parts.len() + 1);
        let mut from = 0;
        for (at, bytes) in &self.parts {
            // Positions only grow, and lie within the buffer they came from;
            // another buffer would make a frame of the right length and the
            // wrong bytes.
            debug_assert!(
                (from..=buf.len()).contains(at),
                "spliced field at {at} outside {from}..={}",
                buf.len()
            );
            let at = (*at).clamp(from, buf.len());
            slices.push(IoSlice::new(&buf[from..at]));
            slices.push(IoSlice::new(bytes));
            from = at;
        }
        slices.push(IoSlice::new(&buf[from..]));
        slices.retain(|slice| !slice.is_empty());
        slices
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(splices: &Splices, buf: &[u8]) -> Vec<u8> {
        splices
            .io_slices(buf)
            .iter()
            .flat_map(|slice| slice.to_vec())
            .collect()
    }

    #[test]
    fn fields_are_written_at_their_positions_and_empty_slices_left_out() {
        let mut splices = Splices::new();
        splices.push(0, &Bytes::from_static(b"AB"));
        splices.push(2, &Bytes::from_static(b"CD"));
        splices.push(2, &Bytes::from_static(b"EF"));
        splices.push(4, &Bytes::from_static(b"GH"));
        assert_eq!(splices.len(), 8);
        assert_eq!(joined(&splices, b"wxyz"), b"ABwxCDEFyzGH");
        assert_eq!(splices.io_slices(b"wxyz").len(), 6);
    }

    #[test]
    fn truncating_forgets_the_later_fields_and_their_length() {
        let mut splices = Splices::new();
        splices.push(0, &Bytes::from_static(b"AB"));
        splices.push(1, &Bytes::from_static(b"CDE"));
        splices.truncate(1);
        assert_eq!((splices.count(), splices.len()), (1, 2));
        assert_eq!(joined(&splices, b"x"), b"ABx");
        splices.clear();
        assert!(splices.is_empty());
        assert_eq!(splices.len(), 0);
        assert_eq!(joined(&splices, b"x"), b"x");
    }
}
