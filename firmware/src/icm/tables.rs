//! Each block's ICM tables where INIT_HCA placed them: what the blocks'
//! memory ([`super::window::IcmWindow`]) is made of.

use super::window::IcmTable;
use crate::Firmware;

impl Firmware {
    /// Table `name` of INIT_HCA's layout, with entries `entry_bytes` apart
    /// (none before INIT_HCA).
    fn icm_table(&self, name: &str, entry_bytes: u16) -> IcmTable {
        let Some(t) = self.layout().and_then(|l| l.table(name)) else {
            return IcmTable::NONE;
        };
        IcmTable {
            base: t.base,
            entry_bytes: entry_bytes as u64,
            entries: t.bytes / (entry_bytes as u64).max(1),
        }
    }

    /// The MTT, which the TPT and the CQ/EQ engine both read. Its extent is
    /// not in INIT_HCA; it reaches as far as the TPT addresses, and the ICM
    /// page table says what is mapped.
    fn mtt_table(&self) -> IcmTable {
        match self.layout() {
            Some(l) => IcmTable {
                base: l.mtt_base,
                entry_bytes: self.caps.mtt_entry_sz as u64,
                entries: hca_rtl::tpt::NUM_MTTS as u64,
            },
            None => IcmTable::NONE,
        }
    }

    /// The TPT's tables, by its numbers: the dMPT table, and the MTT.
    pub(crate) fn tpt_tables(&self) -> [IcmTable; 2] {
        [
            self.icm_table("dMPT", self.caps.dmpt_entry_sz),
            self.mtt_table(),
        ]
    }

    /// The QPC block's table: the QP contexts, entries `qpc_entry_sz`
    /// apart (the block's words first, then mlx4's context as the firmware
    /// keeps it, `crate::qp::COPY_WORD`).
    pub(crate) fn qpc_tables(&self) -> [IcmTable; 1] {
        [self.icm_table("QPC", self.caps.qpc_entry_sz)]
    }

    /// The CQ/EQ engine's tables, by its numbers: the CQ contexts, and the
    /// MTT through which it finds each CQE's and EQE's page.
    pub(crate) fn cq_tables(&self) -> [IcmTable; 2] {
        [
            self.icm_table("CQC", self.caps.cqc_entry_sz),
            self.mtt_table(),
        ]
    }
}

/// The CQ/EQ engine's memory: `cq_at!(fw)`, as an argument (the tables
/// live to the end of the statement).
macro_rules! cq_at {
    ($fw:expr) => {
        crate::blocks::cq::Placement {
            icm: &$fw.state.icm,
            tables: &$fw.cq_tables(),
        }
    };
}
pub(crate) use cq_at;

#[cfg(test)]
mod tests {
    use crate::caps::device_caps;

    /// The tables are in the order each block numbers them.
    #[test]
    fn tables_are_in_the_blocks_order() {
        use hca_rtl::{cq, tpt};
        assert_eq!((tpt::MPT_TABLE, tpt::MTT_TABLE), (0, 1));
        assert_eq!((cq::CQC_TABLE, cq::MTT_TABLE), (0, 1));
    }

    /// Each block's entry fits the entry size QUERY_DEV_CAP reports.
    #[test]
    fn block_entries_fit_the_advertised_entry_sizes() {
        let c = device_caps();
        let fits = |words: usize, bytes: u16| 8 * words as u64 <= bytes as u64;
        assert!(fits(hca_rtl::tpt::layout::WORDS, c.dmpt_entry_sz));
        assert!(fits(1, c.mtt_entry_sz));
        assert!(fits(hca_rtl::cq::layout::WORDS, c.cqc_entry_sz));
        assert!(fits(hca_rtl::qpc::layout::WORDS, c.qpc_entry_sz));
        // The QP entry also holds mlx4's context after the block's words.
        let copy = crate::qp::COPY_WORD as usize + hca_abi::cmd::qp::MlxQpMailbox::SIZE / 8;
        assert!(fits(copy, c.qpc_entry_sz));
    }
}
