//! The SRQ context mailbox (`struct mlx4_srq_context`, mlx4.h; filled by
//! mlx4_srq_alloc in srq.c) that SW2HW_SRQ carries and QUERY_SRQ and
//! HW2SW_SRQ answer with.

crate::mailbox_layout! {
    /// SW2HW_SRQ input, QUERY_SRQ output.
    SrqContext, 0x30, {
        /// State (bits 31..28): mlx4 sends 0; QUERY_SRQ answers
        /// [`STATE_HW`].
        state: u8 = (0x00, 4, 4),
        /// log2 of the WQEs (bits 27..24).
        log_size: u8 = (0x00, 0, 4),
        /// The SRQ's number (bits 23..0).
        srqn: u32 = (0x00, 0, 24),
        /// log2 of the WQE stride, less 4.
        log_stride: u8 = (0x04, 0, 8),
        /// The XRC domain (XRC SRQs).
        xrcd: u16 = (0x06, 0, 16),
        /// The CQ (XRC SRQs; bits 23..0).
        cqn: u32 = (0x08, 0, 24),
        /// log2(page size) - 12 of the buffer's pages.
        log_page_size: u8 = (0x10, 0, 8),
        /// MTT offset of the buffer's first page, bits 39..32.
        mtt_base_addr_h: u8 = (0x13, 0, 8),
        /// MTT offset, bits 31..0.
        mtt_base_addr_l: u32 = (0x14, 0, 32),
        pd: u32 = (0x18, 0, 24),
        /// Below this many posted WQEs the SRQ limit event fires (0: off).
        limit_watermark: u16 = (0x1c, 0, 16),
        wqe_cnt: u16 = (0x1e, 0, 16),
        wqe_counter: u16 = (0x22, 0, 16),
        /// Bus address of the SRQ's doorbell record.
        db_rec_addr: u64 = (0x28, 0, 64),
    }
}

/// `state` of an SRQ the hardware owns, as QUERY_SRQ reports it.
pub const STATE_HW: u8 = 0;

impl SrqContext {
    /// The MTT byte offset of the buffer.
    pub fn mtt_offset(&self) -> u64 {
        (self.mtt_base_addr_h as u64) << 32 | self.mtt_base_addr_l as u64
    }
}
