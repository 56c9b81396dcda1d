//! Reading frames from a journal file: one frame at a given offset, checked
//! (marker, bounds, CRC, payload), and the search for the next intact frame
//! after a damaged one.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

use bytes::Bytes;

use super::codec::{self, FRAME_HEADER_LEN, FRAME_MARKER, FrameHeader, MAX_ENTRY_BYTES};
use super::entry::JournalEntry;

/// What is at an offset.
pub(crate) enum FrameRead {
    /// An intact entry, ending at `end`.
    Entry { entry: JournalEntry, end: u64 },
    /// Not an intact frame, and why.
    Damaged(String),
}

/// A buffered reader over a journal file that knows its position, so reading
/// frames one after another does not seek.
pub(crate) struct FrameSource {
    reader: BufReader<File>,
    pos: u64,
}

impl FrameSource {
    /// Reads `file` from its start (the caller positioned nothing).
    pub(crate) fn new(mut file: File) -> io::Result<Self> {
        file.seek(SeekFrom::Start(0))?;
        Ok(FrameSource {
            reader: BufReader::with_capacity(256 * 1024, file),
            pos: 0,
        })
    }

    fn seek_to(&mut self, offset: u64) -> io::Result<()> {
        if offset != self.pos {
            // Within the buffer this keeps it; beyond, it seeks.
            let delta = i128::from(offset) - i128::from(self.pos);
            match i64::try_from(delta) {
                Ok(delta) => self.reader.seek_relative(delta)?,
                Err(_) => {
                    self.reader.seek(SeekFrom::Start(offset))?;
                }
            }
            self.pos = offset;
        }
        Ok(())
    }

    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.seek_to(offset)?;
        self.reader.read_exact(buf)?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    /// Reads at most `buf.len()` bytes at `offset`, fewer only at end of file.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.seek_to(offset)?;
        let mut filled = 0;
        while filled < buf.len() {
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.pos += filled as u64;
        Ok(filled)
    }

    /// Checks the frame at `offset`, reading nothing at or past `limit` (the
    /// end of the valid region or of the file).
    pub(crate) fn read_frame(&mut self, offset: u64, limit: u64) -> io::Result<FrameRead> {
        let left = limit.saturating_sub(offset);
        if left < FRAME_HEADER_LEN as u64 {
            return Ok(FrameRead::Damaged(format!(
                "frame header cut short ({left} of {FRAME_HEADER_LEN} bytes)"
            )));
        }
        let mut header = [0u8; FRAME_HEADER_LEN];
        self.read_exact_at(offset, &mut header)?;
        let header = FrameHeader::parse(&header);
        if !header.marker_ok {
            return Ok(FrameRead::Damaged("no frame marker".to_owned()));
        }
        let payload_len = header.payload_len as usize;
        if payload_len > MAX_ENTRY_BYTES {
            return Ok(FrameRead::Damaged(format!(
                "frame length {payload_len} is over the {MAX_ENTRY_BYTES}-byte limit"
            )));
        }
        let payload_left = left - FRAME_HEADER_LEN as u64;
        if payload_len as u64 > payload_left {
            return Ok(FrameRead::Damaged(format!(
                "frame of {payload_len} bytes runs past the end ({payload_left} bytes left)"
            )));
        }
        // Bounded by MAX_ENTRY_BYTES and by what the file holds.
        let mut payload = vec![0u8; payload_len];
        self.read_exact_at(offset + FRAME_HEADER_LEN as u64, &mut payload)?;
        if !header.crc_matches(&payload) {
            return Ok(FrameRead::Damaged("checksum mismatch".to_owned()));
        }
        match codec::decode_payload(Bytes::from(payload)) {
            Ok(entry) => Ok(FrameRead::Entry {
                entry,
                end: offset + (FRAME_HEADER_LEN + payload_len) as u64,
            }),
            Err(reason) => Ok(FrameRead::Damaged(format!(
                "checksum matches but the entry does not decode: {reason}"
            ))),
        }
    }

    /// The offset of the first intact frame after `after`, before `limit`.
    ///
    /// Only offsets holding the frame marker are tried, so this costs a pass
    /// over the bytes plus one frame check per marker-looking position.
    pub(crate) fn next_intact_frame(&mut self, after: u64, limit: u64) -> io::Result<Option<u64>> {
        let mut from = after + 1;
        while let Some(candidate) = self.find_marker(from, limit)? {
            if let FrameRead::Entry { .. } = self.read_frame(candidate, limit)? {
                return Ok(Some(candidate));
            }
            from = candidate + 1;
        }
        Ok(None)
    }

    fn find_marker(&mut self, from: u64, limit: u64) -> io::Result<Option<u64>> {
        const CHUNK: usize = 64 * 1024;
        let overlap = FRAME_MARKER.len() as u64 - 1;
        let mut chunk = vec![0u8; CHUNK];
        let mut start = from;
        while start.saturating_add(FRAME_MARKER.len() as u64) <= limit {
            let want = usize::try_from(limit - start).map_or(CHUNK, |left| left.min(CHUNK));
            let got = self.read_at(start, &mut chunk[..want])?;
            if let Some(i) = chunk[..got]
                .windows(FRAME_MARKER.len())
                .position(|w| w == FRAME_MARKER)
            {
                return Ok(Some(start + i as u64));
            }
            if got < want || got as u64 <= overlap {
                return Ok(None);
            }
            start += got as u64 - overlap;
        }
        Ok(None)
    }
}
