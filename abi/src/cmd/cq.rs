//! The CQ context mailbox (`struct mlx4_cq_context`, mlx4.h) SW2HW_CQ
//! carries (filled by mlx4_cq_alloc in cq.c).

crate::mailbox_layout! {
    /// SW2HW_CQ input.
    CqContext, 0x40, {
        /// Flags: bit 18 collapsed, bit 19 timestamps.
        flags: u32 = (0x00, 0, 32),
        /// Offset of the first CQE in the first page (only 0 is taken).
        page_offset: u16 = (0x0a, 0, 16),
        /// log2 CQEs (bits 28..24).
        log_size: u8 = (0x0c, 0, 5),
        /// The UAR page of the CQ's doorbells (bits 23..0).
        usrpage: u32 = (0x0c, 0, 24),
        /// Moderation period.
        cq_period: u16 = (0x10, 0, 16),
        /// Moderation count.
        cq_max_count: u16 = (0x12, 0, 16),
        /// The EQ completion events go to.
        comp_eqn: u8 = (0x17, 0, 8),
        /// log2(page size) - 12 of the buffer's pages.
        log_page_size: u8 = (0x18, 0, 5),
        /// MTT offset of the buffer's first page, bits 39..32.
        mtt_base_addr_h: u8 = (0x1b, 0, 8),
        /// MTT offset, bits 31..0.
        mtt_base_addr_l: u32 = (0x1c, 0, 32),
        last_notified_index: u32 = (0x20, 0, 24),
        solicit_producer_index: u32 = (0x24, 0, 24),
        consumer_index: u32 = (0x28, 0, 24),
        producer_index: u32 = (0x2c, 0, 24),
        /// Host address of the CQ's doorbell record (consumer index, arm).
        db_rec_addr: u64 = (0x38, 0, 64),
    }
}

/// `flags`: a collapsed CQ (one CQE slot, overwritten).
pub const FLAG_COLLAPSED: u32 = 1 << 18;

/// The CQ arm doorbell's offset in a UAR page (`MLX4_CQ_DOORBELL`).
pub const ARM_DOORBELL: u64 = 0x20;

impl CqContext {
    /// The MTT offset (bytes into the MTT table) of the first page.
    pub fn mtt_offset(&self) -> u64 {
        (self.mtt_base_addr_h as u64) << 32 | self.mtt_base_addr_l as u64
    }
}
