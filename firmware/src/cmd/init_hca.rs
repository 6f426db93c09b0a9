//! INIT_HCA's mailbox (fw.c: `INIT_HCA_*`), the ICM layout it carries, and
//! the checks the firmware makes before taking it. QUERY_HCA answers with
//! the same layout.

use super::caps::QueryDevCapOut;
use crate::icm::ICM_PAGE;
use crate::status::{refuse, CmdResult, Status};

/// The INIT_HCA mailbox version mlx4 writes.
pub const INIT_HCA_VERSION: u8 = 2;
/// mlx4's compressed-MPT table: 4 types << 24 entries (`MLX4_NUM_CMPTS`).
pub const NUM_CMPTS: u64 = 4 << 24;

crate::mailbox_layout! {
    /// INIT_HCA input; QUERY_HCA output.
    InitHca, 0x200, {
        /// Mailbox version (2).
        version: u8 = (0x00, 0, 8),
        /// Host cache line: log2(bytes) - 4 in bits 7..5, bit 4 set.
        cacheline_sz: u8 = (0x0e, 0, 8),
        /// Flags: bit 0 check the port of UD address vectors, bit 1 big-endian host, bit 3 IPoIB checksum, bit 4 counters.
        flags: u32 = (0x14, 0, 32),
        /// QPC table base (ICM address; the low byte holds the log).
        qpc_base: u64 = (0x30, 0, 64),
        /// log2 QPs.
        log_num_qps: u8 = (0x37, 0, 5),
        /// SRQ context table base.
        srqc_base: u64 = (0x48, 0, 64),
        /// log2 SRQs.
        log_num_srqs: u8 = (0x4f, 0, 5),
        /// CQ context table base.
        cqc_base: u64 = (0x50, 0, 64),
        /// log2 CQs.
        log_num_cqs: u8 = (0x57, 0, 5),
        /// 64-byte EQEs (bit 29) and CQEs (bit 30).
        eqe_cqe_sizes: u32 = (0x58, 0, 32),
        /// EQE and CQE stride (cache-line strides).
        eqe_cqe_stride: u8 = (0x5b, 0, 8),
        /// Alternate-path context table base.
        altc_base: u64 = (0x60, 0, 64),
        /// Auxiliary QP context table base.
        auxc_base: u64 = (0x70, 0, 64),
        /// EQ context table base.
        eqc_base: u64 = (0x80, 0, 64),
        /// log2 EQs.
        log_num_eqs: u8 = (0x87, 0, 5),
        /// System EQs (0 without that capability).
        num_sys_eqs: u16 = (0x8a, 0, 16),
        /// RDMA responder resource table base.
        rdmarc_base: u64 = (0x90, 0, 64),
        /// log2 responder resources per QP.
        log_rd_per_qp: u8 = (0x97, 0, 3),
        /// Multicast group table base.
        mc_base: u64 = (0xc0, 0, 64),
        /// log2 bytes per multicast group entry.
        log_mc_entry_sz: u8 = (0xd3, 0, 5),
        /// log2 multicast hash table entries.
        log_mc_hash_sz: u8 = (0xd7, 0, 5),
        /// Unicast steering (bit 3; B0 steering).
        uc_steering: u8 = (0xd8, 0, 8),
        /// log2 multicast table entries.
        log_mc_table_sz: u8 = (0xdb, 0, 5),
        /// MPT table base.
        dmpt_base: u64 = (0xf0, 0, 64),
        /// Memory windows enabled (bit 7).
        mw_enabled: u8 = (0xf8, 0, 8),
        /// log2 MPTs.
        log_mpt_sz: u8 = (0xfb, 0, 6),
        /// MTT table base.
        mtt_base: u64 = (0x100, 0, 64),
        /// Compressed MPT table base.
        cmpt_base: u64 = (0x108, 0, 64),
        /// log2 UAR pages.
        log_uar_sz: u8 = (0x12a, 0, 8),
        /// UAR page size: log2(bytes) - 12.
        uar_page_sz: u8 = (0x12b, 0, 8),
    }
}

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
