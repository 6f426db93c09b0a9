//! Shared by the block tests: where waveforms go, how many random
//! requests to run. (`hca_engines::on_every_backend!` runs a body on every
//! backend.)

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::path::PathBuf;

/// Waveforms of failing tests land here (override with `HCA_WAVE_DIR`).
pub fn wave_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("waves")
}

/// Requests for a random test: `var` if set (to shorten a debugging run),
/// else 100,000.
pub fn random_ops(var: &str) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
}
