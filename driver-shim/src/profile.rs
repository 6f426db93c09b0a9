//! The ICM profile (mlx4's profile.c): how many of each object the driver
//! wants, bounded by the device's capabilities, and where each context
//! table goes in ICM: sorted by size, largest first, each aligned to its
//! own size, so the layout packs with no holes. INIT_HCA carries it.

use crate::error::{Error, Result};
use hca_abi::cmd::caps::QueryDevCapOut;
use hca_abi::cmd::init_hca::{InitHca, NUM_CMPTS};

/// What the driver asks for, as log2 counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    pub log_num_qps: u8,
    pub log_rdmarc_per_qp: u8,
    pub log_num_srqs: u8,
    pub log_num_cqs: u8,
    pub log_num_mcgs: u8,
    pub log_num_mpts: u8,
    pub log_num_mtts: u8,
    /// Completion vectors: one EQ on its own MSI-X vector each, beside
    /// the async EQ on vector 0.
    pub comp_vectors: u8,
}

impl Default for Profile {
    /// A small HCA: a simulated one has no use for mlx4's 128 Ki QPs, and
    /// the tables cost host memory as they are mapped.
    fn default() -> Profile {
        Profile {
            log_num_qps: 10,
            log_rdmarc_per_qp: 2,
            log_num_srqs: 8,
            log_num_cqs: 8,
            log_num_mcgs: 8,
            log_num_mpts: 12,
            log_num_mtts: 14,
            comp_vectors: 2,
        }
    }
}

/// One context table of the layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableSpec {
    pub name: &'static str,
    pub base: u64,
    pub entry_bytes: u64,
    pub entries: u64,
}

impl TableSpec {
    pub fn bytes(&self) -> u64 {
        (self.entry_bytes * self.entries).max(4096)
    }
}

/// The layout: INIT_HCA's mailbox, the ICM size SET_ICM_SIZE gets, and
/// every table.
#[derive(Clone, Debug)]
pub struct Layout {
    pub init: InitHca,
    pub icm_size: u64,
    pub tables: Vec<TableSpec>,
}

impl Layout {
    pub fn table(&self, name: &str) -> TableSpec {
        *self
            .tables
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no ICM table {name}"))
    }
}

fn bounded(what: &str, want: u8, max: u8) -> Result<u8> {
    if want > max {
        return Err(Error::InvalidArgument(format!(
            "profile asks for 2^{want} {what}, the device has 2^{max}"
        )));
    }
    Ok(want)
}

/// Bytes of one multicast group entry for `log_qps` QPs per group: a
/// 32-byte head and 4 bytes per QP.
pub fn mgm_entry_log(log_qps: u8) -> u8 {
    let bytes = 32 + 4 * (1u64 << log_qps);
    bytes.next_power_of_two().trailing_zeros() as u8
}

/// The layout of `p` on a device with capabilities `c`.
pub fn layout(p: &Profile, c: &QueryDevCapOut) -> Result<Layout> {
    for (what, v) in [
        ("QPs", p.log_num_qps),
        ("SRQs", p.log_num_srqs),
        ("CQs", p.log_num_cqs),
        ("multicast groups", p.log_num_mcgs),
        ("MPTs", p.log_num_mpts),
        ("MTT entries", p.log_num_mtts),
    ] {
        if !(1..=24).contains(&v) {
            return Err(Error::InvalidArgument(format!(
                "profile: 2^{v} {what} (2^1 to 2^24)"
            )));
        }
    }
    let qps = 1u64 << bounded("QPs", p.log_num_qps, c.log_max_qps)?;
    let rdmarc = bounded("responder resources", p.log_rdmarc_per_qp, c.log_max_res_qp)?;
    let mgm_log = mgm_entry_log(c.log_max_qp_mcg);
    let mut t = vec![
        ("QPC", c.qpc_entry_sz as u64, qps),
        ("AUXC", c.aux_entry_sz as u64, qps),
        ("ALTC", c.altc_entry_sz as u64, qps),
        ("RDMARC", c.rdmarc_entry_sz as u64, qps << rdmarc),
        (
            "SRQC",
            c.srq_entry_sz as u64,
            1 << bounded("SRQs", p.log_num_srqs, c.log_max_srqs)?,
        ),
        (
            "CQC",
            c.cqc_entry_sz as u64,
            1 << bounded("CQs", p.log_num_cqs, c.log_max_cqs)?,
        ),
        ("EQC", c.eqc_entry_sz as u64, 1 << c.log_max_eqs),
        (
            "dMPT",
            c.dmpt_entry_sz as u64,
            1 << bounded("MPTs", p.log_num_mpts, c.log_max_mpts)?,
        ),
        ("cMPT", c.cmpt_entry_sz as u64, NUM_CMPTS),
        (
            "MCG",
            1 << mgm_log,
            1 << bounded("multicast groups", p.log_num_mcgs, c.log_max_mcgs)?,
        ),
        ("MTT", c.mtt_entry_sz as u64, 1 << p.log_num_mtts),
    ]
    .into_iter()
    .map(|(name, entry_bytes, entries)| TableSpec {
        name,
        base: 0,
        entry_bytes,
        entries,
    })
    .collect::<Vec<_>>();
    // Largest first; each at a multiple of its (power-of-two) size.
    t.sort_by_key(|s| std::cmp::Reverse(s.bytes().next_power_of_two()));
    let mut at = 0u64;
    for s in &mut t {
        let size = s.bytes().next_power_of_two();
        s.base = at.next_multiple_of(size);
        at = s.base + size;
    }
    let base = |n: &str| t.iter().find(|s| s.name == n).map_or(0, |s| s.base);
    let init = InitHca {
        version: hca_abi::cmd::init_hca::INIT_HCA_VERSION,
        // 64-byte cache lines: log2(64) - 4 = 2 in bits 7..5, bit 4 set.
        cacheline_sz: (2 << 5) | (1 << 4),
        flags: 1,
        qpc_base: base("QPC"),
        log_num_qps: p.log_num_qps,
        srqc_base: base("SRQC"),
        log_num_srqs: p.log_num_srqs,
        cqc_base: base("CQC"),
        log_num_cqs: p.log_num_cqs,
        altc_base: base("ALTC"),
        auxc_base: base("AUXC"),
        eqc_base: base("EQC"),
        log_num_eqs: c.log_max_eqs,
        rdmarc_base: base("RDMARC"),
        log_rd_per_qp: rdmarc,
        mc_base: base("MCG"),
        log_mc_entry_sz: mgm_log,
        log_mc_hash_sz: p.log_num_mcgs.saturating_sub(1),
        log_mc_table_sz: p.log_num_mcgs,
        dmpt_base: base("dMPT"),
        log_mpt_sz: p.log_num_mpts,
        mtt_base: base("MTT"),
        cmpt_base: base("cMPT"),
        // One UAR page per 4 KiB of BAR2 (uar_sz is log2 of its MiB).
        log_uar_sz: c.uar_sz + 8,
        uar_page_sz: 0,
        ..Default::default()
    };
    Ok(Layout {
        init,
        icm_size: at,
        tables: t,
    })
}
