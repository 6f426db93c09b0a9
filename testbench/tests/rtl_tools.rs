//! Every emitted design is lint-clean under `verilator --lint-only -Wall`
//! and synthesizes with Yosys for iCE40.

use hca_rtl::registry::{block_names, designs, emit_block};
use hca_verilate::tools::{lint, synth_ice40, write_verilog};
use std::path::PathBuf;

fn out_dir(test: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("rtl")
        .join(test)
}

#[test]
fn every_design_is_lint_clean() {
    for name in designs().map(|d| d.name) {
        let e = emit_block(name).expect("emit");
        let path = write_verilog(&out_dir("lint"), name, &e.verilog).expect("write");
        let findings = lint(&path).expect("run verilator");
        assert!(
            findings.is_empty(),
            "{name} ({}):\n{}",
            path.display(),
            findings.join("\n")
        );
    }
}

/// The waivers in `verilog` that do not give their reason: each
/// `lint_off` must sit right under a comment that starts `// Waiver:` and
/// says, in a sentence of six words or more, why the warning is expected.
fn unexplained_waivers(verilog: &str) -> Vec<String> {
    let lines: Vec<&str> = verilog.lines().collect();
    let mut bad = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if !l.contains("lint_off") {
            continue;
        }
        // The comment block directly above, nearest line last.
        let block: Vec<&str> = lines[..i]
            .iter()
            .rev()
            .take_while(|b| b.trim_start().starts_with("//"))
            .map(|b| b.trim_start().trim_start_matches('/').trim())
            .collect();
        let reason: Vec<&str> = block
            .iter()
            .rev()
            .skip_while(|b| !b.starts_with("Waiver:"))
            .flat_map(|b| b.trim_start_matches("Waiver:").split_whitespace())
            .collect();
        if reason.len() < 6 {
            bad.push(format!("line {}: {l}", i + 1));
        }
    }
    bad
}

#[test]
fn every_waiver_gives_its_reason() {
    for name in designs().map(|d| d.name) {
        let v = emit_block(name).expect("emit").verilog;
        let bad = unexplained_waivers(&v);
        assert!(bad.is_empty(), "{name}: waivers without a reason: {bad:?}");
        assert!(
            v.contains("lint_off"),
            "{name}: the emitted file carries its waiver"
        );
    }
}

#[test]
fn a_waiver_without_its_reason_is_found() {
    let ok = "// Waiver: rust-hdl writes every module into one file.\n/* verilator lint_off DECLFILENAME */";
    assert!(unexplained_waivers(ok).is_empty());
    for bad in [
        "/* verilator lint_off WIDTH */",
        "// some comment\n/* verilator lint_off WIDTH */",
        "// Waiver: width.\n/* verilator lint_off WIDTH */",
        "// Waiver: rust-hdl writes every module into one file.\n\n/* verilator lint_off WIDTH */",
    ] {
        assert_eq!(unexplained_waivers(bad).len(), 1, "{bad:?}");
    }
}

#[test]
fn every_block_synthesizes_for_ice40() {
    for name in block_names() {
        let e = emit_block(name).expect("emit");
        let path = write_verilog(&out_dir("synth"), name, &e.verilog).expect("write");
        let r = synth_ice40(&path).expect("yosys");
        println!("{name}: {r:?}");
        assert!(r.luts > 0 && r.flip_flops > 0, "{name}: {r:?}");
        if name == "atomic" {
            // The 4 KiB word store must map to block RAM (8 x 4 Kbit),
            // not to flip-flops, and the adder to one carry chain.
            assert_eq!(r.block_rams, 8, "{r:?}");
            assert!(r.carries >= 63, "{r:?}");
        }
    }
}

#[test]
fn unknown_block_is_a_clear_error() {
    let e = emit_block("tpt9").unwrap_err().to_string();
    assert!(
        e.contains("unknown block `tpt9`") && e.contains("atomic"),
        "{e}"
    );
}
