//! Kafka's primitive types: fixed-width integers, varints, (compact) strings,
//! bytes and arrays, UUIDs and tagged fields.
//!
//! [`Encoder`] writes into a `BytesMut`; [`Decoder`] reads from a byte slice that
//! came from the network and is therefore untrusted: every read is bounds-checked,
//! and no allocation is sized by a length field before that length is checked
//! against the bytes actually present.
//!
//! Both carry a `flexible` flag: in flexible message versions (KIP-482) strings,
//! bytes and arrays use the *compact* encodings (unsigned-varint length + 1) and
//! structures end with tagged fields. Message code picks the flag once per version
//! and calls the same methods either way.

use bytes::{BufMut, Bytes, BytesMut};

use super::codec_error::{DecodeError, EncodeError};
use super::splices::{SPLICE_FROM, Splices};

/// Most array elements room is made for before they are read.
const PREALLOCATED_ELEMENTS: usize = 256;

/// A 128-bit Kafka UUID (topic ids), kept as its 16 wire bytes.
///
/// Displayed like Kafka displays it: URL-safe base64 without padding (22 chars).
///
/// ```
/// use kafka_core::protocol::Uuid;
/// assert_eq!(Uuid::ZERO.to_string(), "AAAAAAAAAAAAAAAAAAAAAA");
/// assert!(Uuid::ZERO.is_zero());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The all-zero UUID, Kafka's "no topic id".
    pub const ZERO: Uuid = Uuid([0; 16]);

    /// `true` for [`Uuid::ZERO`].
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl std::fmt::Display for Uuid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::with_capacity(22);
        for chunk in self.0.chunks(3) {
            let b0 = chunk[0];
            let b1 = chunk.get(1).copied().unwrap_or(0);
            let b2 = chunk.get(2).copied().unwrap_or(0);
            let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
            let symbols = chunk.len() + 1;
            for i in 0..symbols {
                let index = (n >> (18 - 6 * i)) & 0x3f;
                out.push(char::from(ALPHABET[index as usize]));
            }
        }
        f.write_str(&out)
    }
}

/// Writes Kafka primitives into a `BytesMut`.
///
/// ```
/// use bytes::BytesMut;
/// use kafka_core::protocol::primitives::Encoder;
/// let mut buf = BytesMut::new();
/// let mut enc = Encoder::new(&mut buf, true);
/// enc.string("hi")?;
/// enc.empty_tagged_fields();
/// assert_eq!(&buf[..], &[3, b'h', b'i', 0]);
/// # Ok::<(), kafka_core::protocol::EncodeError>(())
/// ```
#[derive(Debug)]
pub struct Encoder<'a> {
    buf: &'a mut BytesMut,
    flexible: bool,
    /// Where long shared fields go instead of `buf`, when they may.
    splices: Option<&'a mut Splices>,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `buf`; `flexible` selects compact encodings.
    pub fn new(buf: &'a mut BytesMut, flexible: bool) -> Self {
        Encoder {
            buf,
            flexible,
            splices: None,
        }
    }

    /// This encoder, leaving the long fields written with
    /// [`nullable_shared_bytes`](Self::nullable_shared_bytes) out of the
    /// buffer and listing them in `splices`, to be written from their own
    /// memory (see [`Splices`]).
    pub fn splicing_into(self, splices: &'a mut Splices) -> Self {
        Encoder {
            splices: Some(splices),
            ..self
        }
    }

    /// Whether compact encodings and tagged fields are in use.
    pub fn is_flexible(&self) -> bool {
        self.flexible
    }

    /// Bytes written to the underlying buffer so far (including earlier content).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// `true` when the underlying buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// `int8`.
    pub fn i8(&mut self, value: i8) {
        self.buf.put_i8(value);
    }

    /// `int16`, big-endian.
    pub fn i16(&mut self, value: i16) {
        self.buf.put_i16(value);
    }

    /// `int32`, big-endian.
    pub fn i32(&mut self, value: i32) {
        self.buf.put_i32(value);
    }

    /// `int64`, big-endian.
    pub fn i64(&mut self, value: i64) {
        self.buf.put_i64(value);
    }

    /// `boolean`: one byte, 0 or 1.
    pub fn bool(&mut self, value: bool) {
        self.buf.put_u8(u8::from(value));
    }

    /// `uuid`: 16 bytes.
    pub fn uuid(&mut self, value: &Uuid) {
        self.buf.put_slice(&value.0);
    }

    /// `unsigned_varint`: 7 bits per byte, low groups first.
    pub fn unsigned_varint(&mut self, value: u32) {
        put_unsigned_varint(self.buf, u64::from(value));
    }

    /// `varint`: zigzag-encoded `int32`.
    pub fn varint(&mut self, value: i32) {
        let zigzag = ((value << 1) ^ (value >> 31)) as u32;
        put_unsigned_varint(self.buf, u64::from(zigzag));
    }

    /// `varlong`: zigzag-encoded `int64`.
    pub fn varlong(&mut self, value: i64) {
        let zigzag = ((value << 1) ^ (value >> 63)) as u64;
        put_unsigned_varint(self.buf, zigzag);
    }

    /// Raw bytes with no length prefix.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }

    /// `string` (`int16` length) or `compact_string` when flexible.
    pub fn string(&mut self, value: &str) -> Result<(), EncodeError> {
        self.string_length(Some(value.len()))?;
        self.buf.put_slice(value.as_bytes());
        Ok(())
    }

    /// `nullable_string` or `compact_nullable_string` when flexible (`None` = null).
    pub fn nullable_string(&mut self, value: Option<&str>) -> Result<(), EncodeError> {
        match value {
            Some(value) => self.string(value),
            None => self.string_length(None),
        }
    }

    /// `bytes` (`int32` length) or `compact_bytes` when flexible.
    pub fn bytes(&mut self, value: &[u8]) -> Result<(), EncodeError> {
        self.length_prefix("bytes", Some(value.len()))?;
        self.buf.put_slice(value);
        Ok(())
    }

    /// `nullable_bytes` or `compact_nullable_bytes` when flexible (`None` = null).
    pub fn nullable_bytes(&mut self, value: Option<&[u8]>) -> Result<(), EncodeError> {
        match value {
            Some(value) => self.bytes(value),
            None => self.length_prefix("bytes", None),
        }
    }

    /// [`nullable_bytes`](Self::nullable_bytes) of a shared buffer: when
    /// this encoder splices and the field is long, only its length goes into
    /// the buffer and the bytes are listed to be written from where they are.
    pub fn nullable_shared_bytes(&mut self, value: Option<&Bytes>) -> Result<(), EncodeError> {
        let splicing = self.splices.is_some();
        let Some(value) = value.filter(|value| splicing && value.len() >= SPLICE_FROM) else {
            return self.nullable_bytes(value.map(|value| &value[..]));
        };
        self.length_prefix("bytes", Some(value.len()))?;
        let at = self.buf.len();
        if let Some(splices) = self.splices.as_deref_mut() {
            splices.push(at, value);
        }
        Ok(())
    }

    /// `array` (`int32` count) or `compact_array` when flexible, writing each
    /// element with `write`.
    pub fn array<T>(
        &mut self,
        items: &[T],
        mut write: impl FnMut(&mut Self, &T) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        self.length_prefix("array", Some(items.len()))?;
        for item in items {
            write(self, item)?;
        }
        Ok(())
    }

    /// A nullable array (`None` = null, count -1 or compact 0).
    pub fn nullable_array<T>(
        &mut self,
        items: Option<&[T]>,
        write: impl FnMut(&mut Self, &T) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        match items {
            Some(items) => self.array(items, write),
            None => self.length_prefix("array", None),
        }
    }

    /// An `int32` array, the most common primitive array.
    pub fn i32_array(&mut self, items: &[i32]) -> Result<(), EncodeError> {
        self.array(items, |enc, &value| {
            enc.i32(value);
            Ok(())
        })
    }

    /// An array of strings.
    pub fn string_array<S: AsRef<str>>(&mut self, items: &[S]) -> Result<(), EncodeError> {
        self.array(items, |enc, value| enc.string(value.as_ref()))
    }

    /// The tagged-field section with no fields (a single 0), written only when
    /// flexible. This client sends no tagged fields.
    pub fn empty_tagged_fields(&mut self) {
        if self.flexible {
            self.buf.put_u8(0);
        }
    }

    fn string_length(&mut self, length: Option<usize>) -> Result<(), EncodeError> {
        if self.flexible {
            return self.length_prefix("string", length);
        }
        match length {
            None => self.buf.put_i16(-1),
            Some(length) => {
                let prefix = i16::try_from(length).map_err(|_| EncodeError::TooLong {
                    what: "string",
                    length,
                    max: i16::MAX as usize,
                })?;
                self.buf.put_i16(prefix);
            }
        }
        Ok(())
    }

    /// `int32` length (-1 = null) or, when flexible, unsigned varint length + 1 (0 = null).
    fn length_prefix(
        &mut self,
        what: &'static str,
        length: Option<usize>,
    ) -> Result<(), EncodeError> {
        let max = if self.flexible {
            u32::MAX as usize - 1
        } else {
            i32::MAX as usize
        };
        match length {
            Some(length) if length > max => Err(EncodeError::TooLong { what, length, max }),
            Some(length) if self.flexible => {
                put_unsigned_varint(self.buf, length as u64 + 1);
                Ok(())
            }
            Some(length) => {
                self.buf.put_i32(length as i32);
                Ok(())
            }
            None if self.flexible => {
                self.buf.put_u8(0);
                Ok(())
            }
            None => {
                self.buf.put_i32(-1);
                Ok(())
            }
        }
    }
}

fn put_unsigned_varint(buf: &mut BytesMut, mut value: u64) {
    while value >= 0x80 {
        buf.put_u8((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

/// Reads Kafka primitives from untrusted bytes.
///
/// ```
/// use kafka_core::protocol::primitives::Decoder;
/// let mut dec = Decoder::new(&[0, 0, 0, 7, 3, b'h', b'i'], false);
/// assert_eq!(dec.i32()?, 7);
/// dec.set_flexible(true);
/// assert_eq!(dec.string()?, "hi");
/// assert!(dec.is_empty());
/// # Ok::<(), kafka_core::protocol::DecodeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    flexible: bool,
}

impl<'a> Decoder<'a> {
    /// A decoder over `buf`, reading compact encodings when `flexible`.
    pub fn new(buf: &'a [u8], flexible: bool) -> Self {
        Decoder {
            buf,
            pos: 0,
            flexible,
        }
    }

    /// Switch between classic and compact (flexible) encodings.
    pub fn set_flexible(&mut self, flexible: bool) {
        self.flexible = flexible;
    }

    /// Whether compact encodings and tagged fields are expected.
    pub fn is_flexible(&self) -> bool {
        self.flexible
    }

    /// Offset of the next byte to read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// `true` when everything has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Take the next `len` bytes.
    pub fn take(&mut self, what: &'static str, len: usize) -> Result<&'a [u8], DecodeError> {
        let remaining = self.remaining();
        if len > remaining {
            return Err(DecodeError::UnexpectedEof {
                what,
                offset: self.pos,
                needed: len,
                remaining,
            });
        }
        let start = self.pos;
        self.pos += len;
        Ok(&self.buf[start..start + len])
    }

    fn array_of<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(what, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// `int8`.
    pub fn i8(&mut self) -> Result<i8, DecodeError> {
        Ok(i8::from_be_bytes(self.array_of("int8")?))
    }

    /// `int16`.
    pub fn i16(&mut self) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.array_of("int16")?))
    }

    /// `int32`.
    pub fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array_of("int32")?))
    }

    /// `int64`.
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array_of("int64")?))
    }

    /// `boolean`; bytes other than 0 and 1 are rejected.
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        let offset = self.pos;
        match self.array_of::<1>("boolean")?[0] {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(DecodeError::InvalidBool { offset, value }),
        }
    }

    /// `uuid`.
    pub fn uuid(&mut self) -> Result<Uuid, DecodeError> {
        Ok(Uuid(self.array_of("uuid")?))
    }

    /// `unsigned_varint` (at most 5 bytes, fits `u32`).
    pub fn unsigned_varint(&mut self) -> Result<u32, DecodeError> {
        let offset = self.pos;
        let value = self.raw_varint("unsigned varint", 5)?;
        u32::try_from(value).map_err(|_| DecodeError::VarintTooLong {
            what: "unsigned varint",
            offset,
            max_bytes: 5,
        })
    }

    /// `varint` (zigzag `int32`).
    pub fn varint(&mut self) -> Result<i32, DecodeError> {
        let offset = self.pos;
        let raw = self.raw_varint("varint", 5)?;
        let raw = u32::try_from(raw).map_err(|_| DecodeError::VarintTooLong {
            what: "varint",
            offset,
            max_bytes: 5,
        })?;
        Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
    }

    /// `varlong` (zigzag `int64`).
    pub fn varlong(&mut self) -> Result<i64, DecodeError> {
        let raw = self.raw_varint("varlong", 10)?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    fn raw_varint(&mut self, what: &'static str, max_bytes: usize) -> Result<u64, DecodeError> {
        let offset = self.pos;
        let mut value: u64 = 0;
        for index in 0..max_bytes {
            let byte = self.array_of::<1>(what)?[0];
            let shift = 7 * index as u32;
            let bits = u64::from(byte & 0x7f);
            // The tenth byte of a varlong may only carry the top bit of a u64.
            if shift == 63 && bits > 1 {
                return Err(DecodeError::VarintTooLong {
                    what,
                    offset,
                    max_bytes,
                });
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::VarintTooLong {
            what,
            offset,
            max_bytes,
        })
    }

    /// A non-null `string` (or `compact_string` when flexible).
    pub fn string(&mut self) -> Result<String, DecodeError> {
        let offset = self.pos;
        self.nullable_string()?.ok_or(DecodeError::UnexpectedNull {
            what: "string",
            offset,
        })
    }

    /// A `nullable_string` (or `compact_nullable_string` when flexible).
    pub fn nullable_string(&mut self) -> Result<Option<String>, DecodeError> {
        let offset = self.pos;
        let length = if self.flexible {
            self.compact_length("compact string")?
        } else {
            match self.i16()? {
                -1 => None,
                length if length < 0 => {
                    return Err(DecodeError::InvalidLength {
                        what: "string",
                        offset,
                        length: i64::from(length),
                    });
                }
                length => Some(length as usize),
            }
        };
        let Some(length) = length else {
            return Ok(None);
        };
        let start = self.pos;
        let bytes = self.take("string", length)?;
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Some(text.to_owned())),
            Err(_) => Err(DecodeError::InvalidUtf8 {
                what: "string",
                offset: start,
            }),
        }
    }

    /// Non-null `bytes` (or `compact_bytes`), borrowed from the input.
    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let offset = self.pos;
        self.nullable_bytes()?.ok_or(DecodeError::UnexpectedNull {
            what: "bytes",
            offset,
        })
    }

    /// `nullable_bytes` (or `compact_nullable_bytes`), borrowed from the input.
    pub fn nullable_bytes(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
        match self.length("bytes")? {
            None => Ok(None),
            Some(length) => self.take("bytes", length).map(Some),
        }
    }

    /// A non-null array, reading each element with `read`.
    ///
    /// The count is checked against the remaining bytes before anything is
    /// allocated (every element of every Kafka message takes at least one byte).
    pub fn array<T>(
        &mut self,
        read: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let offset = self.pos;
        self.nullable_array(read)?
            .ok_or(DecodeError::UnexpectedNull {
                what: "array",
                offset,
            })
    }

    /// A nullable array (`None` for null).
    pub fn nullable_array<T>(
        &mut self,
        mut read: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<Vec<T>>, DecodeError> {
        let offset = self.pos;
        let Some(count) = self.length("array")? else {
            return Ok(None);
        };
        let remaining = self.remaining();
        if count > remaining {
            return Err(DecodeError::TooManyElements {
                what: "array",
                offset,
                count: count as u64,
                remaining,
            });
        }
        // Room for at most a few elements up front: `count` is only bounded
        // by the bytes left (an element may be one byte), and an element in
        // memory may be a hundred times that, so a large hostile frame could
        // otherwise ask for gigabytes before a single element is read.
        let mut items = Vec::with_capacity(count.min(PREALLOCATED_ELEMENTS));
        for _ in 0..count {
            items.push(read(self)?);
        }
        Ok(Some(items))
    }

    /// An `int32` array.
    pub fn i32_array(&mut self) -> Result<Vec<i32>, DecodeError> {
        self.array(|dec| dec.i32())
    }

    /// An array of non-null strings.
    pub fn string_array(&mut self) -> Result<Vec<String>, DecodeError> {
        self.array(|dec| dec.string())
    }

    /// Skip a tagged-field section (when flexible; a no-op otherwise).
    pub fn skip_tagged_fields(&mut self) -> Result<(), DecodeError> {
        self.tagged_fields(|_, _| Ok(()))
    }

    /// Read a tagged-field section (when flexible; a no-op otherwise), calling
    /// `field(tag, decoder)` for each field with a flexible decoder limited to the
    /// field's bytes. Handlers ignore tags they do not know, which is how unknown
    /// tags are skipped.
    pub fn tagged_fields(
        &mut self,
        mut field: impl FnMut(u32, &mut Decoder<'a>) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        if !self.flexible {
            return Ok(());
        }
        let offset = self.pos;
        let count = self.unsigned_varint()?;
        // Each tagged field takes at least two bytes (tag and size).
        let remaining = self.remaining();
        if count as usize > remaining / 2 {
            return Err(DecodeError::TooManyElements {
                what: "tagged fields",
                offset,
                count: u64::from(count),
                remaining,
            });
        }
        for _ in 0..count {
            let tag = self.unsigned_varint()?;
            let size = self.unsigned_varint()? as usize;
            let bytes = self.take("tagged field", size)?;
            field(tag, &mut Decoder::new(bytes, true))?;
        }
        Ok(())
    }

    /// `int32` length (-1 = null) or compact unsigned varint length + 1 (0 = null).
    fn length(&mut self, what: &'static str) -> Result<Option<usize>, DecodeError> {
        if self.flexible {
            return self.compact_length(what);
        }
        let offset = self.pos;
        match self.i32()? {
            -1 => Ok(None),
            length if length < 0 => Err(DecodeError::InvalidLength {
                what,
                offset,
                length: i64::from(length),
            }),
            length => Ok(Some(length as usize)),
        }
    }

    fn compact_length(&mut self, _what: &'static str) -> Result<Option<usize>, DecodeError> {
        Ok(match self.unsigned_varint()? {
            0 => None,
            n => Some(n as usize - 1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(flexible: bool, write: impl FnOnce(&mut Encoder<'_>)) -> BytesMut {
        let mut buf = BytesMut::new();
        write(&mut Encoder::new(&mut buf, flexible));
        buf
    }

    #[test]
    fn unsigned_varints_match_the_protocol_examples() {
        let cases: [(u32, &[u8]); 5] = [
            (0, &[0x00]),
            (1, &[0x01]),
            (127, &[0x7f]),
            (300, &[0xac, 0x02]),
            (u32::MAX, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
        ];
        for (value, bytes) in cases {
            assert_eq!(
                &encoded(false, |e| e.unsigned_varint(value))[..],
                bytes,
                "{value}"
            );
            assert_eq!(Decoder::new(bytes, false).unsigned_varint(), Ok(value));
        }
    }

    #[test]
    fn zigzag_varints_round_trip_at_the_edges() {
        for value in [0, -1, 1, -64, 63, 64, i32::MIN, i32::MAX] {
            let buf = encoded(false, |e| e.varint(value));
            let mut dec = Decoder::new(&buf, false);
            assert_eq!(dec.varint(), Ok(value));
            assert!(dec.is_empty());
        }
        assert_eq!(&encoded(false, |e| e.varint(-1))[..], &[0x01]);
        assert_eq!(&encoded(false, |e| e.varint(1))[..], &[0x02]);
        for value in [0, -1, 1, i64::MIN, i64::MAX, 1 << 40] {
            let buf = encoded(false, |e| e.varlong(value));
            let mut dec = Decoder::new(&buf, false);
            assert_eq!(dec.varlong(), Ok(value));
            assert!(dec.is_empty());
        }
        assert_eq!(encoded(false, |e| e.varlong(i64::MIN)).len(), 10);
    }

    #[test]
    fn overlong_varints_are_rejected() {
        let six = [0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
        assert!(matches!(
            Decoder::new(&six, false).unsigned_varint(),
            Err(DecodeError::VarintTooLong { .. })
        ));
        // Five bytes whose value overflows u32.
        let big = [0xff, 0xff, 0xff, 0xff, 0x7f];
        assert!(Decoder::new(&big, false).unsigned_varint().is_err());
        let eleven = [0xff; 11];
        assert!(Decoder::new(&eleven, false).varlong().is_err());
        let tenth_too_big = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(Decoder::new(&tenth_too_big, false).varlong().is_err());
        assert!(matches!(
            Decoder::new(&[0x80], false).unsigned_varint(),
            Err(DecodeError::UnexpectedEof { .. })
        ));
    }

    #[test]
    fn strings_in_both_encodings() {
        assert_eq!(
            &encoded(false, |e| e.string("ab").unwrap())[..],
            &[0, 2, b'a', b'b']
        );
        assert_eq!(
            &encoded(true, |e| e.string("ab").unwrap())[..],
            &[3, b'a', b'b']
        );
        assert_eq!(
            &encoded(false, |e| e.nullable_string(None).unwrap())[..],
            &[0xff, 0xff]
        );
        assert_eq!(
            &encoded(true, |e| e.nullable_string(None).unwrap())[..],
            &[0]
        );
        assert_eq!(&encoded(true, |e| e.string("").unwrap())[..], &[1]);

        for flexible in [false, true] {
            let buf = encoded(flexible, |e| {
                e.string("héllo").unwrap();
                e.nullable_string(None).unwrap();
                e.nullable_string(Some("")).unwrap();
            });
            let mut dec = Decoder::new(&buf, flexible);
            assert_eq!(dec.string().unwrap(), "héllo");
            assert_eq!(dec.nullable_string().unwrap(), None);
            assert_eq!(dec.nullable_string().unwrap(), Some(String::new()));
            assert!(dec.is_empty());
        }
    }

    #[test]
    fn bad_strings_are_typed_errors() {
        assert!(matches!(
            Decoder::new(&[0xff, 0xff], false).string(),
            Err(DecodeError::UnexpectedNull { .. })
        ));
        assert!(matches!(
            Decoder::new(&[0xff, 0xfe], false).nullable_string(),
            Err(DecodeError::InvalidLength { length: -2, .. })
        ));
        assert!(matches!(
            Decoder::new(&[0x00, 0x05, b'a'], false).string(),
            Err(DecodeError::UnexpectedEof {
                needed: 5,
                remaining: 1,
                ..
            })
        ));
        assert!(matches!(
            Decoder::new(&[0x02, 0xff], true).string(),
            Err(DecodeError::InvalidUtf8 { offset: 1, .. })
        ));
        let long = "x".repeat(40_000);
        let mut buf = BytesMut::new();
        assert!(matches!(
            Encoder::new(&mut buf, false).string(&long),
            Err(EncodeError::TooLong { what: "string", .. })
        ));
        assert!(Encoder::new(&mut buf, true).string(&long).is_ok());
    }

    #[test]
    fn bytes_in_both_encodings() {
        assert_eq!(
            &encoded(false, |e| e.bytes(b"x").unwrap())[..],
            &[0, 0, 0, 1, b'x']
        );
        assert_eq!(&encoded(true, |e| e.bytes(b"x").unwrap())[..], &[2, b'x']);
        assert_eq!(
            &encoded(false, |e| e.nullable_bytes(None).unwrap())[..],
            &[0xff; 4]
        );
        assert_eq!(
            &encoded(true, |e| e.nullable_bytes(None).unwrap())[..],
            &[0]
        );
        for flexible in [false, true] {
            let buf = encoded(flexible, |e| {
                e.bytes(b"abc").unwrap();
                e.nullable_bytes(None).unwrap();
            });
            let mut dec = Decoder::new(&buf, flexible);
            assert_eq!(dec.bytes().unwrap(), b"abc");
            assert_eq!(dec.nullable_bytes().unwrap(), None);
            assert!(dec.is_empty());
        }
    }

    #[test]
    fn arrays_in_both_encodings_and_counts_are_capped() {
        assert_eq!(
            &encoded(false, |e| e.i32_array(&[1, 2]).unwrap())[..],
            &[0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]
        );
        assert_eq!(
            &encoded(true, |e| e.i32_array(&[7]).unwrap())[..],
            &[2, 0, 0, 0, 7]
        );
        assert_eq!(
            &encoded(true, |e| e
                .nullable_array::<i32>(None, |_, _| Ok(()))
                .unwrap())[..],
            &[0]
        );
        assert_eq!(
            &encoded(false, |e| e
                .nullable_array::<i32>(None, |_, _| Ok(()))
                .unwrap())[..],
            &[0xff; 4]
        );
        for flexible in [false, true] {
            let buf = encoded(flexible, |e| {
                e.i32_array(&[5, -6]).unwrap();
                e.string_array(&["a", "b"]).unwrap();
            });
            let mut dec = Decoder::new(&buf, flexible);
            assert_eq!(dec.i32_array().unwrap(), vec![5, -6]);
            assert_eq!(dec.string_array().unwrap(), vec!["a", "b"]);
            assert!(dec.is_empty());
        }
        // A two-billion element count over four bytes must not allocate.
        let hostile = [0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        assert!(matches!(
            Decoder::new(&hostile, false).i32_array(),
            Err(DecodeError::TooManyElements { .. })
        ));
        assert!(matches!(
            Decoder::new(&[0xff, 0xff, 0xff, 0xff, 0x0f], true).i32_array(),
            Err(DecodeError::TooManyElements { .. })
        ));
        assert!(matches!(
            Decoder::new(&[0xff, 0xff, 0xff, 0xfe], false).i32_array(),
            Err(DecodeError::InvalidLength { .. })
        ));
    }

    #[test]
    fn tagged_fields_are_skipped_or_handed_over() {
        // Two fields: tag 0 = [0xaa], tag 5 = [0x01, 0x02]; then an int8 after.
        let buf = [2, 0, 1, 0xaa, 5, 2, 1, 2, 9];
        let mut dec = Decoder::new(&buf, true);
        let mut seen = Vec::new();
        dec.tagged_fields(|tag, field| {
            seen.push((tag, field.remaining()));
            if tag == 0 {
                assert_eq!(field.i8()?, 0xaau8 as i8);
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, vec![(0, 1), (5, 2)]);
        assert_eq!(dec.i8().unwrap(), 9);

        let mut dec = Decoder::new(&buf, true);
        dec.skip_tagged_fields().unwrap();
        assert_eq!(dec.remaining(), 1);

        // Non-flexible: nothing is read.
        let mut dec = Decoder::new(&buf, false);
        dec.skip_tagged_fields().unwrap();
        assert_eq!(dec.remaining(), buf.len());

        // A field claiming more bytes than exist.
        assert!(
            Decoder::new(&[1, 0, 9, 0], true)
                .skip_tagged_fields()
                .is_err()
        );
        assert!(matches!(
            Decoder::new(&[0x7f, 0], true).skip_tagged_fields(),
            Err(DecodeError::TooManyElements { .. })
        ));

        assert_eq!(&encoded(true, |e| e.empty_tagged_fields())[..], &[0]);
        assert!(encoded(false, |e| e.empty_tagged_fields()).is_empty());
    }

    #[test]
    fn fixed_width_values_and_booleans() {
        let buf = encoded(false, |e| {
            e.i8(-2);
            e.i16(-300);
            e.i32(70_000);
            e.i64(-5_000_000_000);
            e.bool(true);
            e.uuid(&Uuid([9; 16]));
        });
        assert_eq!(buf.len(), 1 + 2 + 4 + 8 + 1 + 16);
        let mut dec = Decoder::new(&buf, false);
        assert_eq!(dec.i8(), Ok(-2));
        assert_eq!(dec.i16(), Ok(-300));
        assert_eq!(dec.i32(), Ok(70_000));
        assert_eq!(dec.i64(), Ok(-5_000_000_000));
        assert_eq!(dec.bool(), Ok(true));
        assert_eq!(dec.uuid(), Ok(Uuid([9; 16])));
        assert!(dec.is_empty());
        assert!(matches!(dec.i8(), Err(DecodeError::UnexpectedEof { .. })));
        assert_eq!(
            Decoder::new(&[2], false).bool(),
            Err(DecodeError::InvalidBool {
                offset: 0,
                value: 2
            })
        );
    }

    #[test]
    fn uuid_displays_as_kafka_base64() {
        // Kafka prints topic ids as URL-safe base64 without padding.
        let uuid = Uuid([
            0xfb, 0xef, 0xff, 0x00, 0x10, 0x83, 0x10, 0x51, 0x87, 0x20, 0x92, 0x8b, 0x30, 0xd3,
            0x8f, 0x41,
        ]);
        assert_eq!(uuid.to_string(), "--__ABCDEFGHIJKLMNOPQQ");
        assert_eq!(uuid.to_string().len(), 22);
    }
}
