//! What the CQ/EQ engine's request lanes mean: one function from a
//! request to the values on its ports, beside the RTL that decodes them
//! (`unit.rs`). Every clocked backend drives the ports through it.

use super::unit::op;
use super::{buffer_word, CqReq};

/// A request as the engine's ports carry it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CqLanes {
    /// `req_op`: the operation's code ([`op`]).
    pub op: u64,
    /// `req_a` .. `req_d`: the queue number (a), the buffer word (b: MTT
    /// index and page size, as a context's word 1 holds them), a size,
    /// count, consumer index or mask (c), and an EQ, vector, period, arm
    /// request or unmap flag (d).
    pub args: [u64; 4],
    /// `req_e0` .. `req_e3`: the CQE of a completion or the EQE of an
    /// event, packed.
    pub entry: [u64; 4],
}

/// The lanes of a request: what the unit's decoder expects on its ports.
pub fn request_lanes(r: &CqReq) -> CqLanes {
    let (op, args, entry) = match *r {
        CqReq::Sw2HwCq {
            cqn,
            mtt,
            log_page,
            log_size,
            eqn,
        } => (
            op::SW2HW_CQ,
            [
                cqn as u64,
                buffer_word(mtt, log_page),
                log_size as u64,
                eqn as u64,
            ],
            [0; 4],
        ),
        CqReq::Hw2SwCq { cqn } => (op::HW2SW_CQ, [cqn as u64, 0, 0, 0], [0; 4]),
        CqReq::Resize {
            cqn,
            mtt,
            log_page,
            log_size,
        } => (
            op::RESIZE,
            [cqn as u64, buffer_word(mtt, log_page), log_size as u64, 0],
            [0; 4],
        ),
        CqReq::Moderate { cqn, count, period } => (
            op::MODERATE,
            [cqn as u64, 0, count as u64, period as u64],
            [0; 4],
        ),
        CqReq::Sw2HwEq {
            eqn,
            mtt,
            log_page,
            log_size,
            vector,
        } => (
            op::SW2HW_EQ,
            [
                eqn as u64,
                buffer_word(mtt, log_page),
                log_size as u64,
                vector as u64,
            ],
            [0; 4],
        ),
        CqReq::Hw2SwEq { eqn } => (op::HW2SW_EQ, [eqn as u64, 0, 0, 0], [0; 4]),
        CqReq::MapEq { eqn, mask, unmap } => {
            (op::MAP_EQ, [eqn as u64, mask, unmap as u64, 0], [0; 4])
        }
        CqReq::Complete {
            cqn,
            cqe,
            solicited,
        } => (
            op::COMPLETE,
            [cqn as u64, 0, solicited as u64, 0],
            cqe.pack(),
        ),
        CqReq::SetCi { cqn, ci } => (op::SET_CI, [cqn as u64, 0, ci as u64, 0], [0; 4]),
        CqReq::ArmCq { cqn, arm, sn, ci } => (
            op::ARM_CQ,
            [cqn as u64, 0, ci as u64, arm as u64 | (sn as u64) << 8],
            [0; 4],
        ),
        CqReq::Tick { cqn, ticks } => (op::TICK, [cqn as u64, 0, ticks as u64, 0], [0; 4]),
        CqReq::EqDoorbell { eqn, ci, arm } => (
            op::EQ_DOORBELL,
            [eqn as u64, 0, ci as u64, arm as u64],
            [0; 4],
        ),
        CqReq::Event { eqe } => (op::EVENT, [0; 4], eqe.pack()),
    };
    CqLanes { op, args, entry }
}
