//! The EQ context mailbox (`struct mlx4_eq_context`, mlx4.h) SW2HW_EQ
//! carries, and the MTT entries its buffer is found through.

crate::mailbox_layout! {
    /// SW2HW_EQ input.
    EqContext, 0x40, {
        /// Status (bits 31..28) and state (bits 11..8: 9 armed, 10 fired, 11 always armed).
        flags: u32 = (0x00, 0, 32),
        /// Offset of the first EQE in the first page (mlx4 uses 0; only 0 is taken).
        page_offset: u16 = (0x0a, 0, 16),
        /// log2 EQEs.
        log_eq_size: u8 = (0x0c, 0, 5),
        /// Moderation period (not used by mlx4_core).
        eq_period: u8 = (0x11, 0, 8),
        /// Moderation count (not used by mlx4_core).
        eq_max_count: u8 = (0x13, 0, 8),
        /// MSI-X vector.
        intr: u8 = (0x17, 0, 8),
        /// log2(page size) - 12 of the buffer's pages.
        log_page_size: u8 = (0x18, 0, 5),
        /// MTT offset of the buffer's first page, bits 39..32.
        mtt_base_addr_h: u8 = (0x1b, 0, 8),
        /// MTT offset, bits 31..0 (8-byte aligned).
        mtt_base_addr_l: u32 = (0x1c, 0, 32),
        /// Consumer index.
        consumer_index: u32 = (0x28, 0, 24),
        /// Producer index.
        producer_index: u32 = (0x2c, 0, 24),
    }
}

/// `flags` bits 11..8: the EQ starts armed.
pub const STATE_ARMED: u32 = 9;

impl EqContext {
    /// The MTT offset (bytes into the MTT table) of the first page.
    pub fn mtt_offset(&self) -> u64 {
        (self.mtt_base_addr_h as u64) << 32 | self.mtt_base_addr_l as u64
    }

    pub fn state(&self) -> u32 {
        (self.flags >> 8) & 0xf
    }
}

/// An MTT entry (big-endian 64-bit in ICM): a page address with bit 0 set
/// when present (`MLX4_MTT_FLAG_PRESENT`).
pub const MTT_PRESENT: u64 = 1;
pub const MTT_ENTRY_BYTES: u64 = 8;
