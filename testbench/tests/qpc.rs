//! The QP context block: random differential runs against the model, the
//! whole transition matrix, PSN arithmetic across the 24-bit wrap and
//! eviction to ICM, each on every backend.

mod common;

use hca_engines::on_every_backend;
use hca_rtl::transactor::WithMemory;

use hca_engines::blocks::qpc::{open, QpcTransactor};
use hca_rtl::qpc::table::rule;
use hca_rtl::qpc::{
    attr, limits, status, PsnClass, QpAttrs, QpState, QpType, QpcReq, QpcResp, MASK24,
};
use hca_testbench::blocks::qpc::differential;
use hca_testbench::runner::run_replayable;
use hca_testbench::stream::Pacing;
use hca_testbench::Seed;

on_every_backend! {
    fn random_differential(backend: Backend) {
        let seed = Seed::from_env();
        let n = common::random_ops("HCA_QPC_OPS");
        let stats = run_replayable("qpc_random_differential", backend.name(), seed, &common::wave_dir(), |wave| {
            let mut dut = open(backend, wave, Pacing::RANDOM, seed.0).map_err(|e| e.to_string())?;
            differential(&mut dut, &mut seed.rng("qpc-stimulus"), n, |_| {})
        });
        println!("{}", stats.summary());
        assert_eq!(stats.ops, n);
        if n >= 100_000 {
            // The stimulus must reach every state, every op and every refusal.
            assert!(stats.entered.iter().skip(1).all(|&k| k > 50), "{}", stats.summary());
            assert!(stats.ok.iter().all(|&k| k > 200), "{}", stats.summary());
            assert!(stats.refused.iter().all(|&k| k > 100), "{}", stats.summary());
            assert!(stats.psn_wraps > 10, "{}", stats.summary());
        }
    }
}

/// Attributes good for any transition of a QP of type `t`.
fn good_attrs(t: QpType, psn: u32) -> QpAttrs {
    QpAttrs {
        qp_type: t as u8,
        pd: 7,
        send_cqn: 11,
        recv_cqn: 12,
        port: 1,
        qkey: 0x1111_2222,
        dlid: 0x33,
        path_mtu: 5,
        timeout: 14,
        retry_cnt: 2,
        rnr_retry: 3,
        rq_psn: psn,
        sq_psn: psn,
        max_rd_atomic: 4,
        max_dest_rd_atomic: 4,
        min_rnr_timer: 12,
        dest_qpn: 0x77,
        ..QpAttrs::default()
    }
}

/// A QP on one backend, driven request by request.
struct Qp {
    dut: WithMemory<QpcTransactor>,
    qpn: u32,
    t: QpType,
}

impl Qp {
    fn run(&mut self, req: QpcReq) -> QpcResp {
        self.dut.transact(&[req]).expect("transact")[0]
    }

    /// Move with exactly the required attributes of the transition.
    fn go(&mut self, to: QpState, attrs: QpAttrs) -> QpcResp {
        let from = QpState::from_code(self.query().ctx.state).expect("state");
        let r = rule(from, to, self.t).unwrap_or_else(|| panic!("{from:?} -> {to:?} is not legal"));
        let resp = self.run(QpcReq::modify(
            self.qpn,
            to,
            attr::STATE | r.required,
            attrs,
        ));
        assert_eq!(resp.status, status::OK, "{:?} {from:?} -> {to:?}", self.t);
        resp
    }

    fn query(&mut self) -> QpcResp {
        self.run(QpcReq::query(self.qpn))
    }

    /// Bring the QP from RESET to `target` by legal steps.
    fn reach(&mut self, target: QpState) -> bool {
        let a = good_attrs(self.t, 100);
        use QpState::*;
        let path: &[QpState] = match target {
            Reset => &[],
            Init => &[Init],
            Rtr => &[Init, Rtr],
            Rts => &[Init, Rtr, Rts],
            Sqd => &[Init, Rtr, Rts, Sqd],
            Err => &[Init, Err],
            Sqe => &[Init, Rtr, Rts],
        };
        for s in path {
            self.go(*s, a);
        }
        if target == Sqe {
            let r = self.run(QpcReq::send_error(self.qpn));
            return r.ctx.state == Sqe as u8;
        }
        true
    }
}

/// The modify-QP state table as the IBTA gives it (vol. 1, 10.3.1 and the
/// QP state diagram; the same table Linux's `ib_modify_qp_is_ok` holds),
/// written here independently of `hca_rtl::qpc::table`, which fills the
/// RTL's transition RAM: for each state, the states a modify may move it to.
fn ibta_legal(from: QpState, to: QpState) -> bool {
    use QpState::*;
    let next: &[QpState] = match from {
        Reset => &[Reset, Init],
        Init => &[Reset, Err, Init, Rtr],
        Rtr => &[Reset, Err, Rts],
        Rts => &[Reset, Err, Rts, Sqd],
        Sqd => &[Reset, Err, Rts, Sqd],
        Sqe => &[Reset, Err, Rts],
        Err => &[Reset, Err],
    };
    next.contains(&to)
}

/// The attributes the IBTA requires for a transition, by QP type (the rest
/// require none).
fn ibta_required(from: QpState, to: QpState, t: QpType) -> u32 {
    use attr::*;
    use QpState::*;
    match (from, to, t) {
        (Reset, Init, QpType::Ud) => PKEY_INDEX | PORT | QKEY,
        (Reset, Init, _) => PKEY_INDEX | PORT | ACCESS_FLAGS,
        (Init, Rtr, QpType::Uc) => AV | PATH_MTU | DEST_QPN | RQ_PSN,
        (Init, Rtr, QpType::Rc) => {
            AV | PATH_MTU | DEST_QPN | RQ_PSN | MAX_DEST_RD_ATOMIC | MIN_RNR_TIMER
        }
        (Rtr, Rts, QpType::Rc) => TIMEOUT | RETRY_CNT | RNR_RETRY | SQ_PSN | MAX_QP_RD_ATOMIC,
        (Rtr, Rts, _) => SQ_PSN,
        _ => 0,
    }
}

#[test]
fn the_rtl_table_agrees_with_the_ibta() {
    for t in QpType::ALL {
        for from in QpState::ALL {
            for to in QpState::ALL {
                let r = rule(from, to, t);
                // RC QPs never enter SQE, so the table may say anything there.
                if t == QpType::Rc && from == QpState::Sqe {
                    continue;
                }
                assert_eq!(
                    r.is_some(),
                    ibta_legal(from, to),
                    "{t:?} {from:?} -> {to:?}"
                );
                if let Some(r) = r {
                    assert_eq!(
                        r.required,
                        ibta_required(from, to, t),
                        "{t:?} {from:?} -> {to:?}"
                    );
                }
            }
        }
    }
}

on_every_backend! {
    fn transition_matrix(backend: Backend) {
        let mut dut = WithMemory::new(open(backend, None, Pacing::RANDOM, 1).expect("open"));
        let mut qpn = 0x100;
        let mut cases = 0;
        for t in QpType::ALL {
            for from in QpState::ALL {
                for to in QpState::ALL {
                    // The expectations come from the IBTA's table above, not
                    // from the one that fills the RTL: one attempt with the
                    // required attributes, one without each of them, one with
                    // a forbidden attribute.
                    let mut masks: Vec<(u32, u8)> = Vec::new();
                    if ibta_legal(from, to) {
                        let required = ibta_required(from, to, t);
                        masks.push((attr::STATE | required, status::OK));
                        for bit in 0..attr::BITS {
                            if required & (1 << bit) != 0 {
                                masks.push(((attr::STATE | required) & !(1 << bit), status::BAD_PARAM));
                            }
                        }
                        masks.push((attr::STATE | required | attr::ALT_PATH, status::BAD_PARAM));
                    } else {
                        masks.push((attr::STATE | attr::PKEY_INDEX, status::BAD_QP_STATE));
                    }
                    for (mask, want) in masks {
                        qpn += 1;
                        let mut qp = Qp { dut, qpn, t };
                        if !qp.reach(from) {
                            // Only UC and UD QPs have an SQE state.
                            assert_eq!((t, from), (QpType::Rc, QpState::Sqe));
                            dut = qp.dut;
                            continue;
                        }
                        let before = qp.query().ctx;
                        let resp = qp.run(QpcReq::modify(qpn, to, mask, good_attrs(t, 200)));
                        assert_eq!(resp.status, want, "{t:?} {from:?} -> {to:?} mask {mask:#x}");
                        if want == status::OK {
                            assert_eq!(resp.ctx.state, to as u8, "{t:?} {from:?} -> {to:?}");
                        } else {
                            assert_eq!(resp.ctx, before, "a refused modify changed the context");
                            assert_eq!(qp.query().ctx, before);
                        }
                        cases += 1;
                        dut = qp.dut;
                    }
                }
            }
        }
        println!("{cases} transition cases");
        assert!(cases > 200, "the matrix loop covered only {cases} cases");
    }
}

on_every_backend! {
    fn ibta_spot_checks(backend: Backend) {
        // Facts read from the IBTA table directly, not through ours.
        let mut qp = Qp { dut: WithMemory::new(open(backend, None, Pacing::FULL_SPEED, 1).expect("open")), qpn: 9, t: QpType::Rc };
        let a = good_attrs(QpType::Rc, 0);
        assert_eq!(qp.run(QpcReq::modify(9, QpState::Rts, attr::STATE, a)).status, status::BAD_QP_STATE);
        assert_eq!(qp.run(QpcReq::modify(9, QpState::Err, attr::STATE, a)).status, status::BAD_QP_STATE);
        let init = attr::STATE | attr::PKEY_INDEX | attr::PORT | attr::ACCESS_FLAGS;
        assert_eq!(qp.run(QpcReq::modify(9, QpState::Init, init, a)).status, status::OK);
        // An RC QP needs the responder's RNR timer and resources at RTR.
        let rtr = attr::STATE | attr::AV | attr::PATH_MTU | attr::DEST_QPN | attr::RQ_PSN;
        assert_eq!(qp.run(QpcReq::modify(9, QpState::Rtr, rtr, a)).status, status::BAD_PARAM);
        let rtr_rc = rtr | attr::MAX_DEST_RD_ATOMIC | attr::MIN_RNR_TIMER;
        let bad_mtu = QpAttrs { path_mtu: 6, ..a };
        assert_eq!(qp.run(QpcReq::modify(9, QpState::Rtr, rtr_rc, bad_mtu)).status, status::BAD_PARAM);
        let r = qp.run(QpcReq::modify(9, QpState::Rtr, rtr_rc, a));
        assert_eq!((r.status, r.ctx.state, r.ctx.dest_qpn, r.ctx.path_mtu), (status::OK, 2, 0x77, 5));
        // A UD QP needs only the send PSN for RTS, and a Q_Key at INIT.
        let mut ud = Qp { dut: qp.dut, qpn: 10, t: QpType::Ud };
        let u = good_attrs(QpType::Ud, 0);
        let no_qkey = attr::STATE | attr::PKEY_INDEX | attr::PORT;
        assert_eq!(ud.run(QpcReq::modify(10, QpState::Init, no_qkey, u)).status, status::BAD_PARAM);
        assert_eq!(ud.run(QpcReq::modify(10, QpState::Init, no_qkey | attr::QKEY, u)).status, status::OK);
        assert_eq!(ud.run(QpcReq::modify(10, QpState::Rtr, attr::STATE, u)).status, status::OK);
        assert_eq!(ud.run(QpcReq::modify(10, QpState::Rts, attr::STATE | attr::SQ_PSN, u)).status, status::OK);
        // Split CQ: the two CQ numbers stay apart.
        let c = ud.query().ctx;
        assert_eq!((c.send_cqn, c.recv_cqn, c.qkey), (11, 12, 0x1111_2222));
    }
}

on_every_backend! {
    fn psn_arithmetic_across_the_wrap(backend: Backend) {
        let dut = WithMemory::new(open(backend, None, Pacing::RANDOM, 3).expect("open"));
        let mut rc = Qp { dut, qpn: 0x42, t: QpType::Rc };
        let a = good_attrs(QpType::Rc, MASK24 - 1);
        for s in [QpState::Init, QpState::Rtr, QpState::Rts] {
            rc.go(s, a);
        }
        let send = |qp: &mut Qp, n| qp.run(QpcReq::send_psn(0x42, n));
        assert_eq!(send(&mut rc, 1).psn, MASK24 - 1);
        assert_eq!(send(&mut rc, 3).psn, MASK24);
        assert_eq!(send(&mut rc, 1).psn, 2);
        assert_eq!(send(&mut rc, 0).status, status::BAD_PARAM);
        assert_eq!(send(&mut rc, limits::MAX_PSN_COUNT + 1).status, status::BAD_PARAM);
        // Expected PSN starts at 0xfffffe.
        let recv = |qp: &mut Qp, psn, last| qp.run(QpcReq::recv_psn(0x42, psn, last));
        let r = recv(&mut rc, MASK24 - 1, false);
        assert_eq!((r.class, r.ctx.expected_psn, r.ctx.msn), (PsnClass::InSequence as u8, MASK24, 0));
        let r = recv(&mut rc, MASK24, true);
        assert_eq!((r.class, r.ctx.expected_psn, r.ctx.msn), (PsnClass::InSequence as u8, 0, 1));
        assert_eq!(recv(&mut rc, MASK24, false).class, PsnClass::Duplicate as u8);
        assert_eq!(recv(&mut rc, 1 << 23, false).class, PsnClass::Duplicate as u8);
        assert_eq!(recv(&mut rc, (1 << 23) - 1, false).class, PsnClass::OutOfSequence as u8);
        assert_eq!(recv(&mut rc, 1, false).class, PsnClass::OutOfSequence as u8);
        assert_eq!(recv(&mut rc, 1, false).ctx.expected_psn, 0, "an RC QP waits for the missing PSN");
        assert_eq!(recv(&mut rc, MASK24 + 1, false).status, status::BAD_PARAM);
        // UC follows the sender past a gap.
        let mut uc = Qp { dut: rc.dut, qpn: 0x43, t: QpType::Uc };
        let u = good_attrs(QpType::Uc, 0);
        for s in [QpState::Init, QpState::Rtr, QpState::Rts] {
            uc.go(s, u);
        }
        let r = uc.run(QpcReq::recv_psn(0x43, 5, false));
        assert_eq!((r.class, r.ctx.expected_psn), (PsnClass::OutOfSequence as u8, 6));
        assert_eq!(uc.run(QpcReq::recv_psn(0x43, 6, false)).class, PsnClass::InSequence as u8);
    }
}

on_every_backend! {
    fn retries_run_out_into_err(backend: Backend) {
        let mut qp = Qp { dut: WithMemory::new(open(backend, None, Pacing::RANDOM, 4).expect("open")), qpn: 0x55, t: QpType::Rc };
        let a = QpAttrs { retry_cnt: 2, rnr_retry: 7, ..good_attrs(QpType::Rc, 0) };
        for s in [QpState::Init, QpState::Rtr, QpState::Rts] {
            qp.go(s, a);
        }
        // RNR retry 7: never runs out.
        for _ in 0..20 {
            assert_eq!(qp.run(QpcReq::retry(0x55, true)).ctx.state, QpState::Rts as u8);
        }
        assert_eq!(qp.run(QpcReq::retry(0x55, false)).ctx.retry_left, 1);
        assert_eq!(qp.run(QpcReq::ack(0x55)).ctx.retry_left, 2);
        assert_eq!(qp.run(QpcReq::retry(0x55, false)).ctx.retry_left, 1);
        assert_eq!(qp.run(QpcReq::retry(0x55, false)).ctx.retry_left, 0);
        let r = qp.run(QpcReq::retry(0x55, false));
        assert_eq!((r.status, r.ctx.state), (status::OK, QpState::Err as u8));
        assert_eq!(qp.run(QpcReq::retry(0x55, false)).status, status::BAD_QP_STATE);
        assert_eq!(qp.run(QpcReq::send_psn(0x55, 1)).status, status::BAD_QP_STATE);
    }
}

on_every_backend! {
    fn contexts_survive_eviction(backend: Backend) {
        // 64 QPs on one cache line: each one's context must come back from
        // ICM exactly as it was left.
        let mut dut = WithMemory::new(open(backend, None, Pacing::RANDOM, 5).expect("open"));
        let qpns: Vec<u32> = (0..64).map(|i| (i << 4) | 3).collect();
        let mut want = Vec::new();
        for (i, &q) in qpns.iter().enumerate() {
            let mut qp = Qp { dut, qpn: q, t: QpType::Ud };
            let a = QpAttrs { qkey: i as u32, pd: q, ..good_attrs(QpType::Ud, i as u32 * 1000) };
            for s in [QpState::Init, QpState::Rtr, QpState::Rts] {
                qp.go(s, a);
            }
            want.push(qp.query().ctx);
            dut = qp.dut;
        }
        for (&q, w) in qpns.iter().zip(&want).rev() {
            assert_eq!(dut.transact(&[QpcReq::query(q)]).expect("query")[0].ctx, *w, "QPN {q:#x}");
        }
    }
}

on_every_backend! {
    fn a_reset_qp_is_in_icm_at_once_and_never_written_back(backend: Backend) {
        // mlx4 frees a QP's ICM after 2RST_QP (and may unmap and reuse it):
        // the zeroed context must be in ICM when the modify answers, and
        // nothing of the QP may be written there later. QP 3 and the QP
        // `LINES` above it share a cache line.
        use hca_rtl::qpc::{layout::WORDS, LINES, QPC_TABLE};
        let other = 3 + LINES as u32;
        let dut = WithMemory::new(open(backend, None, Pacing::RANDOM, 9).expect("open"));
        let mut qp = Qp { dut, qpn: 3, t: QpType::Rc };
        assert!(qp.reach(QpState::Rts));
        let refused = qp.run(QpcReq::modify(3, QpState::Reset, attr::STATE | attr::QKEY, good_attrs(QpType::Rc, 1)));
        assert_eq!(refused.status, status::BAD_PARAM, "{backend}: a reset naming an attribute");
        assert_eq!(qp.query().ctx.state, QpState::Rts as u8, "{backend}: the refused reset changed nothing");
        let r = qp.run(QpcReq::modify(3, QpState::Reset, attr::STATE, QpAttrs::default()));
        assert_eq!((r.status, r.ctx), (status::OK, Default::default()), "{backend}");
        for w in 0..WORDS as u8 {
            assert_eq!(qp.dut.mem.word(QPC_TABLE, 3, w), 0, "{backend}: word {w} of the reset QP in ICM");
            qp.dut.mem.host_write(QPC_TABLE, 3, w, 0x9e05_0000 + w as u64);
        }
        let mut next = Qp { dut: qp.dut, qpn: other, t: QpType::Rc };
        assert!(next.reach(QpState::Rts));
        next.run(QpcReq::modify(other, QpState::Reset, attr::STATE, QpAttrs::default()));
        for w in 0..WORDS as u8 {
            assert_eq!(next.dut.mem.word(QPC_TABLE, 3, w), 0x9e05_0000 + w as u64, "{backend}: word {w} rewritten");
        }
    }
}
