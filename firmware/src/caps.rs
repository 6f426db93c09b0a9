//! What this HCA can do, as QUERY_DEV_CAP reports it: one table
//! ([`device_caps`]) in the mailbox layout mlx4 reads (fw.c:
//! `QUERY_DEV_CAP_*`). What each port can do is `port.rs`'s.
//!
//! Table sizes are what INIT_HCA accepts. Linux's mlx4_core sizes its
//! tables from a fixed profile (2^18 QPs, 2^16 SRQs and CQs, 2^19 MPTs)
//! whatever the device reports, so the maxima are at least that; ICM is
//! mapped lazily, so only what the driver uses costs host memory.

// The mailbox layouts live in the ABI crate (the driver reads them too);
// the values this firmware answers with stay here.
pub use hca_abi::cmd::caps::QueryDevCapOut;

use crate::cmd::{mailbox, CommandSpec, ZERO};
use crate::opcode as op;
use crate::port::NUM_PORTS;

pub(crate) const COMMANDS: &[CommandSpec] = &[CommandSpec {
    opcode: op::QUERY_DEV_CAP,
    op_mods: ZERO,
    boot: false,
    inbox: None,
    outbox: mailbox!(QueryDevCapOut),
    what: "the capability table below",
    run: |f, c, mem| f.out(mem, c, &f.caps.encode()),
}];

/// mlx4 device capability flags (`MLX4_DEV_CAP_FLAG_*`) this HCA sets.
pub mod flags {
    pub const RC: u64 = 1 << 0;
    pub const UC: u64 = 1 << 1;
    pub const UD: u64 = 1 << 2;
    pub const ATOMIC: u64 = 1 << 18;
    /// Every flag set: transports, and atomics (the atomic unit, masked too).
    pub const ALL: u64 = RC | UC | UD | ATOMIC;
}

/// Memory-extension flags (`MLX4_BMME_FLAG_*`): the TPT's kill paths.
pub mod bmme {
    pub const LOCAL_INV: u32 = 1 << 6;
    pub const REMOTE_INV: u32 = 1 << 7;
    pub const FAST_REG_WR: u32 = 1 << 11;
    pub const ALL: u32 = LOCAL_INV | REMOTE_INV | FAST_REG_WR;
}

/// The node GUID: "OPENHC" and a serial, not any vendor's OUI.
pub const NODE_GUID: u64 = 0x4f50_454e_4843_0100;

/// The device's capabilities: the one table.
pub fn device_caps() -> QueryDevCapOut {
    QueryDevCapOut {
        log_max_srq_sz: 14,
        log_max_qp_sz: 14,
        log_rsvd_qps: 6,
        log_max_qps: 18,
        log_rsvd_srqs: 0,
        log_max_srqs: 16,
        log_max_cq_sz: hca_rtl::cq::MAX_LOG_SIZE,
        log_rsvd_cqs: 0,
        log_max_cqs: 16,
        log_max_mpts: 19,
        log_rsvd_eqs: 0,
        log_max_eqs: hca_rtl::cq::NUM_EQS.trailing_zeros() as u8,
        log_rsvd_mtts: 0,
        log_max_mrw_sz: 40,
        // Two reserved: MPT 1's key would be 0x100, which is
        // MLX4_INVALID_LKEY, the end mark of a receive WQE's scatter list;
        // a region with that key could never be scattered into.
        log_rsvd_mrws: 1,
        log_max_req_qp: 4,
        log_max_res_qp: 4,
        log_max_gso: 0,
        rss: 0,
        log_max_rdma: 4,
        ack_delay: 15,
        num_ports: NUM_PORTS,
        log_max_msg: 31,
        stat_rate_support: 0,
        ext_flags: (flags::ALL >> 32) as u32,
        flags: flags::ALL as u32,
        rsvd_uars: 1,
        uar_sz: (crate::bar0::BAR2_SIZE >> 20).trailing_zeros() as u8,
        log_page_sz: 12,
        bf: 0,
        max_sg_sq: 32,
        max_desc_sz_sq: 1008,
        max_sg_rq: 32,
        max_desc_sz_rq: 512,
        log_max_qp_mcg: 3,
        rsvd_mcgs: 0,
        log_max_mcgs: 13,
        rsvd_pds: 0,
        log_max_pds: 15,
        rsvd_xrcds: 0,
        log_max_xrcds: 0,
        rdmarc_entry_sz: 32,
        qpc_entry_sz: 512,
        aux_entry_sz: 32,
        altc_entry_sz: 32,
        eqc_entry_sz: 32,
        cqc_entry_sz: 32,
        srq_entry_sz: 64,
        cmpt_entry_sz: 32,
        mtt_entry_sz: 8,
        dmpt_entry_sz: 64,
        bmme_flags: bmme::ALL,
        rsvd_lkey: 0,
        max_icm_sz: 1 << 36,
    }
}
