//! The CQ and EQ engine: random differential runs against the model with a
//! polling consumer checking every CQE once and in order across resizes,
//! each on every backend.

mod common;

use hca_sim::blocks::cq::open;
use hca_testbench::blocks::cq::differential;
use hca_testbench::runner::run_replayable;
use hca_testbench::stream::Pacing;
use hca_testbench::Seed;

on_every_backend! {
    fn random_differential(backend: Backend) {
        let seed = Seed::from_env();
        let n = common::random_ops("HCA_CQ_OPS");
        let stats = run_replayable("cq_random_differential", backend.name(), seed, &common::wave_dir(), |wave| {
            let mut dut = open(backend, wave, Pacing::RANDOM, seed.0).map_err(|e| e.to_string())?;
            differential(&mut dut, &mut seed.rng("cq-stimulus"), n, |_| {})
        });
        println!("{}", stats.summary());
        assert_eq!(stats.ops, n);
        if n >= 100_000 {
            assert!(stats.polled > 10_000 && stats.resizes > 500 && stats.irqs > 1000, "{}", stats.summary());
            assert!(stats.statuses.len() >= 9, "every status reached: {}", stats.summary());
        }
    }
}
