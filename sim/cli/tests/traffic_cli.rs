//! `hca traffic`: two HCAs, every operation of the mix with its bytes
//! checked, on the model and Verilator engines, with and without faults;
//! its capture read by Debian's tshark with every frame decoded as
//! InfiniBand and no expert item of warning or error severity; bad
//! arguments refused with one clear line.

use std::process::Command;

fn hca(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hca"))
        .args(args)
        .output()
        .expect("hca runs")
}

fn ok(args: &[&str]) -> String {
    let o = hca(args);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{args:?}: {out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

#[test]
fn the_whole_mix_completes_on_model_and_verilator() {
    for engine in ["model", "verilator"] {
        let out = ok(&[
            "traffic", "--engine", engine, "--count", "350", "--mtu", "1024", "--size", "3000",
        ]);
        for op in [
            "send",
            "write",
            "read",
            "atomic",
            "masked-atomic",
            "send-inv",
            "ud",
        ] {
            assert!(
                out.contains(&format!("| {op} | 50 |")),
                "{engine}: {op} in\n{out}"
            );
        }
        assert!(out.contains("fetch-and-add counter 50"), "{engine}: {out}");
        assert!(
            out.contains("packed counters 0x3232323232323232"),
            "{engine}: {out}"
        );
        assert!(out.contains("drops: none"), "{engine}: {out}");
    }
}

#[test]
fn faults_are_survived_and_reported() {
    let out = ok(&[
        "traffic",
        "--count",
        "700",
        "--loss",
        "0.02",
        "--corrupt",
        "0.01",
        "--duplicate",
        "0.01",
        "--reorder",
        "0.01",
        "--seed",
        "7",
    ]);
    assert!(
        out.contains("| send | 100 |") && out.contains("| read | 100 |"),
        "{out}"
    );
    let retrans: u64 = out
        .split("retransmitted packets ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.trim().parse().ok())
        .expect("a retransmission count");
    assert!(retrans > 0, "{out}");
    assert!(out.contains("drops by reason:"), "{out}");
}

#[test]
fn the_capture_decodes_as_infiniband_in_tshark() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traffic.pcap");
    let out = ok(&[
        "traffic",
        "--count",
        "140",
        "--size",
        "5000",
        "--mtu",
        "2048",
        "--pcap",
        path.to_str().unwrap(),
    ]);
    let n: usize = out
        .split(" packets captured")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|s| s.parse().ok())
        .expect("the capture's packet count");
    assert_eq!(hca_fabric::capture::tshark_check(&path), Ok(n), "{out}");
    // Every packet also passes the project's own CRC and framing checks.
    let back = hca_fabric::capture::read(std::fs::File::open(&path).unwrap()).unwrap();
    assert!(back
        .iter()
        .all(|c| hca_abi::ib::Packet::decode(&c.packet).is_ok()));
}

#[test]
fn inject_reports_what_the_hca_did_with_each_packet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.pcap");
    ok(&[
        "traffic",
        "--count",
        "9",
        "--ops",
        "send,write,read",
        "--pcap",
        path.to_str().unwrap(),
    ]);
    let out = ok(&["inject", "--pcap", path.to_str().unwrap(), "--port", "1"]);
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("DLID"))
        .collect();
    assert!(!rows.is_empty(), "{out}");
    for r in &rows {
        if r.contains("DLID 2 ") {
            assert!(
                r.contains("taken, answered"),
                "a request to hca1 is answered: {r}"
            );
        } else {
            assert!(
                r.contains("dropped: rx_dlid_not_ours"),
                "hca1 takes none of hca0's: {r}"
            );
        }
    }
    // The same packets with one bit flipped each: every one dropped for
    // its VCRC.
    let packets = hca_fabric::capture::read(std::fs::File::open(&path).unwrap()).unwrap();
    let bad = dir.path().join("bad.pcap");
    let mut c = hca_fabric::Capture::new(std::fs::File::create(&bad).unwrap()).unwrap();
    for p in &packets {
        let mut b = p.packet.clone();
        b[9] ^= 0x10;
        c.record(p.port, p.ns, &b).unwrap();
    }
    drop(c.into_inner());
    let out = ok(&["inject", "--pcap", bad.to_str().unwrap()]);
    assert!(
        out.contains(&format!("| dropped: rx_bad_vcrc | {} |", packets.len())),
        "{out}"
    );
    let o = hca(&["inject", "--pcap", "/nonexistent.pcap"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent.pcap"));
}

#[test]
fn the_benchmark_prints_every_row_side_by_side() {
    let out = ok(&["bench", "traffic", "--count", "40"]);
    for engine in ["model", "rtl", "verilator"] {
        for (op, size) in [
            ("send", 64),
            ("send", 65536),
            ("write", 64),
            ("read", 65536),
            ("atomic", 8),
        ] {
            let row = format!("| {engine} | {op} | {size} |");
            assert!(out.contains(&row), "no {row} in\n{out}");
        }
    }
    assert!(
        out.contains("| lossless |") && out.contains("| 1% drop |"),
        "{out}"
    );
}

#[test]
fn bad_arguments_get_one_clear_line() {
    for (args, want) in [
        (vec!["traffic", "--ops", "send,teleport"], "--ops teleport"),
        (vec!["traffic", "--mtu", "1500"], "--mtu 1500"),
        (vec!["traffic", "--loss", "1.5"], "drop probability 1.5"),
        (vec!["traffic", "--size", "999999"], "--size 999999"),
    ] {
        let o = hca(&args);
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
