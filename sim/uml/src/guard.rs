//! UML's process group: killed, and every member reaped, on every way out.

use std::process::Child;
use std::time::{Duration, Instant};

/// Kills UML's process group when dropped, whatever happened.
pub(crate) struct Guard {
    pub child: Child,
    pub done: bool,
}

/// Kill every process of group `pg` and wait (up to 5 s) until none is
/// left: UML's helper processes outlive its main one by a moment. We are
/// their subreaper (see [`crate::run`]), so we reap them ourselves rather
/// than wait for init to.
pub(crate) fn kill_group(pg: i32) {
    use nix::sys::signal::{killpg, Signal};
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    let group = nix::unistd::Pid::from_raw(pg);
    let members = nix::unistd::Pid::from_raw(-pg);
    let until = Instant::now() + Duration::from_secs(5);
    while killpg(group, None).is_ok() && Instant::now() < until {
        let _ = killpg(group, Signal::SIGKILL);
        while let Ok(s) = waitpid(members, Some(WaitPidFlag::WNOHANG)) {
            if s == WaitStatus::StillAlive {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

impl Guard {
    pub fn group(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn kill(&mut self) {
        if !self.done {
            let pg = self.group();
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pg),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = self.child.wait();
            kill_group(pg);
            self.done = true;
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.kill();
    }
}
