//! ICM: its size, the auxiliary pages, and the page table (MAP_ICM / UNMAP_ICM).

use super::*;

impl Firmware {
    pub(super) fn set_icm_size(&mut self, c: &Command) -> CmdResult<Option<u64>> {
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
        Ok(Some(icm::aux_pages_for(size)))
    }

    pub(super) fn map_icm_aux(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        if self.state.icm_size.is_none() {
            return refuse(Status::BadSysState, "SET_ICM_SIZE first");
        }
        let chunks = icm::read_chunks(mem, c.in_param, c.in_modifier, false)?;
        self.state.aux.add(chunks);
        Ok(None)
    }

    pub(super) fn unmap_icm_aux(&mut self) -> CmdResult<Option<u64>> {
        if self.state.hca.is_some() || !self.state.icm.is_empty() {
            return refuse(Status::BadSysState, "ICM is still mapped");
        }
        self.state.aux.clear();
        Ok(None)
    }

    pub(super) fn map_icm(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        let Some(size) = self.state.icm_size else {
            return refuse(Status::BadSysState, "SET_ICM_SIZE first");
        };
        let limit = self.caps.max_icm_sz;
        let needed = icm::aux_pages_for(size);
        if self.state.aux.pages() < needed {
            return refuse(
                Status::IcmError,
                format!(
                    "auxiliary ICM has {} pages, {needed} needed (MAP_ICM_AUX)",
                    self.state.aux.pages()
                ),
            );
        }
        let chunks = icm::read_chunks(mem, c.in_param, c.in_modifier, true)?;
        self.state.icm.map(&chunks, limit)?;
        // The blocks keep their contexts here, and an all-zero context is
        // one software owns: the device clears what it is lent (mlx4 does
        // not clear ICM pages it allocates without __GFP_ZERO).
        let zero = [0u8; icm::ICM_PAGE as usize];
        for ch in &chunks {
            for p in 0..ch.pages {
                mem.write(ch.dma + (p << icm::ICM_PAGE_SHIFT), &zero)
                    .map_err(|e| (Status::InternalErr, format!("clearing ICM: {e}")))?;
            }
        }
        Ok(None)
    }

    pub(super) fn unmap_icm(&mut self, c: &Command) -> CmdResult<Option<u64>> {
        self.state.icm.unmap(c.in_param, c.in_modifier as u64)?;
        Ok(None)
    }
}
