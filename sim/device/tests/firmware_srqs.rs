//! The SRQ commands, posted through the project's driver: SW2HW_SRQ keeps
//! the context in the SRQC table in ICM, QUERY_SRQ and HW2SW_SRQ give it
//! back, ARM_SRQ sets the limit, and each refusal leaves the device as it
//! was. The SRQ numbers are ones the driver has not handed out, their SRQC
//! chunk mapped as the driver maps it for its own.

mod common;

use common::*;
use hca_engines::Backend;
use hca_firmware::opcode as op;
use hca_firmware::srq::{SrqContext, STATE_HW};
use hca_firmware::Status;

fn host() -> Dev {
    let mut d = up(Backend::Model);
    for n in [1, 2, 3, 5] {
        map_object(&mut d, "SRQC", n);
    }
    d
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
    let mut d = host();
    assert_eq!(
        cmd_in(&mut d, op::SW2HW_SRQ, 0, &context(5).encode(), 5),
        Status::Ok
    );
    assert_eq!(fw(&mut d).hw_srqs(), vec![5]);
    assert_eq!(cmd(&mut d, op::ARM_SRQ, 0, 16, 5), Status::Ok);
    let (s, out) = cmd_out(&mut d, op::QUERY_SRQ, 0, 5);
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
    let (s, out) = cmd_out(&mut d, op::HW2SW_SRQ, 0, 5);
    assert_eq!(s, Status::Ok);
    assert_eq!(
        SrqContext::decode(&out),
        got,
        "HW2SW_SRQ gives the context back"
    );
    assert!(fw(&mut d).hw_srqs().is_empty());
    // The entry in ICM is zero again: a new SRQ there starts clean.
    assert_eq!(
        cmd_in(&mut d, op::SW2HW_SRQ, 0, &context(5).encode(), 5),
        Status::Ok
    );
    assert_eq!(
        cmd(&mut d, op::HW2SW_SRQ, 1, 0, 5),
        Status::Ok,
        "op modifier 1: no mailbox"
    );
}

#[test]
fn bad_srq_commands_change_nothing() {
    let mut d = host();
    assert_eq!(
        cmd_in(&mut d, op::SW2HW_SRQ, 0, &context(1).encode(), 1),
        Status::Ok
    );
    let inbox = |d: &mut Dev, c: SrqContext, n: u32| cmd_in(d, op::SW2HW_SRQ, 0, &c.encode(), n);
    refused(&mut d, Status::BadResState, |d| inbox(d, context(1), 1));
    refused(&mut d, Status::BadParam, |d| inbox(d, context(3), 2));
    refused(&mut d, Status::BadParam, |d| {
        inbox(
            d,
            SrqContext {
                log_size: 15,
                ..context(2)
            },
            2,
        )
    });
    refused(&mut d, Status::BadParam, |d| {
        inbox(
            d,
            SrqContext {
                log_stride: 9,
                ..context(2)
            },
            2,
        )
    });
    refused(&mut d, Status::BadParam, |d| {
        inbox(
            d,
            SrqContext {
                mtt_base_addr_l: 0x44,
                ..context(2)
            },
            2,
        )
    });
    // Past the SRQC table the driver's layout gave INIT_HCA.
    let past = 1u32 << layout(&d).log_num_srqs;
    refused(&mut d, Status::BadIndex, |d| inbox(d, context(past), past));
    refused(&mut d, Status::BadResState, |d| {
        cmd(d, op::ARM_SRQ, 0, 1, 2)
    });
    refused(&mut d, Status::BadParam, |d| cmd(d, op::ARM_SRQ, 0, 256, 1));
    refused(&mut d, Status::BadResState, |d| {
        cmd_out(d, op::QUERY_SRQ, 0, 2).0
    });
    refused(&mut d, Status::BadResState, |d| {
        cmd(d, op::HW2SW_SRQ, 1, 0, 2)
    });
    refused(&mut d, Status::BadOp, |d| cmd(d, op::HW2SW_SRQ, 2, 0, 1));
}

#[test]
fn an_srq_in_unmapped_icm_is_an_icm_error() {
    // The driver maps SRQC chunks as it creates SRQs: none yet.
    let mut d = up(Backend::Model);
    refused(&mut d, Status::IcmError, |d| {
        cmd_in(d, op::SW2HW_SRQ, 0, &context(1).encode(), 1)
    });
}
