//! The CQ and EQ engine's model under the random stimulus, with the polling
//! consumer checking every CQE is seen exactly once and in order across
//! resizes. (The RTL and its Verilator build join these tests when the
//! engine's RTL lands.)

use hca_rtl::cq::CqModel;
use hca_testbench::blocks::cq::differential;
use hca_testbench::Seed;

#[test]
fn model_with_a_polling_consumer() {
    let seed = Seed::from_env();
    println!("seed {seed} (replay with {})", seed.replay_hint());
    let mut model = CqModel::new();
    let stats = differential(&mut model, &mut seed.rng("cq-stimulus"), 100_000, |_| {})
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{}", stats.summary());
    assert!(
        stats.polled > 10_000 && stats.resizes > 500 && stats.irqs > 1000,
        "{}",
        stats.summary()
    );
    assert!(
        stats.statuses.len() >= 9,
        "every status reached: {}",
        stats.summary()
    );
}
