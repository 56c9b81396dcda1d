//! The journal's byte format: the file header, the frame around each entry and
//! the entry payload (see the format table in the [module docs](super)).
//!
//! Pure functions over byte slices; every length read from a file is checked
//! against what is left before anything is sliced or allocated.

use bytes::{BufMut, Bytes};
use kafka_core::Header;

use super::entry::JournalEntry;

/// The first eight bytes of every journal file.
pub(crate) const MAGIC: [u8; 8] = *b"KTJOURNL";
/// The format version this build reads and writes.
pub(crate) const VERSION: u32 = 1;
/// Bytes of the file header: magic and version.
pub(crate) const FILE_HEADER_LEN: u64 = 12;
/// The first four bytes of every frame: lets open find the next intact frame
/// after a damaged one cheaply.
pub(crate) const FRAME_MARKER: [u8; 4] = [0xFA, 0x11, 0xED, 0x01];
/// Bytes of a frame header: marker, payload length, CRC.
pub(crate) const FRAME_HEADER_LEN: usize = 12;
/// The largest payload a frame may carry.
pub const MAX_ENTRY_BYTES: usize = 64 * 1024 * 1024;

/// The file header: magic then the version (u32 big-endian).
pub(crate) fn file_header() -> [u8; FILE_HEADER_LEN as usize] {
    let mut header = [0u8; FILE_HEADER_LEN as usize];
    header[..8].copy_from_slice(&MAGIC);
    header[8..].copy_from_slice(&VERSION.to_be_bytes());
    header
}

/// The fields of a frame header, not yet checked against the payload.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrameHeader {
    pub(crate) marker_ok: bool,
    pub(crate) payload_len: u32,
    pub(crate) crc: u32,
}

impl FrameHeader {
    pub(crate) fn parse(bytes: &[u8; FRAME_HEADER_LEN]) -> Self {
        let [m0, m1, m2, m3, l0, l1, l2, l3, c0, c1, c2, c3] = *bytes;
        FrameHeader {
            marker_ok: [m0, m1, m2, m3] == FRAME_MARKER,
            payload_len: u32::from_be_bytes([l0, l1, l2, l3]),
            crc: u32::from_be_bytes([c0, c1, c2, c3]),
        }
    }

    /// Whether `payload` is the one this header was written for.
    pub(crate) fn crc_matches(&self, payload: &[u8]) -> bool {
        frame_crc(self.payload_len, payload) == self.crc
    }
}

/// The frame CRC: CRC-32C over the big-endian length then the payload, so a
/// damaged length is caught as well as a damaged payload.
fn frame_crc(payload_len: u32, payload: &[u8]) -> u32 {
    let crc = crc32c::crc32c(&payload_len.to_be_bytes());
    crc32c::crc32c_append(crc, payload)
}

/// Appends the framed entry to `out`.
pub(crate) fn encode_frame(entry: &JournalEntry, out: &mut Vec<u8>) -> Result<(), TooLarge> {
    let size = payload_size(entry).ok_or(TooLarge(usize::MAX))?;
    if size > MAX_ENTRY_BYTES {
        return Err(TooLarge(size));
    }
    // Every length inside is at most MAX_ENTRY_BYTES, so the u32 casts below hold.
    let payload_len = u32::try_from(size).map_err(|_| TooLarge(size))?;
    out.reserve(FRAME_HEADER_LEN + size);
    let frame_start = out.len();
    out.put_slice(&FRAME_MARKER);
    out.put_u32(payload_len);
    out.put_u32(0); // the CRC, filled in below
    let payload_start = out.len();
    out.put_i64(entry.failed_at_ms);
    put_bytes(out, entry.topic.as_bytes());
    put_flag(out, entry.partition.is_some());
    if let Some(partition) = entry.partition {
        out.put_i32(partition);
    }
    put_flag(out, entry.timestamp.is_some());
    if let Some(timestamp) = entry.timestamp {
        out.put_i64(timestamp);
    }
    put_nullable(out, entry.key.as_deref());
    put_nullable(out, entry.value.as_deref());
    out.put_u32(len_u32(entry.headers.len()));
    for header in &entry.headers {
        put_bytes(out, header.key.as_bytes());
        put_nullable(out, header.value.as_deref());
    }
    put_bytes(out, entry.error.as_bytes());
    debug_assert_eq!(out.len() - payload_start, size);
    let crc = frame_crc(payload_len, &out[payload_start..]);
    out[frame_start + 8..payload_start].copy_from_slice(&crc.to_be_bytes());
    Ok(())
}

/// The entry's encoded size exceeds [`MAX_ENTRY_BYTES`] (the size, saturated).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TooLarge(pub(crate) usize);

fn payload_size(entry: &JournalEntry) -> Option<usize> {
    let nullable = |b: Option<&[u8]>| 1 + b.map_or(0, |b| 4 + b.len());
    let mut size: usize = 8 + 4 + entry.topic.len();
    size = size.checked_add(1 + entry.partition.map_or(0, |_| 4))?;
    size = size.checked_add(1 + entry.timestamp.map_or(0, |_| 8))?;
    size = size.checked_add(nullable(entry.key.as_deref()))?;
    size = size.checked_add(nullable(entry.value.as_deref()))?;
    size = size.checked_add(4)?;
    for header in &entry.headers {
        size = size.checked_add(4 + header.key.len())?;
        size = size.checked_add(nullable(header.value.as_deref()))?;
    }
    size.checked_add(4 + entry.error.len())
}

fn len_u32(len: usize) -> u32 {
    // Callers checked the total against MAX_ENTRY_BYTES, far below u32::MAX.
    u32::try_from(len).unwrap_or(u32::MAX)
}

fn put_flag(out: &mut Vec<u8>, present: bool) {
    out.put_u8(u8::from(present));
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.put_u32(len_u32(bytes.len()));
    out.put_slice(bytes);
}

fn put_nullable(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    put_flag(out, bytes.is_some());
    if let Some(bytes) = bytes {
        put_bytes(out, bytes);
    }
}

/// Decodes a payload whose CRC matched. Keys, values and header values share
/// `payload`'s allocation.
pub(crate) fn decode_payload(payload: Bytes) -> Result<JournalEntry, String> {
    let mut cursor = Cursor {
        buf: &payload,
        pos: 0,
    };
    let failed_at_ms = cursor.i64("failed_at_ms")?;
    let topic = cursor.string("topic")?;
    let partition = match cursor.flag("partition")? {
        true => Some(cursor.i32("partition")?),
        false => None,
    };
    let timestamp = match cursor.flag("timestamp")? {
        true => Some(cursor.i64("timestamp")?),
        false => None,
    };
    let key = cursor.nullable("key")?;
    let value = cursor.nullable("value")?;
    let header_count = cursor.u32("header count")? as usize;
    // Each header takes at least 5 bytes (key length and value flag): never
    // reserve more than what is left could hold.
    let mut headers = Vec::with_capacity(header_count.min(cursor.remaining() / 5));
    for _ in 0..header_count {
        let key = cursor.string("header key")?;
        let value = cursor.nullable("header value")?;
        headers.push(Header { key, value });
    }
    let error = cursor.string("error")?;
    if cursor.remaining() != 0 {
        return Err(format!(
            "{} bytes left over after the entry",
            cursor.remaining()
        ));
    }
    Ok(JournalEntry {
        topic,
        partition,
        key,
        value,
        headers,
        timestamp,
        error,
        failed_at_ms,
    })
}

struct Cursor<'a> {
    buf: &'a Bytes,
    pos: usize,
}

impl Cursor<'_> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<std::ops::Range<usize>, String> {
        if n > self.remaining() {
            return Err(format!(
                "{what} needs {n} bytes at payload byte {}, only {} left",
                self.pos,
                self.remaining()
            ));
        }
        let range = self.pos..self.pos + n;
        self.pos += n;
        Ok(range)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], String> {
        let range = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.buf[range]);
        Ok(out)
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        self.array(what).map(u32::from_be_bytes)
    }

    fn i32(&mut self, what: &str) -> Result<i32, String> {
        self.array(what).map(i32::from_be_bytes)
    }

    fn i64(&mut self, what: &str) -> Result<i64, String> {
        self.array(what).map(i64::from_be_bytes)
    }

    fn flag(&mut self, what: &str) -> Result<bool, String> {
        match self.array::<1>(what)? {
            [0] => Ok(false),
            [1] => Ok(true),
            [other] => Err(format!("{what} presence flag is {other}, not 0 or 1")),
        }
    }

    fn bytes(&mut self, what: &str) -> Result<Bytes, String> {
        let len = self.u32(what)? as usize;
        let range = self.take(len, what)?;
        Ok(self.buf.slice(range))
    }

    fn string(&mut self, what: &str) -> Result<String, String> {
        let bytes = self.bytes(what)?;
        String::from_utf8(bytes.to_vec()).map_err(|e| format!("{what} is not UTF-8: {e}"))
    }

    fn nullable(&mut self, what: &str) -> Result<Option<Bytes>, String> {
        match self.flag(what)? {
            true => self.bytes(what).map(Some),
            false => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> JournalEntry {
        JournalEntry {
            topic: "tópico".into(),
            partition: Some(3),
            key: None,
            value: Some(Bytes::from_static(b"value")),
            headers: vec![Header::new("h", "v"), Header::null("n")],
            timestamp: Some(-1),
            error: "boom".into(),
            failed_at_ms: 42,
        }
    }

    fn frame_of(entry: &JournalEntry) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(entry, &mut out).unwrap();
        out
    }

    #[test]
    fn frame_round_trips_and_crc_covers_length_and_payload() {
        let frame = frame_of(&entry());
        let header = FrameHeader::parse(frame[..FRAME_HEADER_LEN].try_into().unwrap());
        assert!(header.marker_ok);
        assert_eq!(header.payload_len as usize, frame.len() - FRAME_HEADER_LEN);
        let payload = &frame[FRAME_HEADER_LEN..];
        assert!(header.crc_matches(payload));
        let mut damaged = payload.to_vec();
        damaged[5] ^= 0x40;
        assert!(!header.crc_matches(&damaged));
        let other_len = FrameHeader {
            payload_len: header.payload_len + 1,
            ..header
        };
        assert!(!other_len.crc_matches(payload));
        let decoded = decode_payload(Bytes::copy_from_slice(payload)).unwrap();
        assert_eq!(decoded, entry());
    }

    #[test]
    fn truncated_or_padded_payloads_are_errors() {
        let frame = frame_of(&entry());
        let payload = &frame[FRAME_HEADER_LEN..];
        for cut in 0..payload.len() {
            assert!(decode_payload(Bytes::copy_from_slice(&payload[..cut])).is_err());
        }
        let mut padded = payload.to_vec();
        padded.push(0);
        let error = decode_payload(Bytes::from(padded)).unwrap_err();
        assert!(error.contains("1 bytes left over"), "{error}");
    }

    #[test]
    fn bad_flags_and_huge_counts_are_errors_not_allocations() {
        let mut payload = Vec::new();
        payload.put_i64(0);
        payload.put_u32(1);
        payload.put_u8(b't');
        payload.put_u8(2); // partition flag neither 0 nor 1
        let error = decode_payload(Bytes::from(payload.clone())).unwrap_err();
        assert!(error.contains("presence flag is 2"), "{error}");

        payload.truncate(payload.len() - 1);
        payload.extend_from_slice(&[0, 0, 0, 0]); // no partition/timestamp/key/value
        payload.put_u32(u32::MAX); // header count
        let error = decode_payload(Bytes::from(payload)).unwrap_err();
        assert!(error.contains("header key"), "{error}");
    }

    #[test]
    fn oversized_entries_are_refused() {
        let big = JournalEntry {
            value: Some(Bytes::from(vec![0u8; MAX_ENTRY_BYTES])),
            ..entry()
        };
        let mut out = Vec::new();
        let TooLarge(size) = encode_frame(&big, &mut out).unwrap_err();
        assert!(size > MAX_ENTRY_BYTES);
        assert!(out.is_empty());
    }
}
