//! The firmware and the device's capabilities (mlx4's fw.c): QUERY_FW,
//! the firmware area (MAP_FA, RUN_FW, UNMAP_FA), QUERY_DEV_CAP and
//! QUERY_ADAPTER.

use crate::device::Device;
use crate::error::{Error, Result};
use hca_abi::cmd::adapter::QueryAdapterOut;
use hca_abi::cmd::caps::QueryDevCapOut;
use hca_abi::cmd::fw::QueryFwOut;
use hca_abi::opcode as op;
use hca_abi::pci::PciFunction;

/// Command interface revisions mlx4 works with.
const CMD_IF_REVS: std::ops::RangeInclusive<u16> = 2..=3;
const PAGE: u64 = 4096;

/// What QUERY_FW told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FwInfo {
    /// major, minor, subminor.
    pub version: (u16, u16, u16),
    pub cmd_if_rev: u16,
    /// Pages of the firmware area.
    pub fw_pages: u16,
    pub catas_offset: u64,
    pub catas_words: u32,
    pub clock_offset: u64,
}

impl FwInfo {
    pub fn version_string(&self) -> String {
        let (a, b, c) = self.version;
        format!("{a}.{b}.{c:03}")
    }
}

impl<P: PciFunction> Device<P> {
    /// QUERY_FW: the version, the firmware area's size, where the
    /// catastrophic-error buffer and the internal clock are.
    pub(crate) fn query_fw(&mut self) -> Result<FwInfo> {
        let q = QueryFwOut::decode(&self.cmd_box(op::QUERY_FW, 0, 0, None)?);
        if !CMD_IF_REVS.contains(&q.cmd_if_rev) {
            return Err(Error::Device(format!(
                "command interface revision {} (the driver takes {:?})",
                q.cmd_if_rev, CMD_IF_REVS
            )));
        }
        let info = FwInfo {
            version: (q.fw_major, q.fw_minor, q.fw_subminor),
            cmd_if_rev: q.cmd_if_rev,
            fw_pages: q.fw_pages,
            catas_offset: q.catas_offset,
            catas_words: q.catas_size,
            clock_offset: q.clock_offset,
        };
        if q.clock_offset != 0 && q.clock_bar == 0 {
            self.cmd.clock = Some(q.clock_offset);
        }
        Ok(info)
    }

    /// MAP_FA the pages the firmware asked for (one power-of-two chunk),
    /// then RUN_FW.
    pub(crate) fn start_fw(&mut self, pages: u16) -> Result<()> {
        let n = (pages as u64).next_power_of_two().max(1);
        let fa = self.bus.mem.alloc(n * PAGE, n * PAGE)?;
        self.fa.push(fa);
        self.map_chunks(op::MAP_FA, &[(0, fa.addr, n.trailing_zeros())])?;
        self.cmd_none(op::RUN_FW, 0, 0, 0)?;
        Ok(())
    }

    /// UNMAP_FA: the firmware stops; its area comes back.
    pub(crate) fn stop_fw(&mut self) -> Result<()> {
        let r = self.cmd_none(op::UNMAP_FA, 0, 0, 0);
        for b in std::mem::take(&mut self.fa) {
            self.bus.mem.free(b);
        }
        r.map(|_| ())
    }

    pub(crate) fn query_dev_cap(&mut self) -> Result<QueryDevCapOut> {
        let c = QueryDevCapOut::decode(&self.cmd_box(op::QUERY_DEV_CAP, 0, 0, None)?);
        if c.log_page_sz > 12 {
            return Err(Error::Device(format!(
                "minimum page size 2^{} (the driver's pages are 4 KiB)",
                c.log_page_sz
            )));
        }
        if c.num_ports == 0 || c.num_ports > 2 {
            return Err(Error::Device(format!(
                "{} ports (mlx4 drives 1 or 2)",
                c.num_ports
            )));
        }
        // Every log2 count the driver shifts by must make sense: a device
        // answering nonsense is refused, never a shift overflow.
        let logs = [
            ("log_rsvd_qps", c.log_rsvd_qps, 24),
            ("log_max_qps", c.log_max_qps, 24),
            ("log_max_qp_sz", c.log_max_qp_sz, 24),
            ("log_rsvd_srqs", c.log_rsvd_srqs, 24),
            ("log_max_srqs", c.log_max_srqs, 24),
            ("log_max_srq_sz", c.log_max_srq_sz, 24),
            ("log_rsvd_cqs", c.log_rsvd_cqs, 24),
            ("log_max_cqs", c.log_max_cqs, 24),
            ("log_max_cq_sz", c.log_max_cq_sz, 24),
            ("log_max_mpts", c.log_max_mpts, 24),
            ("log_rsvd_mrws", c.log_rsvd_mrws, 24),
            ("log_rsvd_mtts", c.log_rsvd_mtts, 24),
            ("log_rsvd_eqs", c.log_rsvd_eqs, 10),
            ("log_max_eqs", c.log_max_eqs, 10),
            ("log_max_pds", c.log_max_pds, 24),
            ("log_max_mcgs", c.log_max_mcgs, 24),
            ("log_max_qp_mcg", c.log_max_qp_mcg, 16),
            ("uar_sz", c.uar_sz, 11),
            ("log_max_msg", c.log_max_msg, 31),
            ("log_max_res_qp", c.log_max_res_qp, 8),
        ];
        if let Some((name, v, max)) = logs.iter().find(|(_, v, max)| v > max) {
            return Err(Error::Device(format!(
                "QUERY_DEV_CAP's {name} is {v} (at most {max} makes sense)"
            )));
        }
        if c.log_rsvd_eqs >= c.log_max_eqs && c.log_max_eqs > 0 || c.log_max_eqs == 0 {
            return Err(Error::Device(format!(
                "{} EQs with {} reserved",
                1u32 << c.log_max_eqs,
                1u32 << c.log_rsvd_eqs
            )));
        }
        let sizes = [
            c.qpc_entry_sz,
            c.aux_entry_sz,
            c.altc_entry_sz,
            c.rdmarc_entry_sz,
            c.srq_entry_sz,
            c.cqc_entry_sz,
            c.eqc_entry_sz,
            c.dmpt_entry_sz,
            c.cmpt_entry_sz,
            c.mtt_entry_sz,
        ];
        if sizes
            .iter()
            .any(|s| *s == 0 || !s.is_power_of_two() || *s > 4096)
        {
            return Err(Error::Device(format!(
                "context entry sizes {sizes:?}: powers of two up to 4096"
            )));
        }
        Ok(c)
    }

    /// The board id QUERY_ADAPTER reports.
    pub fn query_adapter(&mut self) -> Result<String> {
        let a = QueryAdapterOut::decode(&self.cmd_box(op::QUERY_ADAPTER, 0, 0, None)?);
        let bytes: Vec<u8> = [a.board_id0, a.board_id1, a.board_id2, a.board_id3]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .take_while(|b| *b != 0)
            .collect();
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A chunk-list command (MAP_FA, MAP_ICM_AUX, MAP_ICM): `(virt, bus
    /// address, log2 pages)` per entry, 16 bytes each.
    pub(crate) fn map_chunks(&mut self, opcode: u16, entries: &[(u64, u64, u32)]) -> Result<()> {
        for part in entries.chunks(hca_abi::mailbox::MAILBOX_BYTES / 16) {
            let mut b = Vec::with_capacity(16 * part.len());
            for (v, pa, lg) in part {
                b.extend_from_slice(&v.to_be_bytes());
                b.extend_from_slice(&(pa | *lg as u64).to_be_bytes());
            }
            self.cmd_in(opcode, 0, part.len() as u32, &b)?;
        }
        Ok(())
    }
}
