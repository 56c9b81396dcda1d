//! Runs one measured client process with a time limit, capturing its output.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// What a finished process printed, and how it ended.
pub struct Output {
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
    /// Whether it exited with status 0.
    pub success: bool,
    /// Its exit status.
    pub status: ExitStatus,
    /// How long it ran.
    pub wall: Duration,
}

impl Output {
    /// The last lines of standard error, for a failure note.
    pub fn stderr_tail(&self) -> String {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        lines[lines.len().saturating_sub(5)..].join(" | ")
    }
}

fn drain(mut source: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = source.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Runs `line` (program first) in a process group of its own; kills the whole
/// group if it runs longer than `timeout`.
pub fn run_with_timeout(line: &[String], timeout: Duration) -> anyhow::Result<Output> {
    let (program, args) = line.split_first().context("an empty command line")?;
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let stdout = drain(child.stdout.take().context("no stdout pipe")?);
    let stderr = drain(child.stderr.take().context("no stderr pipe")?);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > timeout {
            let group =
                Pid::from_raw(i32::try_from(child.id()).context("a process id out of range")?);
            let _ = killpg(group, Signal::SIGKILL);
            let _ = child.wait();
            bail!(
                "{} did not finish within {timeout:?} and was killed",
                program.rsplit('/').next().unwrap_or(program)
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    let wall = started.elapsed();
    Ok(Output {
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        success: status.success(),
        status,
        wall,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn output_and_status_are_captured() {
        let output = run_with_timeout(
            &line(&["sh", "-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(output.stdout, "out\n");
        assert_eq!(output.stderr_tail(), "err");
        assert!(!output.success);
        assert_eq!(output.status.code(), Some(3));
    }

    #[test]
    fn a_process_over_time_is_killed_with_its_children() {
        let started = Instant::now();
        let error = run_with_timeout(
            &line(&["sh", "-c", "sleep 30 & sleep 30"]),
            Duration::from_millis(300),
        )
        .err()
        .unwrap();
        assert!(error.to_string().contains("was killed"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
