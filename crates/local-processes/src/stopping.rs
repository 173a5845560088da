//! Stopping a child process: a signal it can act on (drain, shut down fast), a grace
//! period, then SIGKILL, so that nothing outlives whoever started it.

use std::{
    process::Child,
    thread::sleep,
    time::{Duration, Instant},
};

use nix::{sys::signal::Signal, unistd::Pid};

/// How a stopped process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// It exited within the grace period (or had exited before).
    Exited,
    /// It was still running after the grace period and was killed.
    Killed,
}

/// Sends `signal` to `child`, waits up to `grace` for it to exit, then kills it.
pub fn stop(child: &mut Child, signal: Signal, grace: Duration) -> Ending {
    send(child, signal);
    wait_or_kill(child, grace)
}

/// Waits up to `grace` for a child that was asked to stop some other way (its stdin
/// closed, say) to exit, then kills it.
pub fn wait_or_kill(child: &mut Child, grace: Duration) -> Ending {
    wait_until_or_kill(child, Instant::now() + grace)
}

/// Sends `signal` unless the child has already exited and been reaped: its pid may
/// then belong to another process.
pub(crate) fn send(child: &mut Child, signal: Signal) {
    if let Ok(None) = child.try_wait() {
        let _ = nix::sys::signal::kill(Pid::from_raw(child.id() as i32), signal);
    }
}

/// Waits until `deadline` for the child to exit, then kills it; reaps it either way.
pub(crate) fn wait_until_or_kill(child: &mut Child, deadline: Instant) -> Ending {
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return Ending::Exited,
            Ok(None) if Instant::now() >= deadline => break,
            Ok(None) => sleep(Duration::from_millis(50)),
        }
    }
    kill_now(child);
    Ending::Killed
}

/// SIGKILL, then reap: no draining, as a crash.
pub(crate) fn kill_now(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    #[test]
    fn a_process_that_heeds_the_signal_exits_within_the_grace_period() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let ending = stop(&mut child, Signal::SIGTERM, Duration::from_secs(10));
        assert_eq!(ending, Ending::Exited);
    }

    #[test]
    fn a_process_that_ignores_the_signal_is_killed_after_the_grace_period() {
        let mut child = Command::new("sh")
            .args(["-c", "trap '' TERM; exec sleep 30"])
            .spawn()
            .unwrap();
        // Give the shell a moment to set its trap.
        sleep(Duration::from_millis(200));
        let started = Instant::now();
        let ending = stop(&mut child, Signal::SIGTERM, Duration::from_millis(300));
        assert_eq!(ending, Ending::Killed);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(child.try_wait().unwrap().is_some(), "reaped");
    }
}
