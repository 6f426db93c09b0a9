//! INIT_HCA's ICM layout as the firmware reads it from the mailbox
//! (`hca_abi::cmd::init_hca`; fw.c: `INIT_HCA_*`), and
//! the checks the firmware makes before taking it. QUERY_HCA answers with
//! the same layout.

// The mailbox layouts live in the ABI crate (the driver reads them too);
// the values this firmware answers with stay here.
pub use hca_abi::cmd::init_hca::InitHca;

use super::caps::QueryDevCapOut;
use crate::icm::ICM_PAGE;
use crate::status::{refuse, CmdResult, Status};

/// The INIT_HCA mailbox version mlx4 writes.
pub const INIT_HCA_VERSION: u8 = 2;
/// mlx4's compressed-MPT table: 4 types << 24 entries (`MLX4_NUM_CMPTS`).
pub const NUM_CMPTS: u64 = 4 << 24;

/// Where a table's base sits in its field: the low byte may carry the log.
pub const BASE_MASK: u64 = !0xff;

/// One ICM table of the layout: name, base, bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Table {
    pub name: &'static str,
    pub base: u64,
    pub bytes: u64,
}

/// The ICM layout INIT_HCA established.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Layout {
    pub tables: Vec<Table>,
    pub mtt_base: u64,
    pub log_num_eqs: u8,
    pub eqc_base: u64,
    pub dmpt_base: u64,
    pub cqc_base: u64,
    pub qpc_base: u64,
}

impl Layout {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

fn log_ok(name: &str, log: u8, max: u8) -> CmdResult<()> {
    if log > max {
        return refuse(
            Status::BadParam,
            format!("{name}: 2^{log} entries, the device has 2^{max}"),
        );
    }
    Ok(())
}

/// Check an INIT_HCA mailbox against the device's capabilities and the ICM
/// size SET_ICM_SIZE gave, and return its layout. Nothing is kept on error.
pub fn validate(p: &InitHca, caps: &QueryDevCapOut, icm_size: u64) -> CmdResult<Layout> {
    if p.version != INIT_HCA_VERSION {
        return refuse(
            Status::BadParam,
            format!(
                "mailbox version {} (this firmware takes {INIT_HCA_VERSION})",
                p.version
            ),
        );
    }
    log_ok("QPs", p.log_num_qps, caps.log_max_qps)?;
    log_ok("SRQs", p.log_num_srqs, caps.log_max_srqs)?;
    log_ok("CQs", p.log_num_cqs, caps.log_max_cqs)?;
    log_ok("EQs", p.log_num_eqs, caps.log_max_eqs)?;
    log_ok("MPTs", p.log_mpt_sz, caps.log_max_mpts)?;
    log_ok("multicast groups", p.log_mc_table_sz, caps.log_max_mcgs)?;
    log_ok(
        "responder resources per QP",
        p.log_rd_per_qp,
        caps.log_max_res_qp,
    )?;
    if p.eqe_cqe_sizes & (3 << 29) != 0 || p.eqe_cqe_stride != 0 {
        return refuse(
            Status::BadParam,
            "64-byte or strided EQEs/CQEs: not supported",
        );
    }
    if p.mw_enabled & 0x80 != 0 {
        return refuse(Status::BadParam, "memory windows: not supported");
    }
    if p.num_sys_eqs != 0 {
        return refuse(Status::BadParam, "system EQs: not supported");
    }
    let uar_bytes = (ICM_PAGE << p.uar_page_sz.min(20)) << p.log_uar_sz.min(40);
    if p.uar_page_sz > 20 || p.log_uar_sz > 40 || uar_bytes > crate::bar0::BAR2_SIZE {
        return refuse(
            Status::BadParam,
            format!(
                "UAR area 2^{} pages of 2^{} bytes is larger than BAR2",
                p.log_uar_sz,
                p.uar_page_sz as u32 + 12
            ),
        );
    }
    let qps = 1u64 << p.log_num_qps;
    let tables = [
        ("QPC", p.qpc_base, qps * caps.qpc_entry_sz as u64),
        ("AUXC", p.auxc_base, qps * caps.aux_entry_sz as u64),
        ("ALTC", p.altc_base, qps * caps.altc_entry_sz as u64),
        (
            "RDMARC",
            p.rdmarc_base,
            (qps << p.log_rd_per_qp) * caps.rdmarc_entry_sz as u64,
        ),
        (
            "SRQC",
            p.srqc_base,
            (1u64 << p.log_num_srqs) * caps.srq_entry_sz as u64,
        ),
        (
            "CQC",
            p.cqc_base,
            (1u64 << p.log_num_cqs) * caps.cqc_entry_sz as u64,
        ),
        (
            "EQC",
            p.eqc_base,
            (1u64 << p.log_num_eqs) * caps.eqc_entry_sz as u64,
        ),
        (
            "dMPT",
            p.dmpt_base,
            (1u64 << p.log_mpt_sz) * caps.dmpt_entry_sz as u64,
        ),
        ("cMPT", p.cmpt_base, NUM_CMPTS * caps.cmpt_entry_sz as u64),
        (
            "MCG",
            p.mc_base,
            (1u64 << p.log_mc_table_sz) << p.log_mc_entry_sz,
        ),
    ];
    let mut out: Vec<Table> = Vec::new();
    for (name, raw, bytes) in tables {
        let base = raw & BASE_MASK;
        let bytes = bytes.max(ICM_PAGE);
        if base & (ICM_PAGE - 1) != 0 {
            return refuse(
                Status::BadParam,
                format!("{name} base {base:#x} is not 4 KiB aligned"),
            );
        }
        if base.checked_add(bytes).is_none_or(|e| e > icm_size) {
            return refuse(
                Status::BadParam,
                format!("{name} ({base:#x}+{bytes:#x}) ends past the ICM size {icm_size:#x}"),
            );
        }
        if let Some(o) = out
            .iter()
            .find(|o| base < o.base + o.bytes && o.base < base + bytes)
        {
            return refuse(
                Status::BadParam,
                format!(
                    "{name} ({base:#x}+{bytes:#x}) overlaps {} ({:#x}+{:#x})",
                    o.name, o.base, o.bytes
                ),
            );
        }
        out.push(Table { name, base, bytes });
    }
    let mtt = p.mtt_base & BASE_MASK;
    if mtt & (ICM_PAGE - 1) != 0 || mtt >= icm_size {
        return refuse(Status::BadParam, format!("MTT base {mtt:#x}"));
    }
    if let Some(o) = out.iter().find(|o| mtt >= o.base && mtt < o.base + o.bytes) {
        return refuse(
            Status::BadParam,
            format!("MTT base {mtt:#x} lies inside {}", o.name),
        );
    }
    Ok(Layout {
        mtt_base: mtt,
        log_num_eqs: p.log_num_eqs,
        eqc_base: p.eqc_base & BASE_MASK,
        dmpt_base: p.dmpt_base & BASE_MASK,
        cqc_base: p.cqc_base & BASE_MASK,
        qpc_base: p.qpc_base & BASE_MASK,
        tables: out.to_vec(),
    })
}
