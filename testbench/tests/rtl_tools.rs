//! Every emitted design is lint-clean under `verilator --lint-only -Wall`
//! and synthesizes with Yosys for iCE40.

use hca_rtl::registry::{emit_block, BLOCKS, FIXTURES};
use hca_sim::tools::{lint, synth_ice40, write_verilog};
use std::path::PathBuf;

fn out_dir(test: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("rtl")
        .join(test)
}

#[test]
fn every_design_is_lint_clean() {
    for name in BLOCKS.iter().chain(FIXTURES) {
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

#[test]
fn every_waiver_gives_its_reason() {
    for name in BLOCKS.iter().chain(FIXTURES) {
        let v = emit_block(name).expect("emit").verilog;
        let lines: Vec<&str> = v.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if l.contains("lint_off") {
                let before = &lines[i.saturating_sub(3)..i];
                assert!(
                    before
                        .iter()
                        .any(|b| b.trim_start().starts_with("// Waiver:")
                            || b.trim_start().starts_with("//")),
                    "{name}: waiver on line {} has no reason above it",
                    i + 1
                );
            }
        }
    }
}

#[test]
fn every_block_synthesizes_for_ice40() {
    for name in BLOCKS {
        let e = emit_block(name).expect("emit");
        let path = write_verilog(&out_dir("synth"), name, &e.verilog).expect("write");
        let r = synth_ice40(&path).expect("yosys");
        println!("{name}: {r:?}");
        assert!(r.luts > 0 && r.flip_flops > 0, "{name}: {r:?}");
        if *name == "atomic" {
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
