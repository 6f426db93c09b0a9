//! `hca run`: the main job. For now, a short random run of the atomic unit
//! on every backend, each response checked against the model.

use crate::blocks::atomic::open;
use crate::Backend;
use anyhow::Result;
use hca_testbench::blocks::atomic::differential;
use hca_testbench::runner::wave_path;
use hca_testbench::stream::Pacing;
use hca_testbench::Seed;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;

pub struct RunArgs {
    pub ops: u64,
    pub seed: Seed,
    pub wave_dir: PathBuf,
}

struct Row {
    backend: Backend,
    outcome: Result<hca_testbench::blocks::atomic::DiffStats, String>,
    seconds: f64,
    wave: Option<PathBuf>,
}

/// Returns whether every backend agreed with the model.
pub fn run(args: &RunArgs) -> Result<bool> {
    println!(
        "hca run: atomic unit, {} random operations per backend, seed {} (replay: hca run --seed {})",
        args.ops, args.seed, args.seed
    );
    std::fs::create_dir_all(&args.wave_dir)?;
    let mut rows = Vec::new();
    for backend in Backend::ALL {
        let wave = backend
            .is_clocked()
            .then(|| wave_path(&args.wave_dir, "atomic", backend.name(), args.seed));
        let bar = ProgressBar::new(args.ops).with_style(
            ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} ops {per_sec}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_prefix(backend.name());
        let start = Instant::now();
        let outcome = open(backend, wave.as_deref(), Pacing::RANDOM, args.seed.0)
            .map_err(|e| e.to_string())
            .and_then(|mut dut| {
                differential(
                    &mut dut,
                    &mut args.seed.rng("atomic-stimulus"),
                    args.ops,
                    |n| bar.set_position(n),
                )
            });
        bar.finish_and_clear();
        rows.push(Row {
            backend,
            outcome,
            seconds: start.elapsed().as_secs_f64(),
            wave,
        });
    }
    println!();
    println!(
        "{:<10} {:>8} {:>9} {:>10} {:>10} {:>9}  waveform",
        "backend", "ops", "rejected", "cycles", "ops/cycle", "wall"
    );
    let mut pass = true;
    for r in &rows {
        let wave = r
            .wave
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "-".into());
        match &r.outcome {
            Ok(s) => {
                let (cycles, rate) = if r.backend.is_clocked() {
                    (
                        s.cycles.to_string(),
                        format!("{:.2}", s.ops as f64 / s.cycles.max(1) as f64),
                    )
                } else {
                    ("-".into(), "-".into())
                };
                println!(
                    "{:<10} {:>8} {:>9} {:>10} {:>10} {:>8.2}s  {}",
                    r.backend.name(),
                    s.ops,
                    s.errors,
                    cycles,
                    rate,
                    r.seconds,
                    wave
                );
            }
            Err(e) => {
                pass = false;
                println!(
                    "{:<10} MISMATCH after {:.2}s  {}\n  {}",
                    r.backend.name(),
                    r.seconds,
                    wave,
                    e.replace('\n', "\n  ")
                );
            }
        }
    }
    if let Some(Ok(s)) = rows.first().map(|r| &r.outcome) {
        println!("\nmix: {}", s.summary());
    }
    println!(
        "result: {}",
        if pass {
            "PASS: the rust-hdl simulation and the Verilator build agree with the model on every response"
        } else {
            "FAIL: see the mismatch above; the waveform covers the failing run"
        }
    );
    Ok(pass)
}
