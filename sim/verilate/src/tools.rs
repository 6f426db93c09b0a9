//! The external RTL tools: Verilator's linter and Yosys.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Write a block's Verilog to `dir/<name>.v` and return the path.
pub fn write_verilog(dir: &Path, name: &str, verilog: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{name}.v"));
    std::fs::write(&path, verilog).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

fn run(cmd: &mut Command, what: &str) -> Result<std::process::Output> {
    cmd.output().with_context(|| {
        format!("cannot run {what}: is it installed? scripts/setup-toolchain.sh installs it")
    })
}

/// `verilator --lint-only -Wall` on a file; returns every warning and
/// error line (empty when clean).
pub fn lint(verilog_file: &Path) -> Result<Vec<String>> {
    let out = run(
        Command::new("verilator")
            .args(["--lint-only", "-Wall", "--top-module", "top"])
            .arg(verilog_file),
        "verilator",
    )?;
    let text = String::from_utf8_lossy(&out.stderr);
    let findings: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("%Warning") || l.starts_with("%Error"))
        .map(str::to_string)
        .collect();
    if !out.status.success() && findings.is_empty() {
        bail!("verilator --lint-only failed:\n{text}");
    }
    Ok(findings)
}

/// Cell counts after `synth_ice40`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Ice40Resources {
    pub luts: u64,
    pub carries: u64,
    pub flip_flops: u64,
    pub block_rams: u64,
    pub cells: u64,
}

/// Synthesize for iCE40 with Yosys and count the cells of the top module.
/// The log goes to `<file>.yosys.log` beside the Verilog.
pub fn synth_ice40(verilog_file: &Path) -> Result<Ice40Resources> {
    let log = verilog_file.with_extension("yosys.log");
    let script = format!(
        "read_verilog -sv {}; synth_ice40 -top top; stat",
        verilog_file.display()
    );
    let out = run(
        Command::new("yosys")
            .arg("-q")
            .arg("-l")
            .arg(&log)
            .arg("-p")
            .arg(&script),
        "yosys",
    )?;
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    if !out.status.success() {
        bail!(
            "yosys synth_ice40 failed (log {}):\n{}",
            log.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parse_ice40_stat(&text).with_context(|| format!("no cell statistics in {}", log.display()))
}

/// Read the last `stat` block of a Yosys log.
pub fn parse_ice40_stat(log: &str) -> Option<Ice40Resources> {
    let start = log.rfind("Number of cells:")?;
    let mut r = Ice40Resources::default();
    for (i, line) in log[start..].lines().enumerate() {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(count)) = (parts.next(), parts.next_back()) else {
            if i > 0 {
                break;
            }
            continue;
        };
        let Ok(n) = count.parse::<u64>() else {
            continue;
        };
        match name {
            "Number" if i == 0 => r.cells = n,
            "SB_LUT4" => r.luts += n,
            "SB_CARRY" => r.carries += n,
            "SB_RAM40_4K" => r.block_rams += n,
            n_ if n_.starts_with("SB_DFF") => r.flip_flops += n,
            _ if i > 0 && !name.starts_with("SB_") && !name.starts_with('$') => break,
            _ => {}
        }
    }
    Some(r)
}
