//! Running a random test so that a failure replays and leaves a waveform.

use crate::seed::Seed;
use std::path::{Path, PathBuf};

/// Set to a directory to record a waveform of every run, not only failing ones.
pub const WAVE_DIR_VAR: &str = "HCA_WAVE_DIR";

/// Where waveforms go: `HCA_WAVE_DIR`, else `default`.
pub fn wave_dir(default: &Path) -> PathBuf {
    std::env::var_os(WAVE_DIR_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| default.to_path_buf())
}

/// The waveform file of one test on one backend with one seed.
pub fn wave_path(dir: &Path, test: &str, backend: &str, seed: Seed) -> PathBuf {
    dir.join(format!("{test}-{backend}-{seed}.vcd"))
}

/// Run `body` for one backend. It gets the waveform path to record to, if
/// any: one is given up front when `HCA_WAVE_DIR` is set, and on failure the
/// same seed is run again with a waveform. Panics with the seed, the replay
/// command and the waveform path when the body fails.
pub fn run_replayable<T>(
    test: &str,
    backend: &str,
    seed: Seed,
    default_wave_dir: &Path,
    body: impl Fn(Option<&Path>) -> Result<T, String>,
) -> T {
    let dir = wave_dir(default_wave_dir);
    let always = std::env::var_os(WAVE_DIR_VAR).is_some();
    let path = wave_path(&dir, test, backend, seed);
    println!(
        "{test} [{backend}]: seed {seed} (replay with {})",
        seed.replay_hint()
    );
    if always {
        let _ = std::fs::create_dir_all(&dir);
    }
    match body(always.then_some(path.as_path())) {
        Ok(v) => {
            if always {
                println!("{test} [{backend}]: waveform {}", path.display());
            }
            v
        }
        Err(first) => {
            let _ = std::fs::create_dir_all(&dir);
            let wave = match body(Some(&path)) {
                Err(_) => format!("waveform: {}", path.display()),
                Ok(_) => format!(
                    "(the traced re-run passed: nondeterminism? partial waveform {})",
                    path.display()
                ),
            };
            panic!(
                "{test} failed on backend `{backend}` with seed {seed}\n{first}\nreplay: {} cargo test --release {test}\n{wave}",
                seed.replay_hint()
            );
        }
    }
}
