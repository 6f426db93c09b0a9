//! `hca bringup` on every engine: the Rust driver brings the HCA up,
//! makes one of every object, tears down, and prints the command table;
//! bad arguments get one clear line and a non-zero exit.

use std::process::Command;

fn hca(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hca"))
        .args(args)
        .output()
        .expect("hca runs")
}

#[test]
fn bringup_on_every_engine_prints_objects_and_commands() {
    for engine in ["model", "rtl", "verilator"] {
        let o = hca(&["bringup", "--engine", engine, "--vectors", "3"]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{engine}: {out}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        for want in [
            "4 MSI-X vectors (3 for completions)",
            "on completion vector 2",
            "RC QP",
            "UC QP",
            "UD QP",
            "SYNC_TPT",
            "attached to ff12:401b:ffff::ffff:ffff",
            "8192 bytes of host memory still held",
        ] {
            assert!(out.contains(want), "{engine}: no {want:?} in\n{out}");
        }
        // The table: every command OK, and each row's count adds up.
        let rows: Vec<&str> = out
            .lines()
            .skip_while(|l| !l.starts_with("command "))
            .skip(1)
            .collect();
        let total: u64 = rows
            .iter()
            .filter(|l| !l.starts_with("total"))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                assert_eq!(f[1], "OK", "{engine}: {l}");
                f[2].parse::<u64>().expect("a count")
            })
            .sum();
        let last = rows.last().expect("a total row");
        assert!(last.starts_with("total"), "{last}");
        assert_eq!(
            last.split_whitespace().nth(1),
            Some(total.to_string().as_str())
        );
        for cmd in ["SW2HW_SRQ", "MGID_HASH", "READ_MCG", "WRITE_MCG"] {
            assert!(
                rows.iter().any(|l| l.starts_with(cmd)),
                "{engine}: no {cmd} in {out}"
            );
        }
    }
}

#[test]
fn more_vectors_than_the_device_has_are_clamped_and_said() {
    let o = hca(&["bringup", "--engine", "model", "--vectors", "9"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("(6 for completions)"), "{out}");
    assert!(out.contains("9 asked, the device has room for 6"), "{out}");
}

#[test]
fn debug_logs_every_command_on_stderr() {
    let o = hca(&["bringup", "--engine", "model", "--log", "debug"]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cmd=\"QUERY_FW\""), "{err}");
    assert!(err.contains("cmd=\"RST2INIT_QP\""), "{err}");
}

#[test]
fn bad_arguments_are_refused() {
    for (args, want) in [
        (vec!["bringup", "--vectors", "0"], "--vectors 0"),
        (vec!["bringup", "--log", "loud"], "--log"),
    ] {
        let o = hca(&args);
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
}
