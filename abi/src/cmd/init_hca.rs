//! The INIT_HCA mailbox: the ICM layout the driver chose (fw.c: `INIT_HCA_*`).

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

/// The mailbox version mlx4 writes.
pub const INIT_HCA_VERSION: u8 = 2;
/// mlx4's compressed-MPT table: 4 types << 24 entries (`MLX4_NUM_CMPTS`).
pub const NUM_CMPTS: u64 = 4 << 24;
