//! Shared by the block tests: run one test body on every backend.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::path::PathBuf;

/// Generates one `#[test]` per backend for a body `fn(Backend)`, so a test
/// is written once and a new backend is one line here.
#[macro_export]
macro_rules! on_every_backend {
    ($(#[$meta:meta])* fn $name:ident($backend:ident: Backend) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn body($backend: hca_sim::Backend) $body
            #[test]
            fn model() { body(hca_sim::Backend::Model) }
            #[test]
            fn rtl() { body(hca_sim::Backend::Rtl) }
            #[test]
            fn verilator() { body(hca_sim::Backend::Verilator) }
        }
    };
}

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
