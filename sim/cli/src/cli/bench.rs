//! `hca bench atomic`: simulated clock cycles per wall second of the atomic
//! unit on the Verilator build, the lock-step rust-hdl driver and rust-hdl's
//! own threaded `Simulation`, measured one after the other in one run.

use crate::Backend;
use anyhow::{anyhow, bail, Result};
use hca_engines::blocks::atomic::open;
use hca_engines::stream::Pacing;
use hca_rtl::atomic::{AtomicModel, AtomicOp, AtomicReq, AtomicResp, AtomicUnit, MEM_BYTES};
use hca_rtl::Transactor;
use hca_testbench::blocks::atomic::AtomicStimulus;
use hca_testbench::Seed;
use rand::{Rng, SeedableRng};
use rust_hdl::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Operations generated up front and shared by every backend, so the
/// clock only measures the simulator, its handshakes and the comparison.
const POOL_OPS: usize = 2_000_000;

/// Random requests and the model's answers to them, from memory all zero.
fn pool(n: usize) -> (Vec<AtomicReq>, Vec<AtomicResp>) {
    let mut rng = Seed(1).rng("bench");
    let mut model = AtomicModel::new();
    let mut stim = AtomicStimulus::new(&mut rng);
    let reqs: Vec<AtomicReq> = (0..n)
        .map(|_| {
            let r = stim.request(&mut rng, &model);
            model.execute(&r);
            r
        })
        .collect();
    let mut model = AtomicModel::new();
    let resps = reqs.iter().map(|r| model.execute(r)).collect();
    (reqs, resps)
}

/// Cycles per second of a backend driven back to back through the
/// testbench, every response compared with the model's.
fn checked_rate(
    backend: Backend,
    reqs: &[AtomicReq],
    want: &[AtomicResp],
    budget: Duration,
) -> Result<f64> {
    let mut dut = open(backend, None, Pacing::FULL_SPEED, 1)?;
    let (start, cycles0) = (Instant::now(), dut.cycles());
    for (chunk, expected) in reqs.chunks(4096).zip(want.chunks(4096)) {
        let got = dut.transact(chunk, &mut hca_abi::NoMemory::default())?;
        if got != expected {
            let i = got
                .iter()
                .zip(expected)
                .position(|(g, w)| g != w)
                .unwrap_or(0);
            bail!(
                "{backend} disagrees with the model on {:?}: {:?} vs {:?}",
                chunk[i],
                got.get(i),
                expected[i]
            );
        }
        if start.elapsed() >= budget {
            break;
        }
    }
    Ok((dut.cycles() - cycles0) as f64 / start.elapsed().as_secs_f64())
}

/// Cycles per second under rust-hdl's `Simulation`, driving back-to-back
/// fetch-and-adds (no model check: that only favours it).
fn simulation_rate(budget: Duration) -> Result<f64> {
    let cycles = Arc::new(AtomicU64::new(0));
    let counted = cycles.clone();
    let mut sim = Simulation::<AtomicUnit>::new();
    sim.add_clock(5, |x: &mut Box<AtomicUnit>| x.clock.next = !x.clock.val());
    sim.add_testbench(move |mut sim: Sim<AtomicUnit>| {
        let mut x = sim.init()?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        x.reset.next = true;
        wait_clock_cycles!(sim, clock, x, 4);
        x.reset.next = false;
        x.resp_ready.next = true;
        x.req_valid.next = true;
        x.req_op.next = (AtomicOp::Fadd.code() as u64).into();
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < budget {
            x.req_addr.next = (rng.gen_range(0..MEM_BYTES / 8) * 8).into();
            x.req_swap_add.next = rng.gen::<u64>().into();
            wait_clock_cycle!(sim, clock, x);
            n += 1;
        }
        counted.store(n, Ordering::Relaxed);
        sim.done(x)
    });
    let start = Instant::now();
    sim.run(Box::new(AtomicUnit::default()), u64::MAX)
        .map_err(|e| anyhow!("rust-hdl Simulation failed: {e:?}"))?;
    Ok(cycles.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

/// The measured rates, cycles per wall second.
pub struct AtomicBench {
    pub verilator: f64,
    pub lockstep: f64,
    pub simulation: f64,
}

pub fn atomic(seconds: f64) -> Result<AtomicBench> {
    let budget = Duration::from_secs_f64(seconds.max(0.1));
    crate::outln!(
        "hca bench atomic: up to {:.1} s per backend, one core; {POOL_OPS} random ops generated up front",
        budget.as_secs_f64()
    );
    let (reqs, want) = pool(POOL_OPS);
    let verilator = checked_rate(Backend::Verilator, &reqs, &want, budget)?;
    crate::outln!(
        "  verilator   {:>12.0} cycles/s  (Verilator build, checked against the model)",
        verilator
    );
    let lockstep = checked_rate(Backend::Rtl, &reqs, &want, budget)?;
    crate::outln!(
        "  rtl         {:>12.0} cycles/s  (rust-hdl, lock-step driver, checked against the model)",
        lockstep
    );
    let simulation = simulation_rate(budget)?;
    crate::outln!(
        "  simulation  {:>12.0} cycles/s  (rust-hdl's threaded Simulation, unchecked)",
        simulation
    );
    crate::outln!("ratios:");
    crate::outln!(
        "  verilator / rtl lock-step   {:>8.1}x  (aim >= 20x)",
        verilator / lockstep
    );
    crate::outln!(
        "  rtl lock-step / Simulation  {:>8.1}x  (aim >= 50x)",
        lockstep / simulation
    );
    Ok(AtomicBench {
        verilator,
        lockstep,
        simulation,
    })
}
