//! The CQ and EQ engine: completions written to CQ buffers with mlx4's
//! owner bit, arming, moderation, resize, and events written to EQs that
//! raise MSI-X vectors.
//!
//! See `docs/blocks/cq.md`.

pub mod lanes;
pub mod layout;
pub mod model;
pub mod unit;

pub use layout::cqc::Cqc;
pub use layout::cqe::Cqe;
pub use layout::eqc::Eqc;
pub use layout::eqe::Eqe;
pub use model::CqModel;
pub use unit::{CqBuilt, CqUnit, LINES};

use serde::{Deserialize, Serialize};

/// CQ contexts the table holds.
pub const NUM_CQS: u32 = 1 << 16;
/// The ICM tables as the engine numbers them on its ICM port: the CQ
/// contexts (entry `cqn`, [`layout::WORDS`] words), and the MTT (one word
/// per entry, mlx4's: the page's bus address, bit 0 the present flag),
/// through which it finds where each CQE and EQE goes.
pub const CQC_TABLE: u8 = 0;
pub const MTT_TABLE: u8 = 1;
/// Largest page of a CQ or EQ buffer: 4 KiB << MAX_LOG_PAGE (1 MiB).
pub const MAX_LOG_PAGE: u8 = 8;
/// EQs, each with its MSI-X vector.
pub const NUM_EQS: u32 = 8;
/// Largest CQ and EQ: 2^MAX_LOG_SIZE entries (ConnectX-3 takes 2^22 CQEs;
/// mlx4_core sizes its completion EQs at 2^17 for its 2^16 CQs).
pub const MAX_LOG_SIZE: u8 = 22;
pub const MASK24: u32 = 0xff_ffff;

/// CQE opcodes the engine writes itself.
pub const CQE_OPCODE_RESIZE: u8 = hca_abi::entries::cqe::OPCODE_RESIZE;
pub const CQE_OPCODE_ERROR: u8 = hca_abi::entries::cqe::OPCODE_ERROR;
/// CQ error syndrome: the CQ overran.
pub const CQ_ERROR_OVERRUN: u8 = 0x01;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum CqState {
    /// Software owns it.
    Free = 0,
    Ok = 1,
    /// Overran: completions are dropped until software destroys it.
    Error = 2,
}

impl CqState {
    pub fn from_code(c: u8) -> Option<CqState> {
        [CqState::Free, CqState::Ok, CqState::Error]
            .into_iter()
            .find(|s| *s as u8 == c)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum EqState {
    Free = 0,
    Ok = 1,
}

/// What the next completion does: nothing, or raise one completion event
/// (for a solicited completion only, or for any).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Arm {
    None = 0,
    /// mlx4's REQ_NOT_SOL (doorbell command 1).
    Solicited = 1,
    /// mlx4's REQ_NOT (doorbell command 2).
    Next = 2,
}

impl Arm {
    pub fn from_code(c: u8) -> Option<Arm> {
        [Arm::None, Arm::Solicited, Arm::Next]
            .into_iter()
            .find(|a| *a as u8 == c)
    }
}

pub use hca_abi::entries::eqe::event;

/// Statuses: mlx4's for the commands, the engine's own for the data path.
pub mod status {
    pub const OK: u8 = 0x00;
    pub const BAD_OP: u8 = 0x02;
    pub const BAD_PARAM: u8 = 0x03;
    pub const BAD_RES_STATE: u8 = 0x09;
    pub const BAD_INDEX: u8 = 0x0a;
    /// More CQEs outstanding than the new size holds (resize).
    pub const BAD_SIZE: u8 = 0x40;
    /// The completion's CQ is not the HCA's.
    pub const CQ_NOT_READY: u8 = 0x81;
    /// The completion's CQ is in error: dropped.
    pub const CQ_IN_ERROR: u8 = 0x82;
    /// This completion found its CQ full: dropped, the CQ is now in error.
    pub const CQ_OVERRUN: u8 = 0x83;
    /// No EQ takes this event type: dropped.
    pub const NO_EQ: u8 = 0x84;

    pub fn name(s: u8) -> &'static str {
        match s {
            OK => "ok",
            BAD_OP => "bad_op",
            BAD_PARAM => "bad_param",
            BAD_RES_STATE => "bad_res_state",
            BAD_INDEX => "bad_index",
            BAD_SIZE => "bad_size",
            CQ_NOT_READY => "cq_not_ready",
            CQ_IN_ERROR => "cq_in_error",
            CQ_OVERRUN => "cq_overrun",
            NO_EQ => "no_eq",
            _ => "unknown",
        }
    }
}

/// Where a queue's buffer is, as its context's word 1 holds it: the MTT
/// index of its first page and its page size, each truncated to its field.
pub fn buffer_word(mtt: u32, log_page: u8) -> u64 {
    Cqc {
        mtt_base: mtt,
        log_page,
        ..Cqc::default()
    }
    .pack()[1]
}

/// The bus address of byte `off` of a queue whose buffer's pages are
/// `4 KiB << log_page`, given the MTT entry of the page it falls in.
pub fn through_mtt(mtt_entry: u64, log_page: u8, off: u64) -> u64 {
    let mask = (1u64 << (12 + log_page as u32)) - 1;
    (mtt_entry & !mask) | (off & mask)
}

/// Requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CqReq {
    /// SW2HW_CQ: the buffer's first page at MTT index `mtt`, its pages
    /// 4 KiB << `log_page`.
    Sw2HwCq {
        cqn: u32,
        mtt: u32,
        log_page: u8,
        log_size: u8,
        eqn: u16,
    },
    /// HW2SW_CQ.
    Hw2SwCq { cqn: u32 },
    /// MODIFY_CQ, op modifier 0: a new buffer and size.
    Resize {
        cqn: u32,
        mtt: u32,
        log_page: u8,
        log_size: u8,
    },
    /// MODIFY_CQ, op modifier 1: moderation.
    Moderate { cqn: u32, count: u16, period: u16 },
    /// SW2HW_EQ.
    Sw2HwEq {
        eqn: u16,
        mtt: u32,
        log_page: u8,
        log_size: u8,
        vector: u8,
    },
    /// HW2SW_EQ.
    Hw2SwEq { eqn: u16 },
    /// MAP_EQ: route (or with `unmap`, stop routing) event types to an EQ.
    MapEq { eqn: u16, mask: u64, unmap: bool },
    /// A completion from the transport engine.
    Complete { cqn: u32, cqe: Cqe, solicited: bool },
    /// The consumer-index doorbell.
    SetCi { cqn: u32, ci: u32 },
    /// The arm doorbell (`sn << 28 | cmd << 24 | cqn`, with the ci).
    ArmCq { cqn: u32, arm: u8, sn: u8, ci: u32 },
    /// The firmware's moderation timer visits a CQ.
    Tick { cqn: u32, ticks: u16 },
    /// The EQ doorbell: consumer index, and re-arm.
    EqDoorbell { eqn: u16, ci: u32, arm: bool },
    /// An asynchronous event (QP events, port change, command completion...).
    Event { eqe: Eqe },
}

/// One DMA write of 8 bytes to host memory (word `k` of a CQE or EQE), as
/// it went out on the engine's DMA port to its memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmaWrite {
    pub addr: u64,
    pub data: u64,
}

/// One response: the status, every DMA write (already done: this is the
/// record, for checkers and `hca block cq`) and MSI-X vector the request
/// caused, in order, and the CQ or EQ context it left.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CqResp {
    pub status: u8,
    pub dma: Vec<DmaWrite>,
    pub irqs: Vec<u8>,
    pub cq: Cqc,
    pub eq: Eqc,
}
