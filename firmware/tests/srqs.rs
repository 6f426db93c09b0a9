//! The SRQ commands: SW2HW_SRQ keeps the context in the SRQC table in ICM,
//! QUERY_SRQ and HW2SW_SRQ give it back, ARM_SRQ sets the limit, and each
//! refusal leaves the device as it was.

use hca_firmware::host::Host;
use hca_firmware::opcode as op;
use hca_firmware::srq::{SrqContext, STATE_HW};
use hca_firmware::{Firmware, Status};

fn host() -> Host {
    let mut h = Host::new(Firmware::new());
    h.bring_up();
    let p = Host::init_hca_params();
    assert_eq!(h.map_icm(p.srqc_base, 1), Status::Ok);
    h
}

fn context(srqn: u32) -> SrqContext {
    SrqContext {
        log_size: 8,
        srqn,
        log_stride: 2,
        pd: 3,
        log_page_size: 0,
        mtt_base_addr_l: 0x40,
        db_rec_addr: 0x55_0000,
        ..Default::default()
    }
}

#[test]
fn an_srq_is_created_armed_queried_and_destroyed() {
    let mut h = host();
    assert_eq!(
        h.cmd_in(op::SW2HW_SRQ, 0, &context(5).encode(), 5),
        Status::Ok
    );
    assert_eq!(h.fw.hw_srqs(), vec![5]);
    assert_eq!(h.cmd(op::ARM_SRQ, 0, 16, 5), Status::Ok);
    let (s, out) = h.cmd_out(op::QUERY_SRQ, 0, 5);
    assert_eq!(s, Status::Ok);
    let got = SrqContext::decode(&out);
    assert_eq!(
        got,
        SrqContext {
            state: STATE_HW,
            limit_watermark: 16,
            ..context(5)
        }
    );
    let (s, out) = h.cmd_out(op::HW2SW_SRQ, 0, 5);
    assert_eq!(s, Status::Ok);
    assert_eq!(
        SrqContext::decode(&out),
        got,
        "HW2SW_SRQ gives the context back"
    );
    assert!(h.fw.hw_srqs().is_empty());
    // The entry in ICM is zero again: a new SRQ there starts clean.
    assert_eq!(
        h.cmd_in(op::SW2HW_SRQ, 0, &context(5).encode(), 5),
        Status::Ok
    );
    assert_eq!(
        h.cmd(op::HW2SW_SRQ, 1, 0, 5),
        Status::Ok,
        "op modifier 1: no mailbox"
    );
}

#[test]
fn bad_srq_commands_change_nothing() {
    let mut h = host();
    assert_eq!(
        h.cmd_in(op::SW2HW_SRQ, 0, &context(1).encode(), 1),
        Status::Ok
    );
    let inbox = |h: &mut Host, c: SrqContext, n: u32| h.cmd_in(op::SW2HW_SRQ, 0, &c.encode(), n);
    h.refused(Status::BadResState, |h| inbox(h, context(1), 1));
    h.refused(Status::BadParam, |h| inbox(h, context(3), 2));
    h.refused(Status::BadParam, |h| {
        inbox(
            h,
            SrqContext {
                log_size: 15,
                ..context(2)
            },
            2,
        )
    });
    h.refused(Status::BadParam, |h| {
        inbox(
            h,
            SrqContext {
                log_stride: 9,
                ..context(2)
            },
            2,
        )
    });
    h.refused(Status::BadParam, |h| {
        inbox(
            h,
            SrqContext {
                mtt_base_addr_l: 0x44,
                ..context(2)
            },
            2,
        )
    });
    h.refused(Status::BadIndex, |h| inbox(h, context(64), 64));
    h.refused(Status::BadResState, |h| h.cmd(op::ARM_SRQ, 0, 1, 2));
    h.refused(Status::BadParam, |h| h.cmd(op::ARM_SRQ, 0, 256, 1));
    h.refused(Status::BadResState, |h| h.cmd_out(op::QUERY_SRQ, 0, 2).0);
    h.refused(Status::BadResState, |h| h.cmd(op::HW2SW_SRQ, 1, 0, 2));
    h.refused(Status::BadOp, |h| h.cmd(op::HW2SW_SRQ, 2, 0, 1));
}

#[test]
fn an_srq_in_unmapped_icm_is_an_icm_error() {
    let mut h = Host::new(Firmware::new());
    h.bring_up();
    h.refused(Status::IcmError, |h| {
        h.cmd_in(op::SW2HW_SRQ, 0, &context(1).encode(), 1)
    });
}
