//! `hca rtl`: the emitted Verilog, its lint and its synthesis.

use anyhow::{bail, Result};
use hca_rtl::registry::{block_names, emit_block};
use hca_verilate::tools::{lint, synth_ice40, write_verilog};
use std::path::{Path, PathBuf};

/// `all` or one block name.
pub fn blocks(which: &str) -> Result<Vec<&'static str>> {
    if which == "all" {
        return Ok(block_names().collect());
    }
    match block_names().find(|b| *b == which) {
        Some(b) => Ok(vec![b]),
        None => bail!(
            "unknown block `{which}` (known: {}, or all)",
            block_names().collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Write each block's Verilog to `out/<block>.v`.
pub fn emit(which: &str, out: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for b in blocks(which)? {
        let e = emit_block(b)?;
        let path = write_verilog(out, b, &e.verilog)?;
        crate::outln!(
            "{b}: {} ({} ports, {} lines)",
            path.display(),
            e.ports.len(),
            e.verilog.lines().count()
        );
        written.push(path);
    }
    Ok(written)
}

/// Lint each block; false if any has a finding.
pub fn lint_cmd(which: &str, out: &Path) -> Result<bool> {
    let mut clean = true;
    for b in blocks(which)? {
        let path = write_verilog(out, b, &emit_block(b)?.verilog)?;
        let findings = lint(&path)?;
        if findings.is_empty() {
            crate::outln!(
                "{b}: verilator --lint-only -Wall: clean ({})",
                path.display()
            );
        } else {
            clean = false;
            crate::outln!("{b}: {} finding(s) in {}:", findings.len(), path.display());
            for f in findings {
                crate::outln!("  {f}");
            }
        }
    }
    Ok(clean)
}

/// Synthesize each block for iCE40 and print its resources.
pub fn synth_cmd(which: &str, out: &Path) -> Result<()> {
    let which = blocks(which)?;
    crate::outln!(
        "{:<10} {:>6} {:>7} {:>11} {:>10} {:>7}",
        "block",
        "LUT4",
        "CARRY",
        "flip-flops",
        "block RAM",
        "cells"
    );
    for b in which {
        let path = write_verilog(out, b, &emit_block(b)?.verilog)?;
        let r = synth_ice40(&path)?;
        crate::outln!(
            "{:<10} {:>6} {:>7} {:>11} {:>10} {:>7}",
            b,
            r.luts,
            r.carries,
            r.flip_flops,
            r.block_rams,
            r.cells
        );
    }
    Ok(())
}

/// A block's ports as a Markdown table (the one in its `docs/blocks/` page).
pub fn ports_markdown(block: &str) -> Result<String> {
    let e = emit_block(block)?;
    let mut t = String::from("| port | direction | bits |\n|---|---|---|\n");
    for p in &e.ports {
        let dir = match p.dir {
            hca_rtl::ports::Dir::In => "in",
            hca_rtl::ports::Dir::Out => "out",
        };
        t.push_str(&format!("| `{}` | {} | {} |\n", p.name, dir, p.width));
    }
    Ok(t)
}

/// A block's context layout in ICM as a Markdown table, for the blocks
/// that keep contexts (the one in its `docs/blocks/` page).
pub fn layout_markdown(block: &str) -> Result<String> {
    blocks(block)?;
    let tables = hca_rtl::registry::find(block)?.layouts;
    if tables.is_empty() {
        bail!("block `{block}` keeps no context in ICM");
    }
    let mut t = String::new();
    for (title, fields) in tables {
        if !title.is_empty() {
            t.push_str(&format!(
                "{}{title}:\n\n",
                if t.is_empty() { "" } else { "\n" }
            ));
        }
        t.push_str("| field | word | bits | width |\n|---|---|---|---|\n");
        for f in *fields {
            t.push_str(&format!(
                "| `{}` | {} | {}..{} | {} |\n",
                f.name,
                f.word,
                f.lsb,
                f.lsb + f.width - 1,
                f.width
            ));
        }
    }
    Ok(t)
}
