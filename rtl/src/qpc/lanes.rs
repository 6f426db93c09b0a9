//! What the QP context block's request lanes mean: one function from a
//! request to the values on its ports, beside the RTL that decodes them
//! (`unit.rs`). Every clocked backend drives the ports through it.

use super::layout::WORDS;
use super::model::attrs_as_context;
use super::{attr, QpcOp, QpcReq, MASK24};

/// The context words a modify's attributes travel in.
pub const ATTR_WORDS: usize = WORDS - 1;

/// A request as the block's ports carry it, one field per `req_*` port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QpcLanes {
    /// The operation's code (3 bits).
    pub op: u64,
    pub qpn: u64,
    /// Modify: which attributes to set (verbs `IB_QP_*` bit numbers).
    pub attr_mask: u64,
    /// Modify: the attributes as context words 0..=6, in the context's
    /// own layout, with the target state in the state field (the unit
    /// merges no attribute into the last word).
    pub attrs: [u64; ATTR_WORDS],
    /// SendPsn: the PSN count; RecvPsn: the packet's PSN; else 0.
    pub arg: u64,
    /// RecvPsn: the packet ends a message.
    pub last: bool,
    /// Retry: an RNR NAK rather than a timeout.
    pub rnr: bool,
}

/// The lanes of a request: what the unit's decoder expects on its ports.
pub fn request_lanes(r: &QpcReq) -> QpcLanes {
    let mut target = attrs_as_context(&r.attrs);
    target.state = r.to;
    let w = target.pack();
    QpcLanes {
        op: r.op as u64 & 7,
        qpn: (r.qpn & MASK24) as u64,
        attr_mask: r.attr_mask as u64 & ((1 << attr::BITS) - 1),
        attrs: std::array::from_fn(|i| w[i]),
        arg: match QpcOp::from_code(r.op) {
            Some(QpcOp::SendPsn) => r.count as u64,
            Some(QpcOp::RecvPsn) => r.psn as u64,
            _ => 0,
        },
        last: r.last,
        rnr: r.rnr,
    }
}
