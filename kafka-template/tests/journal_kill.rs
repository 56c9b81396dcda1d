//! A failure journal survives its writer being killed (SIGKILL) in the middle
//! of an append: every entry the writer reported synced is there, intact, and
//! appends continue after a restart.
//!
//! The writer is this test binary run again with `KT_JOURNAL_KILL_CHILD` set:
//! it appends large entries in a loop and prints `synced N` after each append
//! returns. The parent kills it, in alternate rounds either at a random moment
//! or as soon as the file shows a frame only partly written (the child is
//! inside `write(2)`), which is when a torn tail is made.

mod journal_common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use journal_common::capture_logs;
use kafka_core::Header;
use kafka_template::journal::{FailureJournal, JournalEntry};

const CHILD_ENV: &str = "KT_JOURNAL_KILL_CHILD";
const TEST_NAME: &str = "a_journal_killed_mid_write_keeps_every_synced_entry";
const ROUNDS: u64 = 8;

/// Entry `i`: everything derived from `i`, so the parent can check each byte.
fn entry(i: u64) -> JournalEntry {
    JournalEntry {
        topic: "kill-test".into(),
        partition: Some((i % 3) as i32),
        key: Some(Bytes::from(format!("entry-{i}"))),
        value: Some(value(i)),
        headers: vec![Header::new("seq", i.to_string()), Header::null("nothing")],
        timestamp: Some(1_700_000_000_000 + i as i64),
        error: format!("simulated failure {i}"),
        failed_at_ms: i as i64,
    }
}

/// 4 to 8 MiB, so a write takes long enough to be killed inside it.
fn value(i: u64) -> Bytes {
    let len = (4 << 20) + ((i * 7919) % 4096) * 1024;
    let seed = (i as u8).wrapping_mul(31);
    Bytes::from(
        (0..len)
            .map(|k| seed.wrapping_add((k % 251) as u8))
            .collect::<Vec<u8>>(),
    )
}

#[test]
fn a_journal_killed_mid_write_keeps_every_synced_entry() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        run_writer(Path::new(&path));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kill.journal");
    let mut rng = Rng::from_clock();
    eprintln!("kill test seed {}", rng.0);
    let mut highest_synced = 0;
    let mut torn_tails = 0;
    let mut in_write_kills = 0;
    for round in 0..ROUNDS {
        let outcome = run_round(&path, round, &mut rng);
        highest_synced = highest_synced.max(outcome.synced);
        in_write_kills += u32::from(outcome.killed_in_write);

        let (journal, logs) = capture_logs(|| FailureJournal::open(&path));
        let journal = journal.unwrap_or_else(|e| panic!("round {round}: open failed: {e}"));
        let report = journal.open_report().clone();
        assert!(report.quarantine.is_none(), "round {round}: {report:?}");
        if let Some(tail) = &report.torn_tail {
            torn_tails += 1;
            assert!(logs.contains("torn tail"), "round {round}: {logs}");
            eprintln!(
                "round {round}: torn tail of {} bytes at byte {} ({})",
                tail.bytes, tail.offset, tail.reason
            );
        }
        let mut count = 0;
        for (i, read) in journal.entries().unwrap().enumerate() {
            let read = read.unwrap_or_else(|e| panic!("round {round}: entry {i}: {e}"));
            assert!(read == entry(i as u64), "round {round}: entry {i} differs");
            count += 1;
        }
        assert!(
            count >= highest_synced,
            "round {round}: {count} entries, but the writer reported {highest_synced} synced"
        );
        eprintln!(
            "round {round}: {count} entries intact, {} reported synced, killed {}",
            outcome.synced,
            if outcome.killed_in_write {
                "mid-write"
            } else {
                "at a random moment"
            }
        );
    }
    eprintln!("{torn_tails} torn tails in {ROUNDS} rounds ({in_write_kills} kills mid-write)");
    if in_write_kills >= 3 {
        // A kill inside write(2) on a large buffer leaves part of it: the
        // recovery path must have run.
        assert!(torn_tails >= 1, "no kill left a torn tail");
    }
}

struct RoundOutcome {
    synced: u64,
    killed_in_write: bool,
}

fn run_round(path: &Path, round: u64, rng: &mut Rng) -> RoundOutcome {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let synced = Arc::new(AtomicU64::new(0));
    let opened = Arc::new(AtomicU64::new(u64::MAX));
    let stdout = child.stdout.take().unwrap();
    let reader = {
        let (synced, opened) = (synced.clone(), opened.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may print "test <name> ... " before the first line.
                if let Some((_, n)) = line.split_once("synced ") {
                    synced.fetch_max(n.trim().parse().unwrap(), Ordering::SeqCst);
                } else if let Some((_, n)) = line.split_once("opened ") {
                    opened.store(n.trim().parse().unwrap(), Ordering::SeqCst);
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let wait_for = |what: &dyn Fn() -> bool| {
        while !what() {
            assert!(
                Instant::now() < deadline,
                "the writer child made no progress"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    wait_for(&|| opened.load(Ordering::SeqCst) != u64::MAX);
    let target = opened.load(Ordering::SeqCst) + 1 + rng.below(4);
    wait_for(&|| synced.load(Ordering::SeqCst) >= target);
    let killed_in_write = if round.is_multiple_of(2) {
        wait_until_mid_write(path, Duration::from_secs(5))
    } else {
        std::thread::sleep(Duration::from_micros(rng.below(30_000)));
        false
    };
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    RoundOutcome {
        synced: synced.load(Ordering::SeqCst),
        killed_in_write,
    }
}

/// Watches the journal file until it shows a frame only partly written (the
/// child is inside `write(2)`: the page cache grows the file page by page).
/// `false` if that was not seen within `limit`.
fn wait_until_mid_write(path: &Path, limit: Duration) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut frame = 12u64; // start of the first frame not known to be whole
    let start = Instant::now();
    while start.elapsed() < limit {
        let Ok(size) = file.metadata().map(|m| m.len()) else {
            return false;
        };
        if size <= frame {
            continue; // between appends
        }
        if size < frame + 12 {
            return true; // even the frame header is not all there
        }
        let mut header = [0u8; 12];
        if file.seek(SeekFrom::Start(frame)).is_err() || file.read_exact(&mut header).is_err() {
            return false;
        }
        let len = u64::from(u32::from_be_bytes(header[4..8].try_into().unwrap()));
        if size < frame + 12 + len {
            return true;
        }
        frame += 12 + len;
    }
    false
}

/// The child: appends entries forever (until killed), reporting each synced.
fn run_writer(path: &Path) -> ! {
    use std::io::Write;
    let journal = FailureJournal::open(path).unwrap();
    let start = journal.len();
    let mut out = std::io::stdout().lock();
    writeln!(out, "opened {start}").unwrap();
    out.flush().unwrap();
    let give_up = Instant::now() + Duration::from_secs(90);
    for i in start.. {
        journal.append(&entry(i)).unwrap();
        writeln!(out, "synced {}", i + 1).unwrap();
        out.flush().unwrap();
        if Instant::now() > give_up {
            break;
        }
    }
    std::process::exit(0)
}

/// xorshift64*, seeded from the clock (the seed is printed).
struct Rng(u64);

impl Rng {
    fn from_clock() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        Rng(nanos | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}
