//! Packets across the fabric: two HCA ports and a switch, routes from the
//! forwarding tables, faults replayed by seed, and a capture that
//! Debian's tshark decodes as InfiniBand, every frame, with no malformed
//! field.

use hca_abi::ib::opcode::*;
use hca_abi::ib::{Bth, Headers, Lrh, Packet};
use hca_fabric::{Attach, Fabric, Faults, LinkConfig};

fn ud(dlid: u16, slid: u16, n: u32) -> Vec<u8> {
    Packet {
        h: Headers {
            lrh: Lrh {
                dlid,
                slid,
                ..Default::default()
            },
            bth: Bth {
                opcode: UD_SEND_ONLY,
                pkey: 0xffff,
                dest_qp: 0x48,
                psn: n & 0xff_ffff,
                ..Default::default()
            },
            deth: Some(hca_abi::ib::eth::Deth {
                qkey: 0x8001_0000,
                src_qp: 1,
            }),
            ..Default::default()
        },
        payload: n.to_be_bytes().repeat(8),
    }
    .encode()
}

/// Two endpoints (LIDs 1 and 2) on switch ports 1 and 2.
fn star(seed: u64, faults: Faults) -> (Fabric, usize, usize) {
    let mut f = Fabric::new(seed);
    let a = f.add_endpoint("hca0/1");
    let b = f.add_endpoint("hca1/1");
    let s = f.add_switch("sw0", 4);
    let cfg = LinkConfig {
        faults,
        ..Default::default()
    };
    f.connect(Attach::Endpoint(a), Attach::Switch(s, 1), cfg)
        .unwrap();
    f.connect(Attach::Endpoint(b), Attach::Switch(s, 2), cfg)
        .unwrap();
    let sw = f.switch_mut(s).unwrap();
    sw.set_route(1, 1).unwrap();
    sw.set_route(2, 2).unwrap();
    (f, a, b)
}

#[test]
fn packets_cross_the_switch_in_order_and_unrouted_ones_are_counted() {
    let (mut f, a, b) = star(1, Faults::NONE);
    for n in 0..100 {
        f.transmit(a, &ud(2, 1, n));
    }
    f.transmit(b, &ud(9, 2, 0));
    f.settle(1_000_000);
    for n in 0..100 {
        assert_eq!(f.receive(b), Some(ud(2, 1, n)), "packet {n}");
    }
    assert_eq!(f.receive(b), None);
    assert_eq!(f.receive(a), None);
    let s = f.stats();
    assert_eq!(s.forwarded, 100);
    assert_eq!(s.switch_drops[&("sw0".to_string(), "no_route")], 1);
    assert!(f.now() > 0, "time moved on");
}

#[test]
fn faults_replay_by_seed_and_corruption_dies_at_the_switch() {
    let faults = Faults {
        drop: 0.05,
        corrupt: 0.05,
        duplicate: 0.05,
        reorder: 0.05,
    };
    let run = |seed| {
        let (mut f, a, b) = star(seed, faults);
        for n in 0..2_000 {
            f.transmit(a, &ud(2, 1, n));
            f.advance(f.now() + 50);
        }
        f.settle(10_000_000);
        let mut got = Vec::new();
        while let Some(p) = f.receive(b) {
            got.push(p);
        }
        (got, f.stats())
    };
    let (got, s) = run(3);
    assert_eq!(run(3).0, got, "a seed replays the run");
    assert!(s.faults.dropped > 0 && s.faults.duplicated > 0 && s.faults.reordered > 0);
    let bad_vcrc = s
        .switch_drops
        .get(&("sw0".to_string(), "bad_vcrc"))
        .copied()
        .unwrap_or(0);
    assert!(bad_vcrc > 0, "{s:?}");
    // What arrives is either a good packet or one corrupted on the
    // second link (the switch caught the first link's).
    let decoded = got.iter().filter(|p| Packet::decode(p).is_ok()).count();
    assert!(
        decoded > 1_700 && decoded < got.len() + 1,
        "{decoded}/{}",
        got.len()
    );
    let mut psns: Vec<u32> = got
        .iter()
        .filter_map(|p| Packet::decode(p).ok())
        .map(|p| p.h.bth.psn)
        .collect();
    let in_order = psns.windows(2).all(|w| w[0] < w[1]);
    assert!(!in_order, "reordering and duplicates show");
    psns.sort();
    psns.dedup();
    assert!(psns.len() < 2_000, "drops show");
}

#[test]
fn bad_configurations_are_refused() {
    let mut f = Fabric::new(0);
    let a = f.add_endpoint("a");
    let s = f.add_switch("sw", 2);
    let bad = LinkConfig {
        faults: Faults::loss(2.0),
        ..Default::default()
    };
    assert!(f
        .connect(Attach::Endpoint(a), Attach::Switch(s, 1), bad)
        .is_err());
    let cfg = LinkConfig::default();
    assert!(f
        .connect(Attach::Endpoint(a), Attach::Switch(s, 3), cfg)
        .is_err());
    assert!(f
        .connect(Attach::Endpoint(5), Attach::Switch(s, 1), cfg)
        .is_err());
    f.connect(Attach::Endpoint(a), Attach::Switch(s, 1), cfg)
        .unwrap();
    assert!(
        f.connect(Attach::Endpoint(a), Attach::Switch(s, 2), cfg)
            .is_err(),
        "one link per port"
    );
}

#[test]
fn tshark_reads_the_capture_as_infiniband() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fabric.pcap");
    let (mut f, a, b) = star(1, Faults::NONE);
    f.capture_to(Box::new(std::fs::File::create(&path).unwrap()))
        .unwrap();
    for n in 0..20 {
        f.transmit(a, &ud(2, 1, n));
        f.transmit(b, &ud(1, 2, n));
    }
    // An RC write with immediate, an ACK and an atomic, to see their ETHs.
    let mut rc = Packet::decode(&ud(2, 1, 0)).unwrap();
    rc.h.bth.opcode = RC | WRITE_ONLY_IMM;
    rc.h.deth = None;
    rc.h.reth = Some(hca_abi::ib::eth::Reth {
        va: 0x1000,
        rkey: 0x100,
        dma_len: 32,
    });
    rc.h.imm = Some(5);
    f.transmit(a, &rc.encode());
    rc.h.bth.opcode = RC | ACK;
    rc.payload.clear();
    f.transmit(b, &rc.encode());
    rc.h.bth.opcode = RC | CMP_SWAP;
    f.transmit(a, &rc.encode());
    f.settle(1_000_000);
    assert_eq!(f.finish_capture().unwrap(), 43);
    assert_eq!(hca_fabric::capture::tshark_check(&path), Ok(43));
    let back = hca_fabric::capture::read(std::fs::File::open(&path).unwrap()).unwrap();
    assert!(back.iter().all(|c| Packet::decode(&c.packet).is_ok()));
}

#[test]
fn following_the_wall_clock_time_never_runs_ahead_of_it() {
    let (mut f, a, b) = star(1, Faults::NONE);
    f.add_subnet_manager(0).unwrap();
    let start = std::time::Instant::now();
    f.follow_wall_clock();
    assert!(f.follows_wall_clock());
    assert_eq!(
        f.subnet_manager().unwrap().timing,
        hca_fabric::sm::Timing::WALL_CLOCK,
        "the SM takes opensm's timers"
    );
    f.transmit(a, &ud(2, 1, 0));
    // Asked to jump an hour ahead, time stops at the wall clock.
    f.advance(3_600_000_000_000);
    assert!(
        u128::from(f.now()) <= start.elapsed().as_nanos(),
        "simulated {} ns ran ahead of the wall clock",
        f.now()
    );
    // settle() cannot hurry it either; the packet arrives once the wall
    // clock has passed its arrival time.
    let mut got = None;
    for _ in 0..5000 {
        f.settle(1_000_000_000);
        got = f.receive(b);
        if got.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(got, Some(ud(2, 1, 0)));
    assert!(u128::from(f.now()) <= start.elapsed().as_nanos());
}
