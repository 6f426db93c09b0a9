//! The CQ and EQ engine: random differential runs against the model with a
//! polling consumer checking every CQE once and in order across resizes,
//! each on every backend.

mod common;

use hca_engines::on_every_backend;
use hca_rtl::transactor::WithMemory;

use hca_engines::blocks::cq::open;
use hca_testbench::blocks::cq::differential;
use hca_testbench::runner::run_replayable;
use hca_testbench::stream::Pacing;
use hca_testbench::Seed;

on_every_backend! {
    fn random_differential(backend: Backend) {
        let seed = Seed::from_env();
        let n = common::random_ops("HCA_CQ_OPS");
        let stats = run_replayable("cq_random_differential", backend.name(), seed, &common::wave_dir(), |wave| {
            let mut dut = open(backend, wave, Pacing::RANDOM, seed.0).map_err(|e| e.to_string())?;
            differential(&mut dut, &mut seed.rng("cq-stimulus"), n, |_| {})
        });
        println!("{}", stats.summary());
        assert_eq!(stats.ops, n);
        if n >= 100_000 {
            assert!(stats.polled > 10_000 && stats.resizes > 500 && stats.irqs > 1000, "{}", stats.summary());
            assert!(stats.statuses.len() >= 9, "every status reached: {}", stats.summary());
        }
    }
}

use hca_abi::SparseIcm;
use hca_engines::blocks::cq::CqTransactor;
use hca_engines::Backend;
use hca_rtl::cq::{
    event, status, Arm, CqReq, CqResp, Cqe, Eqe, CQC_TABLE, CQE_OPCODE_RESIZE, MAX_LOG_PAGE,
    MTT_TABLE,
};

const EQ_BUF: u64 = 0x1000_0000;
const CQ_BUF: u64 = 0x2000_0000;

fn run(dut: &mut WithMemory<CqTransactor>, r: CqReq) -> CqResp {
    dut.transact(&[r]).expect("transact").remove(0)
}

/// An engine with EQ `eqn` (2^log entries, `vector`) taking `types`, armed.
/// Its MTT maps page `i` at `i << 12` until a test writes an entry, so a
/// buffer at `addr` is at MTT index `addr >> 12` with 4 KiB pages.
fn engine(backend: Backend) -> WithMemory<CqTransactor> {
    let mut dut = WithMemory::new(open(backend, None, Pacing::RANDOM, 11).expect("open"));
    dut.mem = SparseIcm::with_linear_mtt(MTT_TABLE);
    dut
}

fn add_eq(dut: &mut WithMemory<CqTransactor>, eqn: u16, log_size: u8, vector: u8, types: &[u8]) {
    let buf = EQ_BUF + eqn as u64 * 0x10_0000;
    assert_eq!(
        run(
            dut,
            CqReq::Sw2HwEq {
                eqn,
                mtt: (buf >> 12) as u32,
                log_page: 0,
                log_size,
                vector
            }
        )
        .status,
        status::OK
    );
    let mask = types.iter().fold(0u64, |m, t| m | 1 << t);
    assert_eq!(
        run(
            dut,
            CqReq::MapEq {
                eqn,
                mask,
                unmap: false
            }
        )
        .status,
        status::OK
    );
    assert_eq!(
        run(
            dut,
            CqReq::EqDoorbell {
                eqn,
                ci: 0,
                arm: true
            }
        )
        .status,
        status::OK
    );
}

fn add_cq(dut: &mut WithMemory<CqTransactor>, cqn: u32, log_size: u8, eqn: u16) {
    let buf = CQ_BUF + cqn as u64 * 0x10_0000;
    assert_eq!(
        run(
            dut,
            CqReq::Sw2HwCq {
                cqn,
                mtt: (buf >> 12) as u32,
                log_page: 0,
                log_size,
                eqn
            }
        )
        .status,
        status::OK
    );
}

/// The EQEs among a response's DMA writes: (address, entry).
fn eqes(r: &CqResp) -> Vec<(u64, Eqe)> {
    r.dma
        .chunks(4)
        .filter(|c| (EQ_BUF..CQ_BUF).contains(&c[0].addr))
        .map(|c| {
            (
                c[0].addr,
                Eqe::unpack(&[c[0].data, c[1].data, c[2].data, c[3].data]),
            )
        })
        .collect()
}

fn cqes(r: &CqResp) -> Vec<(u64, Cqe)> {
    r.dma
        .chunks(4)
        .filter(|c| c[0].addr >= CQ_BUF)
        .map(|c| {
            (
                c[0].addr,
                Cqe::unpack(&[c[0].data, c[1].data, c[2].data, c[3].data]),
            )
        })
        .collect()
}

fn complete(dut: &mut WithMemory<CqTransactor>, cqn: u32, qpn: u32, solicited: bool) -> CqResp {
    run(
        dut,
        CqReq::Complete {
            cqn,
            cqe: Cqe {
                my_qpn: qpn,
                byte_cnt: 64,
                ..Cqe::default()
            },
            solicited,
        },
    )
}

on_every_backend! {
    fn every_async_event_type_reaches_its_eq(backend: Backend) {
        let mut dut = engine(backend);
        let qp_events = [event::PATH_MIG, event::COMM_EST, event::SQ_DRAINED, event::WQ_CATAS_ERROR,
            event::PATH_MIG_FAILED, event::WQ_INVAL_REQ_ERROR, event::WQ_ACCESS_ERROR, event::SRQ_QP_LAST_WQE];
        add_eq(&mut dut, 0, 6, 7, &[event::PORT_CHANGE, event::CMD, event::CQ_ERROR]);
        add_eq(&mut dut, 1, 6, 9, &qp_events);
        let cases: Vec<(u8, u8, u16, u8)> = qp_events
            .iter()
            .map(|t| (*t, 0, 1, 9))
            .chain([(event::PORT_CHANGE, 4, 0, 7), (event::CMD, 0, 0, 7)])
            .collect();
        for (i, (t, subtype, eqn, vector)) in cases.into_iter().enumerate() {
            let e = Eqe { event_type: t, subtype, d0: 0x1234 + i as u32, d2: 1, d3: 0xfeed, owner: false, ..Eqe::default() };
            let r = run(&mut dut, CqReq::Event { eqe: e });
            assert_eq!(r.status, status::OK, "type {t:#x}");
            let got = eqes(&r);
            assert_eq!(got.len(), 1, "type {t:#x}");
            assert_eq!(Eqe { owner: false, ..got[0].1 }, e, "type {t:#x}");
            assert_eq!(r.irqs, vec![vector], "type {t:#x}: armed, so one interrupt");
            // Re-arm, consuming what was written.
            let pi = run(&mut dut, CqReq::EqDoorbell { eqn, ci: 0, arm: false }).eq.pi;
            run(&mut dut, CqReq::EqDoorbell { eqn, ci: pi, arm: true });
        }
        let unrouted = Eqe { event_type: event::EQ_OVERFLOW, ..Eqe::default() };
        assert_eq!(run(&mut dut, CqReq::Event { eqe: unrouted }).status, status::NO_EQ);
    }
}

on_every_backend! {
    fn completion_events_follow_the_arm(backend: Backend) {
        let mut dut = engine(backend);
        add_eq(&mut dut, 2, 4, 5, &[]);
        add_cq(&mut dut, 7, 4, 2);
        let r = complete(&mut dut, 7, 1, false);
        assert_eq!((cqes(&r).len(), r.irqs.len()), (1, 0), "not armed: a CQE, no event");
        run(&mut dut, CqReq::ArmCq { cqn: 7, arm: Arm::Solicited as u8, sn: 1, ci: 1 });
        assert!(eqes(&complete(&mut dut, 7, 2, false)).is_empty(), "armed for solicited only");
        let r = complete(&mut dut, 7, 3, true);
        let e = eqes(&r);
        assert_eq!((e.len(), e[0].1.event_type, e[0].1.d0, r.irqs.clone()), (1, event::COMP, 7, vec![5]));
        assert!(eqes(&complete(&mut dut, 7, 4, true)).is_empty(), "one event, then disarmed");
        // An arm with CQEs already past the consumer index fires at once.
        let r = run(&mut dut, CqReq::ArmCq { cqn: 7, arm: Arm::Next as u8, sn: 2, ci: 1 });
        assert_eq!(eqes(&r).len(), 1);
        // The EQ is not re-armed: the EQE is written, no interrupt.
        assert!(r.irqs.is_empty());
    }
}

on_every_backend! {
    fn cq_overrun(backend: Backend) {
        let mut dut = engine(backend);
        add_eq(&mut dut, 0, 4, 1, &[event::CQ_ERROR]);
        add_cq(&mut dut, 3, 1, 0);
        assert_eq!(complete(&mut dut, 3, 1, false).status, status::OK);
        assert_eq!(complete(&mut dut, 3, 2, false).status, status::OK);
        let r = complete(&mut dut, 3, 3, false);
        assert_eq!(r.status, status::CQ_OVERRUN);
        assert!(cqes(&r).is_empty(), "nothing overwritten");
        let e = eqes(&r);
        assert_eq!((e[0].1.event_type, e[0].1.d0, e[0].1.d1), (event::CQ_ERROR, 3, 1));
        assert_eq!(complete(&mut dut, 3, 4, false).status, status::CQ_IN_ERROR);
    }
}

on_every_backend! {
    fn eq_overrun(backend: Backend) {
        let mut dut = engine(backend);
        add_eq(&mut dut, 0, 4, 1, &[event::EQ_OVERFLOW]);
        add_eq(&mut dut, 1, 1, 2, &[event::PORT_CHANGE]);
        let port = CqReq::Event { eqe: Eqe { event_type: event::PORT_CHANGE, subtype: 1, d2: 2, ..Eqe::default() } };
        assert_eq!(eqes(&run(&mut dut, port)).len(), 1);
        assert_eq!(eqes(&run(&mut dut, port)).len(), 1);
        let r = run(&mut dut, port);
        let e = eqes(&r);
        assert_eq!((e.len(), e[0].1.event_type, e[0].1.d0), (1, event::EQ_OVERFLOW, 1), "EQ 1 full, reported on EQ 0");
        assert!(e[0].0 < EQ_BUF + 0x10_0000, "written on EQ 0");
    }
}

on_every_backend! {
    fn moderation_by_count_and_by_period(backend: Backend) {
        let mut dut = engine(backend);
        add_eq(&mut dut, 0, 8, 1, &[]);
        add_cq(&mut dut, 1, 8, 0);
        run(&mut dut, CqReq::Moderate { cqn: 1, count: 3, period: 10 });
        run(&mut dut, CqReq::ArmCq { cqn: 1, arm: Arm::Next as u8, sn: 1, ci: 0 });
        assert!(eqes(&complete(&mut dut, 1, 1, false)).is_empty());
        assert!(eqes(&complete(&mut dut, 1, 2, false)).is_empty());
        assert_eq!(eqes(&complete(&mut dut, 1, 3, false)).len(), 1, "the third completion: by count");
        run(&mut dut, CqReq::ArmCq { cqn: 1, arm: Arm::Next as u8, sn: 2, ci: 3 });
        assert!(eqes(&complete(&mut dut, 1, 4, false)).is_empty());
        assert!(eqes(&run(&mut dut, CqReq::Tick { cqn: 1, ticks: 9 })).is_empty());
        assert_eq!(eqes(&run(&mut dut, CqReq::Tick { cqn: 1, ticks: 1 })).len(), 1, "ten ticks: by period");
    }
}

on_every_backend! {
    fn resize_moves_on_after_the_marker(backend: Backend) {
        let mut dut = engine(backend);
        add_cq(&mut dut, 1, 3, 0);
        for q in 0..5 {
            complete(&mut dut, 1, q, false);
        }
        let small = CqReq::Resize { cqn: 1, mtt: 0x9000_0000 >> 12, log_page: 0, log_size: 2 };
        let r = run(&mut dut, small);
        assert_eq!((r.status, r.cq.mtt_base), (status::BAD_SIZE, ((CQ_BUF + 0x10_0000) >> 12) as u32), "nothing changed");
        run(&mut dut, CqReq::SetCi { cqn: 1, ci: 3 });
        let r = run(&mut dut, small);
        let marker = cqes(&r);
        assert_eq!((r.status, marker[0].0, marker[0].1.opcode), (status::OK, CQ_BUF + 0x10_0000 + 5 * 32, CQE_OPCODE_RESIZE));
        let next = complete(&mut dut, 1, 9, false);
        assert_eq!(next.dma[0].addr, 0x9000_0000 + (6 & 3) * 32);
    }
}

on_every_backend! {
    fn cqes_and_eqes_land_where_the_mtt_says(backend: Backend) {
        // A CQ of 256 CQEs (8 KiB) over two 4 KiB pages far apart, then
        // resized onto one 8 KiB page; an EQ whose page is elsewhere again.
        let mut dut = engine(backend);
        let (a, b, e, big) = (0x7_0000_0000u64, 0x3_1234_5000u64, 0x5_0000_0000u64, 0x9_0000_0000u64);
        dut.mem.host_write(MTT_TABLE, 40, 0, a | 1);
        dut.mem.host_write(MTT_TABLE, 41, 0, b | 1);
        dut.mem.host_write(MTT_TABLE, 50, 0, big | 1);
        dut.mem.host_write(MTT_TABLE, 60, 0, e | 1);
        let eq = CqReq::Sw2HwEq { eqn: 2, mtt: 60, log_page: 0, log_size: 3, vector: 4 };
        assert_eq!(run(&mut dut, eq).status, status::OK);
        run(&mut dut, CqReq::EqDoorbell { eqn: 2, ci: 0, arm: true });
        let cq = CqReq::Sw2HwCq { cqn: 7, mtt: 40, log_page: 0, log_size: 8, eqn: 2 };
        assert_eq!(run(&mut dut, cq).status, status::OK);
        run(&mut dut, CqReq::ArmCq { cqn: 7, arm: Arm::Next as u8, sn: 1, ci: 0 });
        let mut at = Vec::new();
        let mut last = None;
        for i in 0..130u32 {
            let r = complete(&mut dut, 7, i, false);
            assert_eq!(r.status, status::OK, "{backend}");
            at.push(r.dma[0].addr);
            if i == 0 {
                assert_eq!(r.dma[4].addr, e, "{backend}: the EQE on its own page");
            }
            if i == 128 {
                last = Some(r);
            }
            run(&mut dut, CqReq::SetCi { cqn: 7, ci: i + 1 });
        }
        assert_eq!(at[0], a, "{backend}");
        assert_eq!(at[127], a + 127 * 32, "{backend}: the first page's last CQE");
        assert_eq!(at[128], b, "{backend}: the next CQE on the MTT's next page");
        assert_eq!(at[129], b + 32, "{backend}");
        // What the engine wrote is in its memory, word k at +8k.
        let last = last.expect("CQE 128");
        for (k, w) in last.dma.iter().take(4).enumerate() {
            assert_eq!(dut.mem.host_word(b + 8 * k as u64), w.data, "{backend}: word {k}");
        }
        // Resized onto one 8 KiB page through MTT entry 50: the marker in
        // the old buffer, the next CQE (index 131) 4 KiB into the new page.
        let r = run(&mut dut, CqReq::Resize { cqn: 7, mtt: 50, log_page: 1, log_size: 8 });
        assert_eq!((r.status, r.dma[0].addr), (status::OK, b + 2 * 32), "{backend}");
        let r = complete(&mut dut, 7, 131, false);
        assert_eq!(r.dma[0].addr, big + 131 * 32, "{backend}: 8 KiB pages");
        // Pages larger than a queue may have are refused.
        let huge = CqReq::Sw2HwCq { cqn: 8, mtt: 40, log_page: MAX_LOG_PAGE + 1, log_size: 8, eqn: 2 };
        assert_eq!(run(&mut dut, huge).status, status::BAD_PARAM, "{backend}");
    }
}

on_every_backend! {
    fn a_destroyed_cq_is_never_written_back(backend: Backend) {
        // HW2SW_CQ leaves the freed context in ICM at once and keeps nothing
        // of it: mlx4 may unmap (and reuse) that ICM as soon as the command
        // completes. CQ 3 and the CQ `LINES` above it share a cache line.
        let other = 3 + hca_rtl::cq::LINES as u32;
        let mut dut = engine(backend);
        add_eq(&mut dut, 0, 4, 1, &[]);
        add_cq(&mut dut, 3, 2, 0);
        complete(&mut dut, 3, 1, false);
        assert_eq!(run(&mut dut, CqReq::Hw2SwCq { cqn: 3 }).status, status::OK);
        for w in 0..4u8 {
            assert_eq!(dut.mem.word(CQC_TABLE, 3, w), 0, "{backend}: the freed context is in ICM");
            dut.mem.host_write(CQC_TABLE, 3, w, 0x5e17_0000 + w as u64);
        }
        // The other CQ takes the line; nothing of CQ 3 is written back over what
        // the host put there.
        add_cq(&mut dut, other, 2, 0);
        complete(&mut dut, other, 2, false);
        run(&mut dut, CqReq::Hw2SwCq { cqn: other });
        for w in 0..4u8 {
            assert_eq!(dut.mem.word(CQC_TABLE, 3, w), 0x5e17_0000 + w as u64, "{backend}: word {w}");
        }
    }
}
