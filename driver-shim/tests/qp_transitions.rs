//! Every QP transition of the IBTA's table through the Rust driver, for
//! RC, UC and UD on every backend: each legal one with exactly the
//! attributes it requires ends in its state as QUERY_QP shows it; each
//! illegal one, one missing a required attribute and one naming an
//! attribute the transition does not take are refused with the driver's
//! typed error, the QP unchanged in the driver and the device. SQE is
//! entered only by the device (a send error), so no walk starts there.

mod common;

use common::{small_qp, up};
use hca_abi::qp_state::rule;
use hca_device::HcaPci;
use hca_driver::{attr, Device, Error, Qp, QpAttr, QpState, QpType};
use hca_engines::Backend;
use QpState::*;

const STATES: [QpState; 6] = [Reset, Init, Rtr, Rts, Sqd, Err];

fn values(to: QpState) -> QpAttr {
    QpAttr {
        state: Some(to),
        port: 1,
        pkey_index: 0,
        qkey: 0x8001_0000,
        access: 1,
        path_mtu: 4,
        dest_qpn: 0x123,
        rq_psn: 0x10,
        sq_psn: 0x20,
        dlid: 5,
        sl: 2,
        timeout: 14,
        retry_cnt: 7,
        rnr_retry: 6,
        min_rnr_timer: 3,
        max_rd_atomic: 2,
        max_dest_rd_atomic: 2,
    }
}

/// Move `qp` from `from` to `to` with the attributes the table requires.
fn step(d: &mut Device<HcaPci>, qp: &Qp, from: QpState, to: QpState) -> Result<(), Error> {
    let r = rule(from, to, qp.qp_type).expect("a legal step");
    d.modify_qp(qp, &values(to), attr::STATE | r.required)
}

/// The path from RESET to `s`.
fn walk(d: &mut Device<HcaPci>, qp: &Qp, s: QpState) {
    let path: &[QpState] = match s {
        Reset => &[],
        Init => &[Init],
        Rtr => &[Init, Rtr],
        Rts => &[Init, Rtr, Rts],
        Sqd => &[Init, Rtr, Rts, Sqd],
        Err => &[Err],
        Sqe => unreachable!("only the device enters SQE"),
    };
    let mut at = Reset;
    if s == Err {
        step(d, qp, Reset, Init).unwrap();
        at = Init;
    }
    for &n in path {
        step(d, qp, at, n).unwrap_or_else(|e| panic!("{:?} {:?} -> {:?}: {e}", qp.qp_type, at, n));
        at = n;
    }
    assert_eq!(d.qp_state(qp).unwrap(), s);
}

fn device_state(d: &mut Device<HcaPci>, qp: &Qp) -> u8 {
    d.query_qp(qp).unwrap().state
}

fn every_transition(backend: Backend) {
    let mut d = up(backend);
    let pd = d.alloc_pd().unwrap();
    let cq = d.create_cq(31, 0).unwrap();
    let (mut legal, mut illegal) = (0, 0);
    for t in QpType::ALL {
        for from in STATES {
            for to in STATES {
                let qp = small_qp(&mut d, &pd, t, cq);
                walk(&mut d, &qp, from);
                let before = d.query_qp(&qp).unwrap();
                match rule(from, to, t) {
                    Some(r) => {
                        step(&mut d, &qp, from, to)
                            .unwrap_or_else(|e| panic!("{backend} {t:?} {from:?} -> {to:?}: {e}"));
                        assert_eq!(d.qp_state(&qp).unwrap(), to);
                        if to != Reset {
                            assert_eq!(
                                device_state(&mut d, &qp),
                                to as u8,
                                "{backend} {t:?} {from:?} -> {to:?}"
                            );
                        }
                        legal += 1;
                        // Refusals from the same start: a missing required
                        // attribute, an attribute not taken.
                        if r.required != 0 {
                            let q2 = small_qp(&mut d, &pd, t, cq);
                            walk(&mut d, &q2, from);
                            let low = r.required & r.required.wrapping_neg();
                            let e =
                                d.modify_qp(&q2, &values(to), attr::STATE | (r.required & !low));
                            assert!(
                                matches!(e, Result::Err(Error::QpTransition { .. })),
                                "{t:?} {from:?} -> {to:?} without {low:#x}: {e:?}"
                            );
                            assert_eq!(d.qp_state(&q2).unwrap(), from);
                            d.destroy_qp(&q2).unwrap();
                        }
                        let extra = attr::ALT_PATH;
                        let q3 = small_qp(&mut d, &pd, t, cq);
                        walk(&mut d, &q3, from);
                        let e = d.modify_qp(&q3, &values(to), attr::STATE | r.required | extra);
                        assert!(
                            matches!(e, Result::Err(Error::QpTransition { .. })),
                            "{t:?} {from:?} -> {to:?} with ALT_PATH: {e:?}"
                        );
                        assert_eq!(d.qp_state(&q3).unwrap(), from);
                        d.destroy_qp(&q3).unwrap();
                    }
                    None => {
                        let e = d.modify_qp(&qp, &values(to), attr::STATE);
                        assert!(
                            matches!(e, Result::Err(Error::QpTransition { qpn, .. }) if qpn == qp.qpn),
                            "{backend} {t:?} {from:?} -> {to:?} must be refused: {e:?}"
                        );
                        assert_eq!(d.qp_state(&qp).unwrap(), from, "driver state unchanged");
                        assert_eq!(
                            d.query_qp(&qp).unwrap(),
                            before,
                            "{backend}: device state unchanged"
                        );
                        illegal += 1;
                    }
                }
                d.destroy_qp(&qp).unwrap();
            }
        }
    }
    assert!(
        legal > 40 && illegal > 40,
        "{legal} legal, {illegal} illegal"
    );
    d.destroy_cq(&cq).unwrap();
    d.dealloc_pd(&pd).unwrap();
    assert_eq!(d.resources().qps, 0);
    d.tear_down().unwrap();
}

hca_engines::on_every_backend! {
    fn every_ibta_transition_through_the_driver(backend: Backend) {
        every_transition(backend)
    }
}
