//! Every `hca` command whose output cannot be written (a reader that closed
//! the pipe, a full disk) ends with one line on standard error naming the
//! stream and a non-zero exit, never a panic; one whose standard error is
//! what fails ends non-zero as well.

use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Every subcommand, run short. `{tmp}` is a scratch directory.
const COMMANDS: &[(&str, &str)] = &[
    ("run --ops 50 --seed 1 --wave-dir {tmp}/waves", ""),
    ("block atomic --backend model", r#"{"op":"read","addr":0}"#),
    ("block qpc --backend rtl", r#"{"op":"query","qpn":1}"#),
    (
        "block tpt --backend verilator",
        r#"{"op":"query_mpt","index":1}"#,
    ),
    ("block cq --backend model", r#"{"op":"hw2sw_cq","cqn":1}"#),
    ("rtl emit atomic --out {tmp}/rtl", ""),
    ("rtl lint atomic --out {tmp}/rtl", ""),
    ("rtl ports cq", ""),
    ("rtl layout tpt", ""),
    ("rtl synth atomic --out {tmp}/rtl", ""),
    ("uml --summary --engine model --timeout 60", ""),
    ("bringup --engine model", ""),
    ("firmware table all", ""),
    ("firmware table caps", ""),
    ("bench atomic --seconds 0.02", ""),
    ("bench qpc", ""),
    ("bench tpt", ""),
    ("bench cq", ""),
    ("bench eq --commands 20", ""),
    ("--help", ""),
];

fn run(cmd: &str, input: &str, tmp: &Path, stdout: Stdio, stderr: Stdio) -> Output {
    let cmd = cmd.replace("{tmp}", &tmp.display().to_string());
    let mut child = Command::new(env!("CARGO_BIN_EXE_hca"))
        .args(cmd.split_whitespace())
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("spawn hca");
    let mut stdin = child.stdin.take().expect("stdin");
    let _ = writeln!(stdin, "{input}");
    drop(stdin);
    child.wait_with_output().expect("hca ends")
}

/// The write end of a pipe whose read end is already closed.
fn closed_pipe() -> Stdio {
    let (r, w): (OwnedFd, OwnedFd) = nix::unistd::pipe().expect("pipe");
    drop(r);
    Stdio::from(w)
}

fn dev_full() -> Stdio {
    Stdio::from(
        File::options()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full"),
    )
}

fn assert_one_line_error(cmd: &str, how: &str, out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "hca {cmd} > {how}: {err}");
    assert!(!err.contains("panicked"), "hca {cmd} > {how}: {err}");
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.starts_with("hca: error:") && last.contains("writing standard output"),
        "hca {cmd} > {how}: the last line names the failure: {err}"
    );
}

#[test]
fn stdout_closed_or_full_is_one_line_and_a_non_zero_exit() {
    let tmp = tempfile::tempdir().expect("tmp");
    for (cmd, input) in COMMANDS {
        let out = run(cmd, input, tmp.path(), closed_pipe(), Stdio::piped());
        assert_one_line_error(cmd, "a closed pipe", &out);
        let out = run(cmd, input, tmp.path(), dev_full(), Stdio::piped());
        assert_one_line_error(cmd, "/dev/full", &out);
    }
}

#[test]
fn stderr_closed_or_full_is_a_non_zero_exit_without_a_panic() {
    // Commands that write to standard error as they go (summaries,
    // progress), and a usage error.
    let tmp = tempfile::tempdir().expect("tmp");
    for (cmd, input) in [
        ("block atomic --backend model", r#"{"op":"read","addr":0}"#),
        ("block tpt --backend rtl", r#"{"op":"sync_tpt"}"#),
        ("uml --summary --engine model --timeout 60", ""),
        ("bogus", ""),
    ] {
        for (how, stderr) in [("a closed pipe", closed_pipe()), ("/dev/full", dev_full())] {
            let out = run(cmd, input, tmp.path(), Stdio::piped(), stderr);
            assert!(
                !out.status.success() && out.status.code().is_some(),
                "hca {cmd} 2> {how}: {:?}",
                out.status
            );
        }
    }
}
