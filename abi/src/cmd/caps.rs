//! QUERY_DEV_CAP and QUERY_PORT mailboxes (fw.c: `QUERY_DEV_CAP_*`, `QUERY_PORT_*`).

crate::mailbox_layout! {
    /// QUERY_DEV_CAP output.
    QueryDevCapOut, 0x100, {
        /// log2 WQEs per SRQ.
        log_max_srq_sz: u8 = (0x10, 0, 8),
        /// log2 WQEs per QP.
        log_max_qp_sz: u8 = (0x11, 0, 8),
        /// log2 QPs the firmware reserves.
        log_rsvd_qps: u8 = (0x12, 0, 4),
        /// log2 QPs.
        log_max_qps: u8 = (0x13, 0, 5),
        /// log2 SRQs reserved.
        log_rsvd_srqs: u8 = (0x14, 4, 4),
        /// log2 SRQs.
        log_max_srqs: u8 = (0x15, 0, 5),
        /// log2 CQEs per CQ.
        log_max_cq_sz: u8 = (0x19, 0, 8),
        /// log2 CQs reserved.
        log_rsvd_cqs: u8 = (0x1a, 0, 4),
        /// log2 CQs.
        log_max_cqs: u8 = (0x1b, 0, 5),
        /// log2 MPTs (memory regions and windows).
        log_max_mpts: u8 = (0x1d, 0, 6),
        /// log2 EQs reserved (mlx4 also reserves 4 per reserved UAR).
        log_rsvd_eqs: u8 = (0x1e, 0, 4),
        /// log2 EQs.
        log_max_eqs: u8 = (0x1f, 0, 4),
        /// log2 MTT segments reserved.
        log_rsvd_mtts: u8 = (0x20, 4, 4),
        /// log2 bytes of the largest memory region.
        log_max_mrw_sz: u8 = (0x21, 0, 8),
        /// log2 MPTs reserved.
        log_rsvd_mrws: u8 = (0x22, 0, 4),
        /// log2 outstanding RDMA reads and atomics a QP may issue.
        log_max_req_qp: u8 = (0x29, 0, 6),
        /// log2 outstanding RDMA reads and atomics a QP may answer.
        log_max_res_qp: u8 = (0x2b, 0, 6),
        /// log2 largest LSO (0: none).
        log_max_gso: u8 = (0x2d, 0, 5),
        /// RSS (0: none).
        rss: u8 = (0x2e, 0, 8),
        /// log2 outstanding RDMA reads and atomics, device-wide.
        log_max_rdma: u8 = (0x2f, 0, 6),
        /// Local CA ACK delay (4.096 us x 2^n).
        ack_delay: u8 = (0x35, 0, 5),
        /// Ports.
        num_ports: u8 = (0x37, 0, 4),
        /// log2 largest message.
        log_max_msg: u8 = (0x38, 0, 5),
        /// Static rates supported (bit mask; 0: the port's rate only).
        stat_rate_support: u16 = (0x3c, 0, 16),
        /// Capability flags, bits 63..32.
        ext_flags: u32 = (0x40, 0, 32),
        /// Capability flags, bits 31..0.
        flags: u32 = (0x44, 0, 32),
        /// UAR pages reserved (count, not log).
        rsvd_uars: u8 = (0x48, 4, 4),
        /// UAR area: 2^(n + 20) bytes of BAR2.
        uar_sz: u8 = (0x49, 0, 6),
        /// log2 smallest page.
        log_page_sz: u8 = (0x4b, 0, 8),
        /// BlueFlame (bit 7; 0: none).
        bf: u8 = (0x4c, 0, 8),
        /// Scatter/gather entries per send WQE.
        max_sg_sq: u8 = (0x51, 0, 8),
        /// Bytes per send WQE.
        max_desc_sz_sq: u16 = (0x52, 0, 16),
        /// Scatter entries per receive WQE.
        max_sg_rq: u8 = (0x55, 0, 8),
        /// Bytes per receive WQE.
        max_desc_sz_rq: u16 = (0x56, 0, 16),
        /// log2 QPs per multicast group.
        log_max_qp_mcg: u8 = (0x61, 0, 8),
        /// Multicast groups reserved.
        rsvd_mcgs: u8 = (0x62, 0, 4),
        /// log2 multicast groups.
        log_max_mcgs: u8 = (0x63, 0, 8),
        /// PDs reserved (count).
        rsvd_pds: u8 = (0x64, 4, 4),
        /// log2 PDs.
        log_max_pds: u8 = (0x65, 0, 6),
        /// XRC domains reserved (count).
        rsvd_xrcds: u8 = (0x66, 4, 4),
        /// log2 XRC domains.
        log_max_xrcds: u8 = (0x67, 0, 5),
        /// Bytes per RDMA responder resource in ICM.
        rdmarc_entry_sz: u16 = (0x80, 0, 16),
        /// Bytes per QP context in ICM.
        qpc_entry_sz: u16 = (0x82, 0, 16),
        /// Bytes per QP auxiliary context in ICM.
        aux_entry_sz: u16 = (0x84, 0, 16),
        /// Bytes per QP alternate-path context in ICM.
        altc_entry_sz: u16 = (0x86, 0, 16),
        /// Bytes per EQ context in ICM.
        eqc_entry_sz: u16 = (0x88, 0, 16),
        /// Bytes per CQ context in ICM.
        cqc_entry_sz: u16 = (0x8a, 0, 16),
        /// Bytes per SRQ context in ICM.
        srq_entry_sz: u16 = (0x8c, 0, 16),
        /// Bytes per compressed MPT in ICM.
        cmpt_entry_sz: u16 = (0x8e, 0, 16),
        /// Bytes per MTT entry in ICM.
        mtt_entry_sz: u16 = (0x90, 0, 16),
        /// Bytes per MPT in ICM.
        dmpt_entry_sz: u16 = (0x92, 0, 16),
        /// Memory-extension flags.
        bmme_flags: u32 = (0x94, 0, 32),
        /// The reserved L_Key (meaningful with the RESERVED_LKEY flag).
        rsvd_lkey: u32 = (0x98, 0, 32),
        /// Bytes of ICM the device can address.
        max_icm_sz: u64 = (0xa0, 0, 64),
    }
}

crate::mailbox_layout! {
    /// QUERY_PORT output (command interface revision 3).
    QueryPortOut, 0x100, {
        /// Link up (bit 7 of byte 0).
        link_up: bool = (0x00, 7, 1),
        /// Default sensing (bit 4).
        default_sense: bool = (0x00, 4, 1),
        /// Suggested type (bit 3).
        suggested_type: bool = (0x00, 3, 1),
        /// Port types the port takes: 1 = InfiniBand.
        supported_types: u8 = (0x00, 0, 2),
        /// Largest IB MTU: 5 = 4096.
        ib_mtu: u8 = (0x01, 0, 4),
        /// Largest Ethernet MTU (none).
        eth_mtu: u16 = (0x02, 0, 16),
        /// Link widths (bit mask: 1 = 1x, 2 = 4x).
        width: u8 = (0x06, 0, 4),
        /// log2 GID table entries.
        log_max_gids: u8 = (0x07, 4, 4),
        /// log2 P_Key table entries.
        log_max_pkeys: u8 = (0x07, 0, 4),
        /// log2 VLANs (Ethernet).
        log_max_vlans: u8 = (0x0a, 4, 4),
        /// log2 MACs (Ethernet).
        log_max_macs: u8 = (0x0a, 0, 4),
        /// Data VLs: 1 = VL0, 2 = VL0-1, 3 = VL0-3, 4 = VL0-7.
        max_vl: u8 = (0x0b, 0, 4),
        /// Default MAC (Ethernet; none).
        def_mac: u64 = (0x10, 0, 64),
    }
}
