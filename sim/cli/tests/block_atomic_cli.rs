//! `hca block atomic`: JSON Lines in, one answer per line out, the same on
//! every backend, bad lines answered with an error while the run goes on.

mod common;

use hca_cli::cli::block_atomic::Atomic;
use hca_cli::cli::jsonl::serve;
use hca_engines::Backend;
use std::io::Write;
use std::process::{Command, Stdio};

const SCRIPT: &[(&str, &str)] = &[
    (
        r#"{"op":"read","addr":0}"#,
        r#"{"value":"0x0000000000000000"}"#,
    ),
    (
        r#"{"op":"write","addr":16,"value":"0x00000000000000ff"}"#,
        r#"{"ok":true}"#,
    ),
    (
        r#"{"op":"fadd","addr":"0x10","add":"0x1"}"#,
        r#"{"original":"0x00000000000000ff"}"#,
    ),
    (
        r#"{"op":"masked_fadd","addr":16,"add":"0x0101","nocarry_mask":"0x80"}"#,
        r#"{"original":"0x0000000000000100"}"#,
    ),
    (
        r#"{"op":"cas","addr":16,"compare":"0x201","swap":"0xabc"}"#,
        r#"{"original":"0x0000000000000201"}"#,
    ),
    (
        r#"{"op":"masked_cas","addr":16,"compare":"0xa00","swap":"0xf0f","compare_mask":"0xf00","swap_mask":"0x00f"}"#,
        r#"{"original":"0x0000000000000abc"}"#,
    ),
    (
        r#"{"op":"read","addr":16}"#,
        r#"{"value":"0x0000000000000abf"}"#,
    ),
    (
        r#"{"op":"read","addr":20}"#,
        r#"{"error":"misaligned address: atomics need 8-byte alignment (addr 0x0000000000000014)"}"#,
    ),
    (
        r#"{"op":"fadd","addr":4096,"add":"0x1"}"#,
        r#"{"error":"address outside the unit's memory (addr 0x0000000000001000)"}"#,
    ),
    (
        r#"{"op":"xor","addr":0}"#,
        r#"{"error":"unknown op `xor` (known: read, write, cas, fadd, masked_cas, masked_fadd)"}"#,
    ),
    (
        r#"{"op":"cas","addr":0,"swap":"0x1"}"#,
        r#"{"error":"op `cas`: missing field `compare`"}"#,
    ),
    (
        r#"{"op":"write","addr":0,"value":"0xfffffffffffffffff"}"#,
        r#"{"error":"op `write`: field `value`: bad hex \"0xfffffffffffffffff\" (expected a string like \"0x00000000000000ff\")"}"#,
    ),
    (
        r#"not json"#,
        r#"{"error":"not JSON: expected ident at line 1 column 2"}"#,
    ),
    (
        r#"{"op":"read","addr":16}"#,
        r#"{"value":"0x0000000000000abf"}"#,
    ),
];

fn input() -> String {
    SCRIPT.iter().map(|(l, _)| format!("{l}\n\n")).collect()
}

#[test]
fn every_backend_answers_the_script() {
    let want: Vec<&str> = SCRIPT.iter().map(|s| s.1).collect();
    for backend in Backend::ALL {
        let mut out = Vec::new();
        let (totals, _) =
            serve::<Atomic>(backend, None, None, input().as_bytes(), &mut out).expect("serve");
        let got = String::from_utf8(out).expect("utf-8");
        let got: Vec<&str> = got.lines().collect();
        assert_eq!(got, want, "backend {backend}");
        assert_eq!(totals.lines, SCRIPT.len() as u64);
        assert_eq!(totals.errors, 6);
    }
}

#[test]
fn the_binary_streams_and_writes_a_waveform() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let vcd = dir.join("cli-atomic.vcd");
    let _ = std::fs::remove_file(&vcd);
    let mut child = Command::new(env!("CARGO_BIN_EXE_hca"))
        .args(["block", "atomic", "--backend", "verilator", "--vcd"])
        .arg(&vcd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hca");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        SCRIPT.len()
    );
    let wave = std::fs::read_to_string(&vcd).expect("waveform written");
    assert!(
        wave.contains("$enddefinitions") && wave.contains("resp_original"),
        "not a VCD of the unit"
    );
}

#[test]
fn the_binary_refuses_a_waveform_from_the_model() {
    let out = Command::new(env!("CARGO_BIN_EXE_hca"))
        .args(["block", "atomic", "--backend", "model", "--vcd", "x.vcd"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--vcd needs a clocked backend"));
}

#[test]
fn garbage_is_answered_line_by_line_on_every_backend() {
    let good: Vec<&str> = SCRIPT.iter().map(|s| s.0).collect();
    let (input, lines) = common::garbage(&good);
    common::serve_everywhere(
        |b, v, i, o| serve::<Atomic>(b, v, None, i, o),
        &input,
        lines,
    );
}

#[test]
fn a_reader_that_goes_away_ends_the_run_with_one_line() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hca"))
        .args(["block", "atomic", "--backend", "model"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hca");
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(input().repeat(100).as_bytes());
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("writing standard output") && !err.contains("panicked"),
        "{err}"
    );
}
