//! MODIFY_CQ through the firmware on every backend of the CQ/EQ engine,
//! posted through the project's driver: a resize with CQEs outstanding
//! keeps them all (the resize CQE follows them in the old buffer, the new
//! buffer is the hardware's, the next CQE lands there), a buffer too small
//! for them is refused with nothing changed, and moderation. The CQ is the
//! test's own (raw SW2HW_CQ, its buffers through the driver's MTT
//! allocator) on the driver's first completion EQ.

mod common;

use common::*;
use hca_engines::Backend;
use hca_firmware::cq::CqContext;
use hca_firmware::opcode as op;
use hca_firmware::Status;
use hca_rtl::cq::{Cqe, CQE_OPCODE_RESIZE};

/// A CQ number the driver has not handed out (it has created none).
const CQ: u32 = 1;

fn cqe_at(d: &mut Dev, page: u64, k: u64) -> Cqe {
    let b = entry(d, &[page], k);
    let words: Vec<u64> = b
        .chunks(8)
        .map(|c| u64::from_be_bytes(c.try_into().unwrap()))
        .collect();
    Cqe::unpack(&words.try_into().unwrap())
}

fn complete(d: &mut Dev, qpn: u32, wqe: u16) {
    complete_into(d, CQ, qpn, wqe);
}

fn resize_keeps_every_cqe(backend: Backend) {
    let mut d = up(backend);
    let eqn = d.eq_info()[1].eqn;
    let (s, old) = create_cq(&mut d, CQ, 4, eqn as u8);
    assert_eq!(s, Status::Ok);
    for k in 0..5 {
        complete(&mut d, 0x40, k);
    }
    // Too small for the five CQEs and the resize CQE: refused, nothing
    // changed.
    let small = alloc(&mut d, 4096, 4096);
    let small_mtt = mtt_for(&mut d, &[small]);
    let before = fw(&mut d).state_digest();
    let ctx = CqContext {
        log_size: 2,
        mtt_base_addr_l: small_mtt.offset() as u32,
        ..Default::default()
    };
    assert_ne!(
        cmd_in(&mut d, op::MODIFY_CQ, 0, &ctx.encode(), CQ),
        Status::Ok,
        "{backend}"
    );
    assert_eq!(fw(&mut d).state_digest(), before, "{backend}");
    assert_ne!(
        cqe_at(&mut d, old[0], 5).opcode,
        CQE_OPCODE_RESIZE,
        "{backend}: no resize CQE after a refusal"
    );
    // Room for them all.
    let new = alloc(&mut d, 4096, 4096);
    let new_mtt = mtt_for(&mut d, &[new]);
    let ctx = CqContext {
        log_size: 6,
        mtt_base_addr_l: new_mtt.offset() as u32,
        ..Default::default()
    };
    assert_eq!(
        cmd_in(&mut d, op::MODIFY_CQ, 0, &ctx.encode(), CQ),
        Status::Ok,
        "{backend}"
    );
    for k in 0..5 {
        let c = cqe_at(&mut d, old[0], k);
        assert_eq!(
            (c.my_qpn, c.wqe_index),
            (0x40, k as u16),
            "{backend}: CQE {k} kept"
        );
    }
    assert_eq!(
        cqe_at(&mut d, old[0], 5).opcode,
        CQE_OPCODE_RESIZE,
        "{backend}: the resize CQE"
    );
    // The producer index goes on at 6 in the new buffer: slots 6.. are
    // next written on this pass (the hardware's with owner set), slots
    // 0..6 on the next one (the hardware's with owner clear).
    for k in 0..64 {
        assert_eq!(
            cqe_at(&mut d, new, k).owner,
            k >= 6,
            "{backend}: new slot {k} is the hardware's on its next pass"
        );
    }
    complete(&mut d, 0x41, 9);
    let landed = (0..64)
        .filter(|&k| cqe_at(&mut d, new, k).my_qpn == 0x41)
        .count();
    assert_eq!(landed, 1, "{backend}: the next CQE goes to the new buffer");
    // Moderation, and the refusals.
    let m = CqContext {
        cq_max_count: 4,
        cq_period: 10,
        ..Default::default()
    };
    assert_eq!(
        cmd_in(&mut d, op::MODIFY_CQ, 1, &m.encode(), CQ),
        Status::Ok,
        "{backend}"
    );
    let before = fw(&mut d).state_digest();
    assert_eq!(
        cmd_in(&mut d, op::MODIFY_CQ, 1, &m.encode(), 9),
        Status::BadResState,
        "{backend}: a CQ software owns"
    );
    assert_eq!(
        cmd_in(&mut d, op::MODIFY_CQ, 2, &m.encode(), CQ),
        Status::BadOp,
        "{backend}: op modifier 2"
    );
    assert_eq!(fw(&mut d).state_digest(), before, "{backend}");
}

hca_engines::on_every_backend! {
    fn modify_cq_resizes_and_moderates(backend: Backend) {
        resize_keeps_every_cqe(backend)
    }
}
