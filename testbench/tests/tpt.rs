//! The TPT: random differential runs against the model with the protection
//! invariant checked on every response, and directed cases for every error
//! and every way a key dies, each on every backend.

mod common;

use hca_rtl::tpt::layout::MptEntry;
use hca_rtl::tpt::{access, status, MptKind, MptState, TptReq, TptResp};
use hca_sim::blocks::tpt::{open, TptTransactor, CACHE_LINES};
use hca_sim::Backend;
use hca_testbench::blocks::tpt::differential;
use hca_testbench::runner::run_replayable;
use hca_testbench::stream::Pacing;
use hca_testbench::Seed;

fn random_ops() -> u64 {
    std::env::var("HCA_TPT_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
}

on_every_backend! {
    fn random_differential(backend: Backend) {
        let seed = Seed::from_env();
        let n = random_ops();
        let stats = run_replayable("tpt_random_differential", backend.name(), seed, &common::wave_dir(), |wave| {
            let mut dut = open(backend, wave, Pacing::RANDOM, seed.0).map_err(|e| e.to_string())?;
            differential(&mut dut, &mut seed.rng("tpt-stimulus"), CACHE_LINES, n, |_| {})
        });
        println!("{}", stats.summary());
        assert_eq!(stats.ops, n);
        if n >= 100_000 {
            assert!(stats.ok.iter().all(|&k| k > 100), "{}", stats.summary());
            assert!(stats.statuses.len() >= 12, "every status reached: {}", stats.summary());
            assert!(stats.lookups_checked > 2000 && stats.dead_keys_refused > 100, "{}", stats.summary());
        }
    }
}
