//! Record payloads and keys, the same bytes for every client.
//!
//! Payloads are lines of a file (Java's `ProducerPerformance --payload-file`
//! reads the same file), each a JSON-looking event of exactly the record size,
//! so compression sees text with a realistic ratio rather than one repeated
//! buffer (which compresses to nothing) or pure noise (which does not compress).

use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, bail};
use bytes::Bytes;

/// How many distinct payloads a file holds; records pick one at random, so a
/// batch rarely holds the same payload twice.
pub const PAYLOAD_LINES: usize = 10_000;

/// How many distinct keys keyed runs cycle through.
pub const KEY_COUNT: usize = 10_000;

const WORDS: &[&str] = &[
    "alpha",
    "order",
    "placed",
    "shipped",
    "customer",
    "warehouse",
    "berlin",
    "lisbon",
    "oslo",
    "priority",
    "standard",
    "express",
    "card",
    "invoice",
    "refund",
    "basket",
    "coupon",
    "mobile",
    "desktop",
    "session",
    "checkout",
    "return",
    "pending",
    "settled",
    "retry",
    "null",
    "true",
];

/// Writes `PAYLOAD_LINES` payloads of exactly `size` bytes to `path` (one per
/// line), deterministically for a given size.
pub fn write_payload_file(path: &Path, size: usize) -> anyhow::Result<()> {
    if size < 48 {
        bail!("record size {size} is too small for a payload (at least 48 bytes)");
    }
    let mut rng = fastrand::Rng::with_seed(size as u64);
    let file = fs::File::create(path)
        .with_context(|| format!("cannot create payload file {}", path.display()))?;
    let mut out = BufWriter::new(file);
    for line in 0..PAYLOAD_LINES {
        out.write_all(&payload(&mut rng, line, size))?;
        out.write_all(b"\n")?;
    }
    out.flush()
        .with_context(|| format!("cannot write payload file {}", path.display()))
}

fn payload(rng: &mut fastrand::Rng, line: usize, size: usize) -> Vec<u8> {
    let mut text = format!(
        "{{\"id\":{line},\"user\":\"u{:05}\",\"amount\":{},\"note\":\"",
        rng.u32(0..100_000),
        rng.u32(100..1_000_000)
    );
    while text.len() < size - 2 {
        let word = WORDS[rng.usize(0..WORDS.len())];
        text.push_str(word);
        text.push(if rng.u8(0..4) == 0 {
            char::from(b'0' + rng.u8(0..10))
        } else {
            ' '
        });
    }
    text.truncate(size - 2);
    text.push_str("\"}");
    text.into_bytes()
}

/// One record's key and value, and which key and which line of the file they
/// are: a client with typed events keeps each line's and key's text once, as a
/// service holds the strings its events are made of (the bytes clients send
/// `key` and `value` as they are).
#[derive(Clone, Copy, Debug)]
pub struct Payload<'a> {
    /// The key, in a keyed run.
    pub key: Option<&'a Bytes>,
    /// The value.
    pub value: &'a Bytes,
    /// Which of the [`KEY_COUNT`] keys `key` is (also in a keyless run).
    pub key_number: usize,
    /// Which line of the payload file `value` is.
    pub line: usize,
}

/// The payloads of a file, ready to hand to producers without copying.
pub struct Payloads {
    values: Vec<Bytes>,
    keys: Vec<Bytes>,
    rng: fastrand::Rng,
}

impl Payloads {
    /// Reads the payloads of `path` (one per line).
    ///
    /// Values are slices of the file's one buffer, and keys of one buffer of
    /// their own, as a service holds bytes it read: cloning one (what a
    /// `Bytes`-taking client does per record) bumps a reference count the
    /// sending thread keeps in its cache. A `Bytes` per line instead gets
    /// its shared count allocated at its first clone, in the middle of the
    /// send loop, beside memory the producer's other threads free and write:
    /// each clone then missed on a cache line another core held, which `perf`
    /// showed as 30% of a `kafka-core` client's CPU on 100-byte records, a
    /// cost of this harness that no producer's user pays.
    pub fn load(path: &Path) -> anyhow::Result<Payloads> {
        let text = Bytes::from(
            fs::read(path)
                .with_context(|| format!("cannot read payload file {}", path.display()))?,
        );
        let values = lines(&text);
        if values.is_empty() {
            bail!("payload file {} has no payloads", path.display());
        }
        let key_text: String = (0..KEY_COUNT).map(|i| format!("key-{i:06}\n")).collect();
        let keys = lines(&Bytes::from(key_text));
        Ok(Payloads {
            values,
            keys,
            rng: fastrand::Rng::with_seed(7),
        })
    }

    /// Record `index`'s key (when `keyed`) and value: a payload picked at
    /// random, as `ProducerPerformance` picks its lines.
    pub fn record(&mut self, index: u64, keyed: bool) -> Payload<'_> {
        let line = self.rng.usize(0..self.values.len());
        let key_number = (index % self.keys.len() as u64) as usize;
        Payload {
            key: keyed.then(|| &self.keys[key_number]),
            value: &self.values[line],
            key_number,
            line,
        }
    }
}

/// The non-empty lines of `text`, each a slice of it (no copy).
fn lines(text: &Bytes) -> Vec<Bytes> {
    let mut lines = Vec::new();
    let mut start = 0;
    for line in text.split(|&b| b == b'\n') {
        if !line.is_empty() {
            lines.push(text.slice(start..start + line.len()));
        }
        start += line.len() + 1;
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_files_have_exact_sizes_and_are_deterministic() {
        let dir = std::env::temp_dir().join(format!("kafka-bench-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let first = dir.join("a.txt");
        let second = dir.join("b.txt");
        write_payload_file(&first, 100).unwrap();
        write_payload_file(&second, 100).unwrap();
        let text = fs::read(&first).unwrap();
        assert_eq!(text, fs::read(&second).unwrap());
        let lines: Vec<&[u8]> = text
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len(), PAYLOAD_LINES);
        assert!(lines.iter().all(|line| line.len() == 100));
        let mut payloads = Payloads::load(&first).unwrap();
        let payload = payloads.record(10_001, true);
        assert_eq!(
            (payload.key.map(|k| &k[..]), payload.value.len()),
            (Some(&b"key-000001"[..]), 100)
        );
        assert_eq!(payload.key_number, 1);
        let (line, value) = (payload.line, payload.value.clone());
        assert_eq!(value, payloads.values[line]);
        assert_eq!(payloads.record(1, false).key, None);
        // Every value is a slice of the file's one buffer, in line order.
        let base = payloads.values[0].as_ptr() as usize;
        assert!(
            payloads
                .values
                .iter()
                .enumerate()
                .all(|(i, value)| { value.as_ptr() as usize == base + i * 101 })
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn too_small_a_size_is_refused() {
        let path = std::env::temp_dir().join("kafka-bench-never-written.txt");
        assert!(write_payload_file(&path, 10).is_err());
    }
}
