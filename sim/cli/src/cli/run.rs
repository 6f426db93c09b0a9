//! `hca run`: the main job. A random run of every block on every backend,
//! each response checked against the block's model, with a summary and
//! the waveform of each block's Verilator run.

use crate::Backend;
use anyhow::Result;
use hca_engines::stream::Pacing;
use hca_testbench::runner::wave_path;
use hca_testbench::Seed;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub struct RunArgs {
    pub ops: u64,
    pub seed: Seed,
    pub wave_dir: PathBuf,
}

/// What one block's run on one backend covered.
pub struct Outcome {
    ops: u64,
    refused: u64,
    cycles: u64,
    mix: String,
}

/// One block's random run on one backend (`cli::registry` names them).
pub type BlockRun = fn(Backend, Option<&Path>, Seed, u64, &dyn Fn(u64)) -> Result<Outcome, String>;

pub(super) fn atomic(
    backend: Backend,
    wave: Option<&Path>,
    seed: Seed,
    ops: u64,
    progress: &dyn Fn(u64),
) -> Result<Outcome, String> {
    let mut dut = hca_engines::blocks::atomic::open(backend, wave, Pacing::RANDOM, seed.0)
        .map_err(|e| e.to_string())?;
    let s = hca_testbench::blocks::atomic::differential(
        &mut dut,
        &mut seed.rng("atomic-stimulus"),
        ops,
        progress,
    )?;
    Ok(Outcome {
        ops: s.ops,
        refused: s.errors,
        cycles: s.cycles,
        mix: s.summary(),
    })
}

pub(super) fn qpc(
    backend: Backend,
    wave: Option<&Path>,
    seed: Seed,
    ops: u64,
    progress: &dyn Fn(u64),
) -> Result<Outcome, String> {
    let mut dut = hca_engines::blocks::qpc::open(backend, wave, Pacing::RANDOM, seed.0)
        .map_err(|e| e.to_string())?;
    let s = hca_testbench::blocks::qpc::differential(
        &mut dut,
        &mut seed.rng("qpc-stimulus"),
        ops,
        progress,
    )?;
    Ok(Outcome {
        ops: s.ops,
        refused: s.refused.iter().sum(),
        cycles: s.cycles,
        mix: s.summary(),
    })
}

pub(super) fn tpt(
    backend: Backend,
    wave: Option<&Path>,
    seed: Seed,
    ops: u64,
    progress: &dyn Fn(u64),
) -> Result<Outcome, String> {
    let mut dut = hca_engines::blocks::tpt::open(backend, wave, Pacing::RANDOM, seed.0)
        .map_err(|e| e.to_string())?;
    let lines = hca_engines::blocks::tpt::CACHE_LINES;
    let s = hca_testbench::blocks::tpt::differential(
        &mut dut,
        &mut seed.rng("tpt-stimulus"),
        lines,
        ops,
        progress,
    )?;
    let refused = s
        .statuses
        .iter()
        .filter(|(k, _)| **k != hca_rtl::tpt::status::OK)
        .map(|(_, n)| n)
        .sum();
    Ok(Outcome {
        ops: s.ops,
        refused,
        cycles: s.cycles,
        mix: s.summary(),
    })
}

pub(super) fn cq(
    backend: Backend,
    wave: Option<&Path>,
    seed: Seed,
    ops: u64,
    progress: &dyn Fn(u64),
) -> Result<Outcome, String> {
    let mut dut = hca_engines::blocks::cq::open(backend, wave, Pacing::RANDOM, seed.0)
        .map_err(|e| e.to_string())?;
    let s = hca_testbench::blocks::cq::differential(
        &mut dut,
        &mut seed.rng("cq-stimulus"),
        ops,
        progress,
    )?;
    let refused = s
        .statuses
        .iter()
        .filter(|(k, _)| **k != hca_rtl::cq::status::OK)
        .map(|(_, n)| n)
        .sum();
    Ok(Outcome {
        ops: s.ops,
        refused,
        cycles: s.cycles,
        mix: s.summary(),
    })
}

struct Row {
    block: &'static str,
    backend: Backend,
    outcome: Result<Outcome, String>,
    seconds: f64,
    wave: Option<PathBuf>,
}

/// Returns whether every backend agreed with the model on every block.
pub fn run(args: &RunArgs) -> Result<bool> {
    crate::outln!(
        "hca run: {} random requests per block and backend, seed {} (replay: hca run --seed {})",
        args.ops,
        args.seed,
        args.seed
    );
    std::fs::create_dir_all(&args.wave_dir)?;
    let mut rows = Vec::new();
    for entry in super::registry::BLOCKS {
        let (block, title, run_block) = (entry.name, entry.design().title, entry.run);
        for backend in Backend::ALL {
            // The Verilator build records the waveform: the same signals as
            // the rust-hdl simulation's, at a fraction of the cost.
            let wave = (backend == Backend::Verilator)
                .then(|| wave_path(&args.wave_dir, block, backend.name(), args.seed));
            let bar = ProgressBar::new(args.ops).with_style(
                ProgressStyle::with_template(
                    "{prefix:>24} [{bar:30}] {pos}/{len} requests {per_sec}",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
            bar.set_prefix(format!("{title} on {backend}"));
            let start = Instant::now();
            let outcome = run_block(backend, wave.as_deref(), args.seed, args.ops, &|n| {
                bar.set_position(n)
            });
            bar.finish_and_clear();
            rows.push(Row {
                block,
                backend,
                outcome,
                seconds: start.elapsed().as_secs_f64(),
                wave,
            });
        }
    }
    crate::outln!();
    crate::outln!(
        "{:<7} {:<10} {:>8} {:>8} {:>10} {:>8} {:>9}  waveform",
        "block",
        "backend",
        "requests",
        "refused",
        "cycles",
        "req/clk",
        "wall"
    );
    let mut pass = true;
    for r in &rows {
        let wave = r
            .wave
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "-".into());
        match &r.outcome {
            Ok(o) => {
                let (cycles, rate) = if r.backend.is_clocked() {
                    (
                        o.cycles.to_string(),
                        format!("{:.2}", o.ops as f64 / o.cycles.max(1) as f64),
                    )
                } else {
                    ("-".into(), "-".into())
                };
                crate::outln!(
                    "{:<7} {:<10} {:>8} {:>8} {:>10} {:>8} {:>8.2}s  {}",
                    r.block,
                    r.backend.name(),
                    o.ops,
                    o.refused,
                    cycles,
                    rate,
                    r.seconds,
                    wave
                );
            }
            Err(e) => {
                pass = false;
                crate::outln!(
                    "{:<7} {:<10} MISMATCH after {:.2}s  {}\n  {}",
                    r.block,
                    r.backend.name(),
                    r.seconds,
                    wave,
                    e.replace('\n', "\n  ")
                );
            }
        }
    }
    crate::outln!();
    for r in rows.iter().filter(|r| r.backend == Backend::Model) {
        if let Ok(o) = &r.outcome {
            crate::outln!("{} mix: {}", r.block, o.mix);
        }
    }
    crate::outln!(
        "result: {}",
        if pass {
            "PASS: the rust-hdl simulation and the Verilator build of every block agree with its model on every response"
        } else {
            "FAIL: see the mismatch above; the waveform covers the failing run"
        }
    );
    Ok(pass)
}
