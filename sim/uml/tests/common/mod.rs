//! What the UML tests share: the kernel (built once per test binary), one
//! run at a time, and the check that a run left nothing behind.

#![allow(dead_code)]

use hca_uml::{self as uml, Kernel, Report};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

pub fn kernel() -> Kernel {
    static K: OnceLock<Mutex<Option<Kernel>>> = OnceLock::new();
    let m = K.get_or_init(|| Mutex::new(None));
    let mut k = m.lock().unwrap_or_else(|e| e.into_inner());
    if k.is_none() {
        *k = Some(uml::kernel(repo()).expect("building the UML kernel"));
    }
    k.clone().unwrap()
}

/// One run at a time: UML waits at most ~40 ms for an MMIO read, and
/// more guests and their devices on two cores than a run holds would make
/// that a race.
pub static ONE: Mutex<()> = Mutex::new(());

pub fn left_nothing(r: &Report) {
    assert!(!r.run_dir.exists(), "{} left behind", r.run_dir.display());
    let pg = nix::unistd::Pid::from_raw(r.process_group);
    assert_eq!(
        nix::sys::signal::killpg(pg, None),
        Err(nix::errno::Errno::ESRCH),
        "UML's process group is still alive"
    );
}
