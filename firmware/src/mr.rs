//! Memory regions (mlx4's mr.c): SW2HW_MPT, HW2SW_MPT, QUERY_MPT and
//! SYNC_TPT on the TPT block, and the translation of mlx4's MPT entry (the
//! mailbox, `hca_abi::cmd::mr`) into the TPT's, each way.

pub use hca_abi::cmd::mr::{MlxMpt, OWNER_FREE, OWNER_SW};

use crate::cmd::{mailbox, Command, CommandSpec, OpMods, ZERO};
use crate::hostmem::HostMemory;
use crate::icm::window::IcmWindow;
use crate::opcode as op;
use crate::status::{refuse, CmdResult, Status};
use crate::Firmware;
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

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        opcode: op::SW2HW_MPT,
        op_mods: ZERO,
        boot: false,
        inbox: mailbox!(MlxMpt),
        outbox: None,
        what: "mlx4's MPT entry (below) becomes the TPT block's: owner 0xf valid, 0x3 a free fast-register region; physical (mlx4's DMA region), fast-register or ordinary; tag from the key's top byte; access, PD, invalidation, start, length, page size, MTT offset. Memory windows are refused (not claimed)",
        run: |f, c, mem| f.sw2hw_mpt(c, mem),
    },
    CommandSpec {
        opcode: op::HW2SW_MPT,
        op_mods: OpMods::OneOf(&[0, 1]),
        boot: false,
        inbox: None,
        outbox: mailbox!(MlxMpt),
        what: "the entry back from the TPT (op modifier 0 with a mailbox, 1 without)",
        run: |f, c, mem| f.hw2sw_mpt(c, mem),
    },
    CommandSpec {
        opcode: op::QUERY_MPT,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: mailbox!(MlxMpt),
        what: "the entry from the TPT",
        run: |f, c, mem| f.query_mpt(c, mem),
    },
    CommandSpec {
        opcode: op::SYNC_TPT,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: None,
        what: "the TPT's MPT cache emptied: entries the host wrote into ICM itself (an FMR map or unmap) are read afresh from there",
        run: |f, _, mem| f.sync_tpt(mem),
    },
    CommandSpec {
        opcode: op::WRITE_MTT,
        op_mods: ZERO,
        boot: false,
        // The first MTT index (8 bytes), 8 reserved, then in_modifier
        // entries of 8 bytes each.
        inbox: Some(crate::cmd::Mailbox {
            name: "MTT entries",
            bytes: WRITE_MTT_BYTES,
        }),
        outbox: None,
        what: "in_modifier MTT entries (1 to 510: a mailbox) written through the TPT, from the index the mailbox names; mlx4 writes the MTT itself unless it is a virtual function, so this is the path of a driver that does not map the MTT",
        run: |f, c, mem| f.write_mtt(c, mem),
    },
];

/// WRITE_MTT's mailbox: a whole one.
const WRITE_MTT_BYTES: usize = crate::mailbox::MAILBOX_BYTES;
/// Entries one WRITE_MTT carries at most (the mailbox less its 16-byte
/// head).
pub const WRITE_MTT_MAX: u32 = (WRITE_MTT_BYTES as u32 - 16) / 8;

impl Firmware {
    /// An MPT index INIT_HCA's table has room for (and the TPT holds).
    fn mpt_index(&self, n: u32) -> CmdResult<u32> {
        self.require_hca()?;
        let (p, _) = self.state.hca.as_ref().unwrap();
        let limit = (1u64 << p.log_mpt_sz).min(hca_rtl::tpt::NUM_MPTS as u64);
        if n as u64 >= limit {
            return refuse(
                Status::BadIndex,
                format!("MPT {n:#x} (the table holds {limit:#x})"),
            );
        }
        Ok(n)
    }

    /// SW2HW_MPT: the entry in the inbox (mlx4's format) becomes the TPT's.
    fn sw2hw_mpt(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let index = self.mpt_index(c.in_modifier)?;
        let m = MlxMpt::decode(&self.inbox(mem, c, MlxMpt::SIZE)?);
        let mut w = IcmWindow::new(&self.state.icm, &self.tpt_tables(), mem);
        self.tpt_block.sw2hw_mpt(index, &m, &mut w)?;
        Ok(None)
    }

    /// HW2SW_MPT: the entry goes back to software; with op modifier 0 it
    /// comes back in the outbox too.
    fn hw2sw_mpt(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let index = self.mpt_index(c.in_modifier)?;
        let tables = self.tpt_tables();
        if c.op_modifier == 0 {
            // Check the outbox before the entry changes hands.
            let m = self
                .tpt_block
                .query_mpt(index, &mut IcmWindow::new(&self.state.icm, &tables, mem))?;
            self.out(mem, c, &m.encode())?;
        }
        let mut w = IcmWindow::new(&self.state.icm, &tables, mem);
        self.tpt_block.hw2sw_mpt(index, &mut w)?;
        Ok(None)
    }

    /// QUERY_MPT.
    fn query_mpt(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let index = self.mpt_index(c.in_modifier)?;
        let mut w = IcmWindow::new(&self.state.icm, &self.tpt_tables(), mem);
        let m = self.tpt_block.query_mpt(index, &mut w)?;
        self.out(mem, c, &m.encode())
    }

    /// SYNC_TPT: the TPT forgets its cached entries.
    fn sync_tpt(&mut self, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let mut w = IcmWindow::new(&self.state.icm, &self.tpt_tables(), mem);
        let r = self
            .tpt_block
            .request(hca_rtl::tpt::TptReq::sync_tpt(), &mut w)?;
        Status::check_block(
            r.status,
            "TPT",
            hca_rtl::tpt::status::name(r.status),
            "SYNC_TPT",
        )?;
        Ok(None)
    }

    /// WRITE_MTT: in_modifier entries from the mailbox's first index, each
    /// through the TPT (which checks the index).
    fn write_mtt(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let n = c.in_modifier;
        if n == 0 || n > WRITE_MTT_MAX {
            return refuse(
                Status::BadParam,
                format!("{n} MTT entries (1 to {WRITE_MTT_MAX} a command)"),
            );
        }
        let buf = self.inbox(mem, c, 16 + 8 * n as usize)?;
        let word =
            |k: usize| u64::from_be_bytes(buf[8 * k..8 * k + 8].try_into().expect("8 bytes"));
        let first = word(0);
        let last = first
            .checked_add(n as u64 - 1)
            .filter(|l| *l < hca_rtl::tpt::NUM_MTTS as u64);
        if last.is_none() {
            return refuse(
                Status::BadIndex,
                format!(
                    "MTT entries {first:#x}..+{n} (the TPT reaches {:#x})",
                    hca_rtl::tpt::NUM_MTTS
                ),
            );
        }
        let mut w = IcmWindow::new(&self.state.icm, &self.tpt_tables(), mem);
        for k in 0..n as usize {
            let r = self.tpt_block.request(
                hca_rtl::tpt::TptReq::write_mtt(first as u32 + k as u32, word(2 + k)),
                &mut w,
            )?;
            Status::check_block(
                r.status,
                "TPT",
                hca_rtl::tpt::status::name(r.status),
                "WRITE_MTT",
            )?;
        }
        Ok(None)
    }

    /// The TPT's entry at `index`, if the hardware owns it (tests, tools).
    pub fn mpt(
        &mut self,
        index: u32,
        mem: &mut dyn HostMemory,
    ) -> Option<hca_rtl::tpt::layout::MptEntry> {
        let mut w = IcmWindow::new(&self.state.icm, &self.tpt_tables(), mem);
        self.tpt_block.entry(index, &mut w)
    }

    /// A request to the TPT on its memory in ICM, as the transport engine
    /// will make (a lookup, SYNC_TPT): for tests and tools.
    pub fn tpt_request(
        &mut self,
        req: hca_rtl::tpt::TptReq,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<hca_rtl::tpt::TptResp> {
        let mut w = IcmWindow::new(&self.state.icm, &self.tpt_tables(), mem);
        self.tpt_block.request(req, &mut w)
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
