//! MODIFY_CQ through the firmware on every backend of the CQ/EQ engine:
//! a resize with CQEs outstanding keeps them all (the resize CQE follows
//! them in the old buffer, the new buffer is the hardware's, the next CQE
//! lands there), a buffer too small for them is refused with nothing
//! changed, and moderation.

use hca_device::blocks::firmware_on;
use hca_engines::Backend;
use hca_firmware::cq::CqContext;
use hca_firmware::host::Host;
use hca_firmware::opcode as op;
use hca_firmware::{HostMemory, Status};
use hca_rtl::cq::{CqReq, Cqe, CQE_OPCODE_RESIZE};

const CQ: u32 = 1;

fn cqe_at(h: &Host, page: u64, k: u64) -> Cqe {
    let mut b = [0u8; 32];
    h.mem.read(page + 32 * k, &mut b).expect("host memory");
    let words: Vec<u64> = b
        .chunks(8)
        .map(|c| u64::from_be_bytes(c.try_into().unwrap()))
        .collect();
    Cqe::unpack(&words.try_into().unwrap())
}

fn complete(h: &mut Host, qpn: u32, wqe: u16) {
    let cqe = Cqe {
        my_qpn: qpn,
        wqe_index: wqe,
        byte_cnt: 64,
        ..Default::default()
    };
    let s =
        h.fw.cq_request(
            CqReq::Complete {
                cqn: CQ,
                cqe,
                solicited: false,
            },
            &mut h.mem,
        )
        .expect("the engine answers");
    assert_eq!(s, hca_rtl::cq::status::OK, "completion {wqe}");
}

fn resize_keeps_every_cqe(backend: Backend) {
    let mut h = Host::new(firmware_on(backend).expect("firmware"));
    h.bring_up();
    assert_eq!(h.create_eq(0, 4, 0, 0).0, Status::Ok);
    let (s, old) = h.create_cq(CQ, 4, 0, 8);
    assert_eq!(s, Status::Ok);
    for k in 0..5 {
        complete(&mut h, 0x40, k);
    }
    // Too small for the five CQEs and the resize CQE: refused, nothing
    // changed.
    let small = h.alloc(4096, 4096);
    h.write_mtt(16, &[small]);
    let before = h.fw.state_digest();
    let ctx = CqContext {
        log_size: 2,
        mtt_base_addr_l: 16 * 8,
        ..Default::default()
    };
    assert_ne!(
        h.cmd_in(op::MODIFY_CQ, 0, &ctx.encode(), CQ),
        Status::Ok,
        "{backend}"
    );
    assert_eq!(h.fw.state_digest(), before, "{backend}");
    assert_ne!(
        cqe_at(&h, old[0], 5).opcode,
        CQE_OPCODE_RESIZE,
        "{backend}: no resize CQE after a refusal"
    );
    // Room for them all.
    let new = h.alloc(4096, 4096);
    h.write_mtt(24, &[new]);
    let ctx = CqContext {
        log_size: 6,
        mtt_base_addr_l: 24 * 8,
        ..Default::default()
    };
    assert_eq!(
        h.cmd_in(op::MODIFY_CQ, 0, &ctx.encode(), CQ),
        Status::Ok,
        "{backend}"
    );
    for k in 0..5 {
        let c = cqe_at(&h, old[0], k);
        assert_eq!(
            (c.my_qpn, c.wqe_index),
            (0x40, k as u16),
            "{backend}: CQE {k} kept"
        );
    }
    assert_eq!(
        cqe_at(&h, old[0], 5).opcode,
        CQE_OPCODE_RESIZE,
        "{backend}: the resize CQE"
    );
    // The producer index goes on at 6 in the new buffer: slots 6.. are
    // next written on this pass (the hardware's with owner set), slots
    // 0..6 on the next one (the hardware's with owner clear).
    for k in 0..64 {
        assert_eq!(
            cqe_at(&h, new, k).owner,
            k >= 6,
            "{backend}: new slot {k} is the hardware's on its next pass"
        );
    }
    complete(&mut h, 0x41, 9);
    let landed = (0..64)
        .filter(|&k| cqe_at(&h, new, k).my_qpn == 0x41)
        .count();
    assert_eq!(landed, 1, "{backend}: the next CQE goes to the new buffer");
    // Moderation, and the refusals.
    let m = CqContext {
        cq_max_count: 4,
        cq_period: 10,
        ..Default::default()
    };
    assert_eq!(
        h.cmd_in(op::MODIFY_CQ, 1, &m.encode(), CQ),
        Status::Ok,
        "{backend}"
    );
    let before = h.fw.state_digest();
    assert_eq!(
        h.cmd_in(op::MODIFY_CQ, 1, &m.encode(), 9),
        Status::BadResState,
        "{backend}: a CQ software owns"
    );
    assert_eq!(
        h.cmd_in(op::MODIFY_CQ, 2, &m.encode(), CQ),
        Status::BadOp,
        "{backend}: op modifier 2"
    );
    assert_eq!(h.fw.state_digest(), before, "{backend}");
}

hca_engines::on_every_backend! {
    fn modify_cq_resizes_and_moderates(backend: Backend) {
        resize_keeps_every_cqe(backend)
    }
}
