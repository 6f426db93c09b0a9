//! The QP context block: queue-pair state, legal transitions and sequence
//! numbers, with the contexts in ICM and a cache of them on chip.
//!
//! See `docs/blocks/qpc.md`.

pub mod lanes;
pub mod layout;
pub mod model;
pub mod table;
pub mod unit;

pub use layout::QpContext;
pub use model::QpcModel;

/// The ICM table of QP contexts, as the block numbers it on its ICM port:
/// entry `qpn`, [`layout::WORDS`] words.
pub const QPC_TABLE: u8 = 0;
pub use unit::{QpcBuilt, QpcUnit, LINES};

use serde::{Deserialize, Serialize};

/// PSNs, QPNs, CQNs, SRQNs and PDs are 24-bit.
pub const MASK24: u32 = 0xff_ffff;

pub use hca_abi::qp_state::{attr, QpState, QpType};

/// The block's limits, as QUERY_DEV_CAP will report them.
pub mod limits {
    /// Ports on the HCA (port numbers 1 and 2).
    pub const PORTS: u8 = 2;
    /// P_Key table entries per port.
    pub const PKEY_TABLE: u16 = 128;
    /// Outstanding RDMA reads and atomics, as initiator and as responder.
    pub const MAX_RD_ATOMIC: u8 = 16;
    /// PSNs one SEND_PSN may allocate (a message of 4095 packets).
    pub const MAX_PSN_COUNT: u16 = 4095;
}

/// Block opcodes (`req_op`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum QpcOp {
    /// Move to `to` with the attributes named in `attr_mask`.
    Modify = 0,
    /// Read the context.
    Query = 1,
    /// Allocate `count` send PSNs (RTS only); returns the first.
    SendPsn = 2,
    /// Classify a received PSN and advance the expected PSN and MSN.
    RecvPsn = 3,
    /// A transport timeout (`rnr` false) or an RNR NAK (`rnr` true) on an
    /// RC requester: spend one retry; none left moves the QP to ERR.
    Retry = 4,
    /// Forward progress on an RC requester: retry counters back to full.
    Ack = 5,
    /// A send-side completion error: RC goes to ERR, UC and UD to SQE.
    SendError = 6,
}

impl QpcOp {
    pub const ALL: [QpcOp; 7] = [
        QpcOp::Modify,
        QpcOp::Query,
        QpcOp::SendPsn,
        QpcOp::RecvPsn,
        QpcOp::Retry,
        QpcOp::Ack,
        QpcOp::SendError,
    ];

    pub fn from_code(c: u8) -> Option<QpcOp> {
        Self::ALL.into_iter().find(|o| *o as u8 == c)
    }

    pub const fn name(self) -> &'static str {
        match self {
            QpcOp::Modify => "modify",
            QpcOp::Query => "query",
            QpcOp::SendPsn => "send_psn",
            QpcOp::RecvPsn => "recv_psn",
            QpcOp::Retry => "retry",
            QpcOp::Ack => "ack",
            QpcOp::SendError => "send_error",
        }
    }
}

/// mlx4 command status codes the block returns.
pub mod status {
    pub const OK: u8 = 0x00;
    pub const BAD_OP: u8 = 0x02;
    pub const BAD_PARAM: u8 = 0x03;
    pub const BAD_QP_STATE: u8 = 0x10;

    pub fn name(s: u8) -> &'static str {
        match s {
            OK => "ok",
            BAD_OP => "bad_op",
            BAD_PARAM => "bad_param",
            BAD_QP_STATE => "bad_qp_state",
            _ => "unknown",
        }
    }
}

/// How a received PSN compares with the expected one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum PsnClass {
    InSequence = 0,
    Duplicate = 1,
    OutOfSequence = 2,
}

impl PsnClass {
    pub fn from_code(c: u8) -> Option<PsnClass> {
        [
            PsnClass::InSequence,
            PsnClass::Duplicate,
            PsnClass::OutOfSequence,
        ]
        .into_iter()
        .find(|p| *p as u8 == c)
    }
}

/// Attribute values of a modify; only those named in the mask are used
/// (and, at RESET to INIT, the creation fields).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QpAttrs {
    // Creation fields, taken at RESET to INIT.
    pub qp_type: u8,
    pub pd: u32,
    pub send_cqn: u32,
    pub recv_cqn: u32,
    pub srqn: u32,
    pub srq: bool,
    // Masked attributes.
    pub access: u8,
    pub pkey_index: u16,
    pub port: u8,
    pub qkey: u32,
    pub dlid: u16,
    pub sl: u8,
    pub path_mtu: u8,
    pub timeout: u8,
    pub retry_cnt: u8,
    pub rnr_retry: u8,
    pub rq_psn: u32,
    pub max_rd_atomic: u8,
    pub min_rnr_timer: u8,
    pub sq_psn: u32,
    pub max_dest_rd_atomic: u8,
    pub dest_qpn: u32,
    pub sqd_notify: bool,
}

/// One request to the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QpcReq {
    /// Raw opcode (see [`QpcOp`]); 3 bits.
    pub op: u8,
    pub qpn: u32,
    /// Modify: target state code.
    pub to: u8,
    /// Modify: attribute mask (see [`attr`]).
    pub attr_mask: u32,
    pub attrs: QpAttrs,
    /// RecvPsn: the packet's PSN.
    pub psn: u32,
    /// RecvPsn: the packet ends a message.
    pub last: bool,
    /// SendPsn: PSNs to allocate (1 to 4095).
    pub count: u16,
    /// Retry: an RNR NAK rather than a timeout.
    pub rnr: bool,
}

impl QpcReq {
    fn new(op: QpcOp, qpn: u32) -> Self {
        QpcReq {
            op: op as u8,
            qpn,
            to: 0,
            attr_mask: 0,
            attrs: QpAttrs::default(),
            psn: 0,
            last: false,
            count: 0,
            rnr: false,
        }
    }
    pub fn modify(qpn: u32, to: QpState, attr_mask: u32, attrs: QpAttrs) -> Self {
        QpcReq {
            to: to as u8,
            attr_mask,
            attrs,
            ..Self::new(QpcOp::Modify, qpn)
        }
    }
    pub fn query(qpn: u32) -> Self {
        Self::new(QpcOp::Query, qpn)
    }
    pub fn send_psn(qpn: u32, count: u16) -> Self {
        QpcReq {
            count,
            ..Self::new(QpcOp::SendPsn, qpn)
        }
    }
    pub fn recv_psn(qpn: u32, psn: u32, last: bool) -> Self {
        QpcReq {
            psn,
            last,
            ..Self::new(QpcOp::RecvPsn, qpn)
        }
    }
    pub fn retry(qpn: u32, rnr: bool) -> Self {
        QpcReq {
            rnr,
            ..Self::new(QpcOp::Retry, qpn)
        }
    }
    pub fn ack(qpn: u32) -> Self {
        Self::new(QpcOp::Ack, qpn)
    }
    pub fn send_error(qpn: u32) -> Self {
        Self::new(QpcOp::SendError, qpn)
    }
}

/// One response: the status, the context after the request (unchanged
/// when the status is not OK), and the op's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QpcResp {
    pub status: u8,
    pub ctx: QpContext,
    /// SendPsn: the first PSN allocated.
    pub psn: u32,
    /// RecvPsn: the class of the PSN (see [`PsnClass`]).
    pub class: u8,
}
