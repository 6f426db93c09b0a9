//! mlx4's MPT entry (the mailbox, `hca_abi::cmd::mr`) and its
//! translation into the TPT block's MPT entry, each way.

pub use hca_abi::cmd::mr::{MlxMpt, OWNER_FREE, OWNER_SW};

use crate::status::{refuse, CmdResult, Status};
use hca_rtl::tpt::layout::MptEntry;
use hca_rtl::tpt::{MptKind, MptState, MAX_LOG_PAGE, MIN_LOG_PAGE};

/// mlx4's MPT entry and the TPT's, each way (a trait: the mailbox is the
/// ABI crate's).
pub trait TptEntry: Sized {
    /// The TPT's entry for this mailbox, handed over at MPT `index`.
    fn to_entry(&self, index: u32) -> CmdResult<MptEntry>;
    /// The mailbox QUERY_MPT and HW2SW_MPT answer with for a TPT entry.
    fn from_entry(index: u32, e: &MptEntry) -> Self;
}

impl TptEntry for MlxMpt {
    fn to_entry(&self, index: u32) -> CmdResult<MptEntry> {
        if self.key & 0xff_ffff != index {
            return refuse(
                Status::BadParam,
                format!(
                    "key {:#x} names MPT {:#x}, not {index:#x}",
                    self.key,
                    self.key & 0xff_ffff
                ),
            );
        }
        if !self.region || self.bind_enable {
            return refuse(Status::BadParam, "memory windows: not supported");
        }
        let state = match self.owner {
            OWNER_SW => MptState::Valid,
            OWNER_FREE if self.fast_reg => MptState::Invalid,
            o => return refuse(Status::BadParam, format!("ownership {o:#x}")),
        };
        let kind = match (self.physical, self.fast_reg) {
            (true, false) => MptKind::Physical,
            (false, true) => MptKind::FastReg,
            (false, false) => MptKind::Mr,
            (true, true) => return refuse(Status::BadParam, "a physical fast-register region"),
        };
        // A free fast-register region has no page size until its first
        // work request gives it one.
        let log_page = if state == MptState::Invalid && self.entity_size == 0 {
            MIN_LOG_PAGE
        } else {
            self.entity_size as u8
        };
        if self.entity_size > MAX_LOG_PAGE as u32
            || !(MIN_LOG_PAGE..=MAX_LOG_PAGE).contains(&log_page)
        {
            return refuse(
                Status::BadParam,
                format!("page size 2^{}", self.entity_size),
            );
        }
        if !self.mtt_addr.is_multiple_of(8) {
            return refuse(
                Status::BadParam,
                format!("MTT address {:#x}", self.mtt_addr),
            );
        }
        Ok(MptEntry {
            state: state as u8,
            tag: (self.key >> 24) as u8,
            access: self.access,
            remote_inv: self.en_inv != 0,
            kind: kind as u8,
            log_page,
            pd: self.pd,
            va: self.start,
            len: self.length,
            mtt_base: (self.mtt_addr / 8) as u32,
        })
    }

    fn from_entry(index: u32, e: &MptEntry) -> MlxMpt {
        let free = e.state == MptState::Invalid as u8;
        MlxMpt {
            owner: if free { OWNER_FREE } else { OWNER_SW },
            mio: true,
            access: e.access,
            physical: e.kind == MptKind::Physical as u8,
            region: true,
            key: (e.tag as u32) << 24 | index,
            fast_reg: e.kind == MptKind::FastReg as u8,
            rae: e.kind == MptKind::FastReg as u8,
            en_inv: if e.remote_inv { 3 } else { 0 },
            pd: e.pd,
            start: e.va,
            length: e.len,
            mtt_addr: e.mtt_base as u64 * 8,
            entity_size: e.log_page as u32,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlx4s_dma_region_becomes_a_physical_entry_and_back() {
        // What mlx4_mr_enable sends for ib_get_dma_mr: MPT 1, tag 0x00,
        // start 0, length 2^64 - 1, physical, page shift 12.
        let m = MlxMpt {
            owner: OWNER_SW,
            mio: true,
            region: true,
            physical: true,
            access: 0x03,
            key: 1,
            en_inv: 3,
            pd: 0x1,
            start: 0,
            length: u64::MAX,
            entity_size: 12,
            ..Default::default()
        };
        let b = m.encode();
        assert_eq!(&b[0..4], &[0xf0, 0x02, 0x0f, 0x00]);
        assert_eq!(&b[0x0c..0x10], &[0x03, 0, 0, 1]);
        let e = MlxMpt::decode(&b).to_entry(1).unwrap();
        assert_eq!(e.kind, MptKind::Physical as u8);
        assert_eq!(
            (e.va, e.len, e.pd, e.tag, e.log_page),
            (0, u64::MAX, 1, 0, 12)
        );
        assert!(e.remote_inv);
        assert_eq!(MlxMpt::from_entry(1, &e).to_entry(1).unwrap(), e);
        assert_eq!(
            m.to_entry(2).unwrap_err().0,
            Status::BadParam,
            "key names another MPT"
        );
    }
}
