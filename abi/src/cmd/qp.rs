//! The QP state commands' mailbox (mlx4's qp.h: the optional-parameter
//! mask, then `struct mlx4_qp_context` with its primary `mlx4_qp_path`),
//! which RST2INIT_QP .. SQD2RTS_QP carry and QUERY_QP answers with. Offsets
//! are the mailbox's: the context starts at 8. Its translation to the QPC
//! block's context is the firmware's (`hca_firmware::qp`).

crate::mailbox_layout! {
    /// A QP transition's input, QUERY_QP's output.
    MlxQpMailbox, 0x100, {
        /// Which optional parameters the transition changes ([`optpar`]).
        opt_param_mask: u32 = (0x00, 0, 32),
        /// QP state (flags 31..28): RST 0, INIT 1, RTR 2, RTS 3, SQER 4,
        /// SQD 5, ERR 6.
        state: u8 = (0x08, 4, 4),
        /// Service type (flags 23..16, [`st`]).
        st: u8 = (0x09, 0, 8),
        /// Path-migration state (flags 12..11): 3 migrated.
        pm_state: u8 = (0x0a, 3, 2),
        pd: u32 = (0x0c, 0, 24),
        /// Path MTU: 1 = 256 bytes .. 5 = 4096.
        mtu: u8 = (0x10, 5, 3),
        /// log2 of the largest message.
        msg_max: u8 = (0x10, 0, 5),
        /// log2 of the receive queue's WQEs.
        rq_log_size: u8 = (0x11, 3, 4),
        /// log2 of the receive WQE stride, less 4.
        rq_log_stride: u8 = (0x11, 0, 3),
        /// The send queue is not prefetched (set at RST2INIT).
        sq_no_prefetch: bool = (0x12, 7, 1),
        sq_log_size: u8 = (0x12, 3, 4),
        sq_log_stride: u8 = (0x12, 0, 3),
        /// The reserved L_Key is usable (kernel QPs).
        rlkey: bool = (0x13, 4, 1),
        /// UAR page of the QP's doorbells.
        usr_page: u32 = (0x14, 0, 24),
        local_qpn: u32 = (0x18, 0, 24),
        remote_qpn: u32 = (0x1c, 0, 24),
        /// Primary path: P_Key table index.
        pkey_index: u8 = (0x23, 0, 7),
        /// Primary path: counter set.
        counter_index: u8 = (0x24, 0, 8),
        /// Primary path: a GRH is sent.
        grh: bool = (0x25, 7, 1),
        /// Primary path: source path bits.
        mylmc: u8 = (0x25, 0, 7),
        /// Primary path: destination LID.
        rlid: u16 = (0x26, 0, 16),
        /// Primary path: local ACK timeout exponent (4.096 us * 2^t).
        ack_timeout: u8 = (0x28, 3, 5),
        /// Primary path: link type (0 InfiniBand).
        link_type: u8 = (0x28, 0, 3),
        /// Primary path: source GID index.
        mgid_index: u8 = (0x29, 0, 8),
        static_rate: u8 = (0x2a, 0, 8),
        hop_limit: u8 = (0x2b, 0, 8),
        /// Traffic class (31..20 of the word less the top nibble) and flow label.
        tclass_flowlabel: u32 = (0x2c, 0, 32),
        /// Destination GID, first 8 bytes.
        rgid_hi: u64 = (0x30, 0, 64),
        /// Destination GID, last 8 bytes.
        rgid_lo: u64 = (0x38, 0, 64),
        /// Primary path: bit 6 the port less one, 5..2 the service level.
        sched_queue: u8 = (0x40, 0, 8),
        /// ACK request frequency (params1 31..28).
        ack_req_freq: u8 = (0x78, 4, 4),
        /// Initiator depth, log2 rounded up (params1 23..21).
        sra: u8 = (0x79, 5, 3),
        /// Transport retries (params1 18..16).
        retry_count: u8 = (0x79, 0, 3),
        /// RNR retries, 7 unlimited (params1 15..13).
        rnr_retry: u8 = (0x7a, 5, 3),
        /// Fast-register work requests allowed (params1 11).
        fre: bool = (0x7a, 3, 1),
        next_send_psn: u32 = (0x80, 0, 24),
        cqn_send: u32 = (0x84, 0, 24),
        last_acked_psn: u32 = (0x90, 0, 24),
        ssn: u32 = (0x94, 0, 24),
        /// Responder resources, log2 rounded up (params2 23..21).
        rra: u8 = (0x99, 5, 3),
        /// Remote reads enabled (params2 15).
        rre: bool = (0x9a, 7, 1),
        /// Remote writes enabled (params2 14).
        rwe: bool = (0x9a, 6, 1),
        /// Remote atomics enabled (params2 13).
        rae: bool = (0x9a, 5, 1),
        /// Receives come from an SRQ (params2 4).
        ric: bool = (0x9b, 4, 1),
        /// params2 3.
        fpp: bool = (0x9b, 3, 1),
        /// Minimum RNR NAK timer code.
        min_rnr_timer: u8 = (0x9c, 0, 5),
        /// Expected receive PSN.
        next_recv_psn: u32 = (0x9c, 0, 24),
        xrcd: u32 = (0xa0, 0, 24),
        cqn_recv: u32 = (0xa4, 0, 24),
        /// Bus address of the receive queue's doorbell record.
        db_rec_addr: u64 = (0xa8, 0, 64),
        qkey: u32 = (0xb0, 0, 32),
        /// The QP uses SRQ `srqn`.
        srq: bool = (0xb4, 0, 1),
        srqn: u32 = (0xb4, 0, 24),
        msn: u32 = (0xb8, 0, 24),
        rq_wqe_counter: u16 = (0xbc, 0, 16),
        sq_wqe_counter: u16 = (0xbe, 0, 16),
        param3: u32 = (0xc8, 0, 32),
        /// Page size of the work queues' buffer, log2 less 12.
        log_page_size: u8 = (0xd0, 0, 6),
        /// Bytes into the MTT table of the buffer's first entry (40 bits).
        mtt_base_h: u8 = (0xd3, 0, 8),
        mtt_base_l: u32 = (0xd4, 0, 32),
    }
}

/// The mailbox's context: bytes 8 onwards.
pub const CONTEXT_OFFSET: usize = 8;
/// Bytes of `struct mlx4_qp_context`.
pub const CONTEXT_BYTES: usize = 248;

/// Service types (flags 23..16).
pub mod st {
    pub const RC: u8 = 0;
    pub const UC: u8 = 1;
    pub const RD: u8 = 2;
    pub const UD: u8 = 3;
    pub const XRC: u8 = 6;
    /// The special QPs (SMI, GSI) and raw packets.
    pub const MLX: u8 = 7;
}

/// `opt_param_mask` bits (`MLX4_QP_OPTPAR_*`).
pub mod optpar {
    pub const ALT_ADDR_PATH: u32 = 1 << 0;
    pub const RRE: u32 = 1 << 1;
    pub const RAE: u32 = 1 << 2;
    pub const RWE: u32 = 1 << 3;
    pub const PKEY_INDEX: u32 = 1 << 4;
    pub const Q_KEY: u32 = 1 << 5;
    pub const RNR_TIMEOUT: u32 = 1 << 6;
    pub const PRIMARY_ADDR_PATH: u32 = 1 << 7;
    pub const SRA_MAX: u32 = 1 << 8;
    pub const RRA_MAX: u32 = 1 << 9;
    pub const PM_STATE: u32 = 1 << 10;
    pub const RETRY_COUNT: u32 = 1 << 12;
    pub const RNR_RETRY: u32 = 1 << 13;
    pub const ACK_TIMEOUT: u32 = 1 << 14;
    pub const SCHED_QUEUE: u32 = 1 << 16;
    pub const COUNTER_INDEX: u32 = 1 << 20;
    pub const VLAN_STRIPPING: u32 = 1 << 21;
}

/// log2 of a depth rounded up, as mlx4 writes SRA and RRA (`fls(n - 1)`).
pub fn log_depth(n: u8) -> u8 {
    if n <= 1 {
        0
    } else {
        8 - (n - 1).leading_zeros() as u8
    }
}

impl MlxQpMailbox {
    /// The MTT byte offset of the work queues' buffer.
    pub fn mtt_base(&self) -> u64 {
        (self.mtt_base_h as u64) << 32 | self.mtt_base_l as u64
    }

    /// The port the primary path names (sched_queue bit 6).
    pub fn port(&self) -> u8 {
        ((self.sched_queue >> 6) & 1) + 1
    }

    /// The service level the primary path names (sched_queue 5..2).
    pub fn sl(&self) -> u8 {
        (self.sched_queue >> 2) & 0xf
    }
}
