//! The ICM commands: its size, the auxiliary pages, and the page table
//! (MAP_ICM / UNMAP_ICM).

use super::{aux_pages_for, read_chunks, CHUNK_LIST, ICM_PAGE, ICM_PAGE_SHIFT};
use crate::cmd::{Command, CommandSpec, ZERO};
use crate::hostmem::HostMemory;
use crate::opcode as op;
use crate::status::{refuse, CmdResult, Status};
use crate::Firmware;

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        opcode: op::SET_ICM_SIZE,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: None,
        what: "returns the auxiliary pages the ICM page table needs: 8 bytes per 256 KiB of ICM",
        run: |f, c, _| f.set_icm_size(c),
    },
    CommandSpec {
        opcode: op::MAP_ICM_AUX,
        op_mods: ZERO,
        boot: false,
        inbox: CHUNK_LIST,
        outbox: None,
        what: "lend the auxiliary ICM",
        run: |f, c, mem| f.map_icm_aux(c, mem),
    },
    CommandSpec {
        opcode: op::UNMAP_ICM_AUX,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: None,
        what: "take the auxiliary ICM back",
        run: |f, _, _| f.unmap_icm_aux(),
    },
    CommandSpec {
        opcode: op::MAP_ICM,
        op_mods: ZERO,
        boot: false,
        inbox: CHUNK_LIST,
        outbox: None,
        what: "enter chunks in the ICM page table, ICM address to host DMA address",
        run: |f, c, mem| f.map_icm(c, mem),
    },
    CommandSpec {
        opcode: op::UNMAP_ICM,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: None,
        what: "remove pages from the ICM page table; unmapped pages of the range are skipped, as mlx4 unmaps whole 256 KiB chunks",
        run: |f, c, _| f.unmap_icm(c),
    },
];

impl Firmware {
    fn set_icm_size(&mut self, c: &Command) -> CmdResult<Option<u64>> {
        if self.state.hca.is_some() || !self.state.aux.is_empty() || !self.state.icm.is_empty() {
            return refuse(
                Status::BadSysState,
                "ICM is in use; the size cannot change now",
            );
        }
        let size = c.in_param;
        if size == 0 || size > self.caps.max_icm_sz {
            return refuse(
                Status::BadParam,
                format!(
                    "ICM size {size:#x} (the device addresses up to {:#x})",
                    self.caps.max_icm_sz
                ),
            );
        }
        self.state.icm_size = Some(size);
        Ok(Some(aux_pages_for(size)))
    }

    fn map_icm_aux(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        if self.state.icm_size.is_none() {
            return refuse(Status::BadSysState, "SET_ICM_SIZE first");
        }
        let chunks = read_chunks(mem, c.in_param, c.in_modifier, false)?;
        self.state.aux.add(chunks);
        Ok(None)
    }

    fn unmap_icm_aux(&mut self) -> CmdResult<Option<u64>> {
        if self.state.hca.is_some() || !self.state.icm.is_empty() {
            return refuse(Status::BadSysState, "ICM is still mapped");
        }
        self.state.aux.clear();
        Ok(None)
    }

    fn map_icm(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let Some(size) = self.state.icm_size else {
            return refuse(Status::BadSysState, "SET_ICM_SIZE first");
        };
        let limit = self.caps.max_icm_sz;
        let needed = aux_pages_for(size);
        if self.state.aux.pages() < needed {
            return refuse(
                Status::IcmError,
                format!(
                    "auxiliary ICM has {} pages, {needed} needed (MAP_ICM_AUX)",
                    self.state.aux.pages()
                ),
            );
        }
        let chunks = read_chunks(mem, c.in_param, c.in_modifier, true)?;
        self.state.icm.map(&chunks, limit)?;
        // The blocks keep their contexts here, and an all-zero context is
        // one software owns: the device clears what it is lent (mlx4 does
        // not clear ICM pages it allocates without __GFP_ZERO).
        let zero = [0u8; ICM_PAGE as usize];
        for ch in &chunks {
            for p in 0..ch.pages {
                mem.write(ch.dma + (p << ICM_PAGE_SHIFT), &zero)
                    .map_err(|e| (Status::InternalErr, format!("clearing ICM: {e}")))?;
            }
        }
        Ok(None)
    }

    fn unmap_icm(&mut self, c: &Command) -> CmdResult<Option<u64>> {
        self.state.icm.unmap(c.in_param, c.in_modifier as u64)?;
        Ok(None)
    }
}
