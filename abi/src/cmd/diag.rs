//! DIAG_RPRT with op modifier 2 (`MLX4_OP_MOD_QUERY_TRANSPORT_CI_ERRORS`):
//! the transport's error counters, which mlx4_ib reads for its hardware
//! statistics (and must read once to register the device). Offsets as
//! drivers/infiniband/hw/mlx4/main.c reads them.

/// The op modifier that asks for transport error counters.
pub const TRANSPORT_ERRORS: u8 = 2;

crate::mailbox_layout! {
    /// DIAG_RPRT output: transport error counters (32-bit each).
    TransportErrors, 0x200, {
        /// Receive queue local length errors.
        rq_num_lle: u32 = (0x00, 0, 32),
        /// Send queue local length errors.
        sq_num_lle: u32 = (0x04, 0, 32),
        /// Receive queue local QP operation errors.
        rq_num_lqpoe: u32 = (0x08, 0, 32),
        /// Send queue local QP operation errors.
        sq_num_lqpoe: u32 = (0x0c, 0, 32),
        /// Receive queue local protection errors.
        rq_num_lpe: u32 = (0x18, 0, 32),
        /// Send queue local protection errors.
        sq_num_lpe: u32 = (0x1c, 0, 32),
        /// Receive WRs flushed with error.
        rq_num_wrfe: u32 = (0x20, 0, 32),
        /// Send WRs flushed with error.
        sq_num_wrfe: u32 = (0x24, 0, 32),
        /// Memory window bind errors.
        sq_num_mwbe: u32 = (0x2c, 0, 32),
        /// Bad response errors.
        sq_num_bre: u32 = (0x34, 0, 32),
        /// Remote invalid request errors (send side).
        sq_num_rire: u32 = (0x44, 0, 32),
        /// Remote invalid request errors (receive side).
        rq_num_rire: u32 = (0x48, 0, 32),
        /// Remote access errors (send side).
        sq_num_rae: u32 = (0x4c, 0, 32),
        /// Remote access errors (receive side).
        rq_num_rae: u32 = (0x50, 0, 32),
        /// Remote operation errors.
        sq_num_roe: u32 = (0x54, 0, 32),
        /// Transport retries exceeded.
        sq_num_tree: u32 = (0x5c, 0, 32),
        /// RNR retries exceeded.
        sq_num_rree: u32 = (0x64, 0, 32),
        /// RNR NAKs sent.
        rq_num_rnr: u32 = (0x68, 0, 32),
        /// RNR NAKs received.
        sq_num_rnr: u32 = (0x6c, 0, 32),
        /// Out-of-sequence packets received.
        rq_num_oos: u32 = (0x100, 0, 32),
        /// Out-of-sequence NAKs received.
        sq_num_oos: u32 = (0x104, 0, 32),
        /// UD packets silently dropped for lack of receive WQEs.
        rq_num_udsdprd: u32 = (0x118, 0, 32),
        /// Duplicate requests received.
        rq_num_dup: u32 = (0x130, 0, 32),
        /// Transport timeouts.
        sq_num_to: u32 = (0x134, 0, 32),
        /// CQ overflows.
        num_cqovf: u32 = (0x1a0, 0, 32),
    }
}
