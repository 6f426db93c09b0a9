//! The atomic unit: compare-and-swap, fetch-and-add and their masked
//! ConnectX variants on 8-byte aligned 64-bit words.
//!
//! Every operation returns the word as it was before the operation, as IB
//! atomics do and RDS expects. See `docs/blocks/atomic.md`.

pub mod alu;
pub mod model;
pub mod unit;

pub use model::AtomicModel;
pub use unit::AtomicUnit;

use serde::{Deserialize, Serialize};

/// Word-address bits of the memory behind the unit: 512 words, 4 KiB.
pub const WORD_ADDR_BITS: usize = 9;
/// Bytes of memory behind the unit, from address 0.
pub const MEM_BYTES: u64 = 8 << WORD_ADDR_BITS;

/// The operation on the unit's `req_op` port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum AtomicOp {
    /// Return the word; change nothing.
    Read = 0,
    /// Store `swap_add`; return the old word.
    Write = 1,
    /// If the word equals `compare`, store `swap_add`.
    Cas = 2,
    /// Add `swap_add` with full carry propagation.
    Fadd = 3,
    /// Compare only the bits in `compare_mask`; on a match replace only the
    /// bits in `swap_add_mask` with those of `swap_add`.
    MaskedCas = 4,
    /// Add `swap_add`, dropping the carry out of every bit set in `compare`
    /// (the no-carry mask: RDS's `nocarry_mask`, which mlx4 carries in the
    /// compare field of the atomic segment).
    MaskedFadd = 5,
}

impl AtomicOp {
    pub const ALL: [AtomicOp; 6] = [
        AtomicOp::Read,
        AtomicOp::Write,
        AtomicOp::Cas,
        AtomicOp::Fadd,
        AtomicOp::MaskedCas,
        AtomicOp::MaskedFadd,
    ];

    /// The opcode on the `req_op` port (opcodes 6 and 7 are undefined and
    /// answered with [`AtomicStatus::BadOpcode`]).
    pub fn code(self) -> u8 {
        self as u8
    }

    pub const fn name(self) -> &'static str {
        match self {
            AtomicOp::Read => "read",
            AtomicOp::Write => "write",
            AtomicOp::Cas => "cas",
            AtomicOp::Fadd => "fadd",
            AtomicOp::MaskedCas => "masked_cas",
            AtomicOp::MaskedFadd => "masked_fadd",
        }
    }
}

/// One request to the unit. The operands are the fields of mlx4's masked
/// atomic WQE segment, so the firmware hands a segment over unchanged;
/// which of them matter depends on `op` (the others are ignored by both the
/// model and the RTL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtomicReq {
    /// Raw opcode as driven on `req_op` (see [`AtomicOp`]); 3 bits.
    pub op: u8,
    /// Byte address; must be 8-byte aligned and inside [`MEM_BYTES`].
    pub addr: u64,
    pub swap_add: u64,
    pub compare: u64,
    pub swap_add_mask: u64,
    pub compare_mask: u64,
}

impl AtomicReq {
    fn new(op: AtomicOp, addr: u64) -> Self {
        AtomicReq {
            op: op.code(),
            addr,
            swap_add: 0,
            compare: 0,
            swap_add_mask: 0,
            compare_mask: 0,
        }
    }
    pub fn read(addr: u64) -> Self {
        Self::new(AtomicOp::Read, addr)
    }
    pub fn write(addr: u64, value: u64) -> Self {
        AtomicReq {
            swap_add: value,
            ..Self::new(AtomicOp::Write, addr)
        }
    }
    pub fn cas(addr: u64, compare: u64, swap: u64) -> Self {
        AtomicReq {
            swap_add: swap,
            compare,
            ..Self::new(AtomicOp::Cas, addr)
        }
    }
    pub fn fadd(addr: u64, add: u64) -> Self {
        AtomicReq {
            swap_add: add,
            ..Self::new(AtomicOp::Fadd, addr)
        }
    }
    pub fn masked_cas(
        addr: u64,
        compare: u64,
        swap: u64,
        compare_mask: u64,
        swap_mask: u64,
    ) -> Self {
        AtomicReq {
            swap_add: swap,
            compare,
            swap_add_mask: swap_mask,
            compare_mask,
            ..Self::new(AtomicOp::MaskedCas, addr)
        }
    }
    pub fn masked_fadd(addr: u64, add: u64, nocarry_mask: u64) -> Self {
        AtomicReq {
            swap_add: add,
            compare: nocarry_mask,
            ..Self::new(AtomicOp::MaskedFadd, addr)
        }
    }

    /// The operation, or `None` for an undefined opcode.
    pub fn atomic_op(&self) -> Option<AtomicOp> {
        AtomicOp::ALL.into_iter().find(|op| op.code() == self.op)
    }
}

/// How the unit answered; on the `resp_status` port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum AtomicStatus {
    Ok = 0,
    /// The address is not 8-byte aligned; memory untouched.
    Misaligned = 1,
    /// The address is past the memory behind the unit; memory untouched.
    OutOfRange = 2,
    /// Opcode 6 or 7; memory untouched.
    BadOpcode = 3,
}

impl AtomicStatus {
    pub fn from_code(code: u8) -> Option<Self> {
        [
            Self::Ok,
            Self::Misaligned,
            Self::OutOfRange,
            Self::BadOpcode,
        ]
        .into_iter()
        .find(|s| *s as u8 == code)
    }

    pub fn reason(self) -> &'static str {
        match self {
            AtomicStatus::Ok => "ok",
            AtomicStatus::Misaligned => "misaligned address: atomics need 8-byte alignment",
            AtomicStatus::OutOfRange => "address outside the unit's memory",
            AtomicStatus::BadOpcode => "undefined opcode",
        }
    }
}

/// One response: the status and, when it is `Ok`, the word before the
/// operation (0 otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtomicResp {
    pub status: AtomicStatus,
    pub original: u64,
}
