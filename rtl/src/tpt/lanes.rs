//! What the TPT's request lanes mean: one function from a request to the
//! values on its ports, beside the RTL that decodes them (`unit.rs`).
//! Every clocked backend drives the ports through it.

use super::layout::WORDS;
use super::{key_tag, MptState, TptOp, TptReq};

/// A request as the TPT's ports carry it, one field per `req_*` port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TptLanes {
    /// The operation's code (4 bits).
    pub op: u64,
    /// The key (lookup, invalidate, fast-register).
    pub key: u64,
    /// The protection domain (24 bits).
    pub pd: u64,
    pub va: u64,
    pub len: u64,
    /// The access asked for, or a fast-register's (5 bits).
    pub access: u64,
    /// The entry a SW2HW or host write carries, or a fast-register's new
    /// translation, packed.
    pub entry: [u64; WORDS],
    /// WRITE_MTT / host write: the MTT index and the page's address.
    pub mtt: u64,
    pub addr: u64,
}

/// The entry words a request carries: SW2HW's entry as given; a
/// fast-register's new translation, valid, with the key's tag.
fn request_entry(r: &TptReq) -> [u64; WORDS] {
    let mut e = r.entry;
    if r.op == TptOp::FastReg as u8 {
        e.state = MptState::Valid as u8;
        e.tag = key_tag(r.key);
    }
    e.pack()
}

/// The lanes of a request: what the unit's decoder expects on its ports.
pub fn request_lanes(r: &TptReq) -> TptLanes {
    TptLanes {
        op: r.op as u64 & 0xf,
        key: r.key as u64,
        pd: r.pd as u64 & 0xff_ffff,
        va: r.va,
        len: r.len as u64,
        access: r.access as u64 & 0x1f,
        entry: request_entry(r),
        mtt: r.mtt as u64,
        addr: r.addr,
    }
}
