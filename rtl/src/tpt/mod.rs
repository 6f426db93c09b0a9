//! The translation and protection table: memory keys, their regions, the
//! translation of virtual addresses page by page, and every way a key
//! dies. MPT entries and the MTT live in ICM; the block caches MPT entries.
//!
//! See `docs/blocks/tpt.md`.

pub mod lanes;
pub mod layout;
pub mod model;
pub mod unit;

pub use layout::MptEntry;
pub use model::TptModel;
pub use unit::{TptBuilt, TptUnit, LINES};

use serde::{Deserialize, Serialize};

/// MPT entries the table holds: key indices at or above are refused.
/// 2^19, what mlx4_core's fixed profile gives INIT_HCA (and what the
/// firmware's QUERY_DEV_CAP reports).
pub const NUM_MPTS: u32 = 1 << 19;
/// The ICM tables as the TPT numbers them on its ICM port: the MPT table
/// (entries of [`layout::WORDS`] words) and the MTT (one word per entry,
/// mlx4's: the page's bus address, bit 0 the present flag).
pub const MPT_TABLE: u8 = 0;
pub const MTT_TABLE: u8 = 1;
/// MTT entries the table holds.
pub const NUM_MTTS: u32 = 1 << 20;
/// Smallest and largest page sizes, as log2 of bytes.
pub const MIN_LOG_PAGE: u8 = 12;
pub const MAX_LOG_PAGE: u8 = 30;

/// Whether the range `[start, start + len)` reaches past the top of the
/// 64-bit address space, that is whether its last byte would lie above
/// 2^64 - 1 (IBTA: a region or an access is a range of the 64-bit virtual
/// address space; none wraps round to 0). A range of length 0 never does.
/// mlx4's DMA region, start 0 and length 2^64 - 1, ends at 2^64 - 2.
pub fn crosses_top(start: u64, len: u64) -> bool {
    len != 0 && len - 1 > !start
}

pub use hca_abi::dmpt::{access, key_index, key_tag, MptKind, MptState};

/// Requests. Codes 0 to 8 are the block's; 9 and 10 are the host writing
/// ICM directly (how the driver maps and unmaps an FMR): they never reach
/// the block, which sees them only when it next reads the entry from ICM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum TptOp {
    /// Check (key, PD, range, access) and translate, page by page.
    Lookup = 0,
    /// SW2HW_MPT: hand an entry to the HCA.
    Sw2Hw = 1,
    /// HW2SW_MPT: take it back (deregistration).
    Hw2Sw = 2,
    /// QUERY_MPT.
    Query = 3,
    /// WRITE_MTT: one MTT entry (`mtt` index, `addr`).
    WriteMtt = 4,
    /// A local invalidate work request.
    LocalInv = 5,
    /// A Send with Invalidate received (IETH): the responder's checks.
    RemoteInv = 6,
    /// A fast-register work request: a new translation and tag.
    FastReg = 7,
    /// SYNC_TPT: drop every cached MPT entry.
    SyncTpt = 8,
    /// The host writes an MPT entry in ICM.
    HostWriteMpt = 9,
    /// The host writes an MTT entry in ICM.
    HostWriteMtt = 10,
}

impl TptOp {
    pub const ALL: [TptOp; 11] = [
        TptOp::Lookup,
        TptOp::Sw2Hw,
        TptOp::Hw2Sw,
        TptOp::Query,
        TptOp::WriteMtt,
        TptOp::LocalInv,
        TptOp::RemoteInv,
        TptOp::FastReg,
        TptOp::SyncTpt,
        TptOp::HostWriteMpt,
        TptOp::HostWriteMtt,
    ];

    pub fn from_code(c: u8) -> Option<TptOp> {
        Self::ALL.into_iter().find(|o| *o as u8 == c)
    }

    pub const fn name(self) -> &'static str {
        match self {
            TptOp::Lookup => "lookup",
            TptOp::Sw2Hw => "sw2hw_mpt",
            TptOp::Hw2Sw => "hw2sw_mpt",
            TptOp::Query => "query_mpt",
            TptOp::WriteMtt => "write_mtt",
            TptOp::LocalInv => "local_inv",
            TptOp::RemoteInv => "remote_inv",
            TptOp::FastReg => "fast_reg",
            TptOp::SyncTpt => "sync_tpt",
            TptOp::HostWriteMpt => "host_write_mpt",
            TptOp::HostWriteMtt => "host_write_mtt",
        }
    }

    /// Whether the host does it in ICM rather than the block.
    pub fn is_host_write(self) -> bool {
        matches!(self, TptOp::HostWriteMpt | TptOp::HostWriteMtt)
    }
}

/// Statuses. Commands (SW2HW, HW2SW, QUERY, WRITE_MTT, SYNC_TPT) answer
/// with mlx4's command status codes; the data path (lookups, invalidations,
/// fast-register) with the precise check that failed, each of which maps
/// to a completion status or a NAK (`docs/blocks/tpt.md`).
pub mod status {
    pub const OK: u8 = 0x00;
    pub const BAD_OP: u8 = 0x02;
    pub const BAD_PARAM: u8 = 0x03;
    pub const BAD_RES_STATE: u8 = 0x09;
    pub const BAD_INDEX: u8 = 0x0a;
    /// The key's index is past the table.
    pub const KEY_INDEX: u8 = 0x81;
    /// The key's tag is not the entry's.
    pub const TAG_MISMATCH: u8 = 0x82;
    /// The entry is free or invalidated.
    pub const NOT_VALID: u8 = 0x83;
    /// The entry belongs to another protection domain.
    pub const PD_MISMATCH: u8 = 0x84;
    /// The range is not inside the region.
    pub const OUT_OF_BOUNDS: u8 = 0x85;
    /// The region does not grant the access asked for.
    pub const ACCESS_DENIED: u8 = 0x86;
    /// The region cannot be invalidated this way (an ordinary MR for a
    /// local invalidate or fast-register, remote invalidation not enabled).
    pub const NOT_INVALIDATABLE: u8 = 0x87;
    /// Fast-register on a region that is not invalidated.
    pub const NOT_FREE: u8 = 0x88;
    /// Fast-register with an impossible page size.
    pub const BAD_PAGE_SIZE: u8 = 0x89;
    /// Fast-register of a range that reaches past the top of the address
    /// space.
    pub const BAD_RANGE: u8 = 0x8a;

    pub fn name(s: u8) -> &'static str {
        match s {
            OK => "ok",
            BAD_OP => "bad_op",
            BAD_PARAM => "bad_param",
            BAD_RES_STATE => "bad_res_state",
            BAD_INDEX => "bad_index",
            KEY_INDEX => "key_index",
            TAG_MISMATCH => "tag_mismatch",
            NOT_VALID => "not_valid",
            PD_MISMATCH => "pd_mismatch",
            OUT_OF_BOUNDS => "out_of_bounds",
            ACCESS_DENIED => "access_denied",
            NOT_INVALIDATABLE => "not_invalidatable",
            NOT_FREE => "not_free",
            BAD_PAGE_SIZE => "bad_page_size",
            BAD_RANGE => "bad_range",
            _ => "unknown",
        }
    }
}

/// One request. Which fields matter depends on `op`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TptReq {
    pub op: u8,
    /// Lookup, invalidations, fast-register: the key. SW2HW, HW2SW, QUERY,
    /// host MPT write: the entry index.
    pub key: u32,
    /// The PD of the QP asking.
    pub pd: u32,
    pub va: u64,
    pub len: u32,
    /// Lookup: the [`access`] bits needed.
    pub access: u8,
    /// SW2HW, fast-register, host MPT write: the new entry (fast-register
    /// uses its va, len, access and log_page; the tag comes from the key).
    pub entry: MptEntry,
    /// WRITE_MTT, host MTT write: the MTT index and the page address.
    pub mtt: u32,
    pub addr: u64,
}

impl TptReq {
    fn new(op: TptOp) -> Self {
        TptReq {
            op: op as u8,
            ..Default::default()
        }
    }
    pub fn lookup(key: u32, pd: u32, va: u64, len: u32, access: u8) -> Self {
        TptReq {
            key,
            pd,
            va,
            len,
            access,
            ..Self::new(TptOp::Lookup)
        }
    }
    pub fn sw2hw(index: u32, entry: MptEntry) -> Self {
        TptReq {
            key: index,
            entry,
            ..Self::new(TptOp::Sw2Hw)
        }
    }
    pub fn hw2sw(index: u32) -> Self {
        TptReq {
            key: index,
            ..Self::new(TptOp::Hw2Sw)
        }
    }
    pub fn query(index: u32) -> Self {
        TptReq {
            key: index,
            ..Self::new(TptOp::Query)
        }
    }
    pub fn write_mtt(mtt: u32, addr: u64) -> Self {
        TptReq {
            mtt,
            addr,
            ..Self::new(TptOp::WriteMtt)
        }
    }
    pub fn local_inv(key: u32, pd: u32) -> Self {
        TptReq {
            key,
            pd,
            ..Self::new(TptOp::LocalInv)
        }
    }
    pub fn remote_inv(key: u32, pd: u32) -> Self {
        TptReq {
            key,
            pd,
            ..Self::new(TptOp::RemoteInv)
        }
    }
    pub fn fast_reg(key: u32, pd: u32, va: u64, len: u64, access: u8, log_page: u8) -> Self {
        let entry = MptEntry {
            va,
            len,
            access,
            log_page,
            ..MptEntry::default()
        };
        TptReq {
            key,
            pd,
            entry,
            ..Self::new(TptOp::FastReg)
        }
    }
    pub fn sync_tpt() -> Self {
        Self::new(TptOp::SyncTpt)
    }
    pub fn host_write_mpt(index: u32, entry: MptEntry) -> Self {
        TptReq {
            key: index,
            entry,
            ..Self::new(TptOp::HostWriteMpt)
        }
    }
    pub fn host_write_mtt(mtt: u32, addr: u64) -> Self {
        TptReq {
            mtt,
            addr,
            ..Self::new(TptOp::HostWriteMtt)
        }
    }
}

/// One response: the status, the DMA address of each page a lookup
/// touches (the first with the offset into it), and the entry as the
/// request left it (HW2SW: as it was; zero when no entry was read).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TptResp {
    pub status: u8,
    pub pages: Vec<u64>,
    pub entry: MptEntry,
}
