//! A broker stalled during a client's measured window: SIGSTOP, held, SIGCONT.
//!
//! The client process itself does it (`--stall-pid`), timed from the start of
//! its measured window, so the stall falls inside the window whatever the
//! warm-up took. A stopped broker keeps its sockets open and answers nothing,
//! as in a long GC pause or on a hung disk; what it shows is whether records
//! bound for the *other* brokers go on while it is stalled.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::task::JoinHandle;

/// A stall under way; the broker is let go (SIGCONT) at the end of the hold,
/// and in any case when this is dropped.
pub struct BrokerStall {
    pid: Pid,
    stopped: Arc<AtomicBool>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl BrokerStall {
    /// Stops process `pid` `after` from now and lets it go `hold` later.
    pub fn start(pid: i32, after: Duration, hold: Duration) -> BrokerStall {
        let pid = Pid::from_raw(pid);
        let stopped = Arc::new(AtomicBool::new(false));
        let flag = stopped.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(after).await;
            kill(pid, Signal::SIGSTOP)
                .with_context(|| format!("cannot stall the broker (SIGSTOP to pid {pid})"))?;
            flag.store(true, Ordering::SeqCst);
            tokio::time::sleep(hold).await;
            kill(pid, Signal::SIGCONT)
                .with_context(|| format!("cannot resume the broker (SIGCONT to pid {pid})"))?;
            flag.store(false, Ordering::SeqCst);
            Ok(())
        });
        BrokerStall { pid, stopped, task }
    }

    /// Waits until the stall is over (the broker resumed); its error, if a
    /// signal could not be sent.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        (&mut self.task)
            .await
            .context("the stall task did not run to its end")?
    }
}

impl Drop for BrokerStall {
    fn drop(&mut self) {
        self.task.abort();
        if self.stopped.load(Ordering::SeqCst) {
            // Never leave a broker stopped behind a failed run.
            let _ = kill(self.pid, Signal::SIGCONT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_child_is_stopped_then_let_go() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep runs");
        let pid = i32::try_from(child.id()).expect("a pid fits i32");
        let state = |pid: i32| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.chars().next()))
                .flatten()
        };
        let stall = BrokerStall::start(pid, Duration::ZERO, Duration::from_millis(300));
        // Wait for the stop itself (a condition), not for a guessed time.
        let mut waited = Duration::ZERO;
        while state(pid) != Some('T') {
            assert!(waited < Duration::from_secs(5), "never stopped");
            tokio::time::sleep(Duration::from_millis(5)).await;
            waited += Duration::from_millis(5);
        }
        stall.finish().await.expect("both signals sent");
        assert_ne!(state(pid), Some('T'), "still stopped after the hold");
        child.kill().expect("kill the child");
        let _ = child.wait();
    }
}
