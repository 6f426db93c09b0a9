//! The MPT entry mailbox (`struct mlx4_mpt_entry`, mlx4.h; filled by
//! mlx4_mr_enable in mr.c) that SW2HW_MPT carries and QUERY_MPT and
//! HW2SW_MPT answer with. Its translation to the TPT block's own entry is
//! the firmware's (`hca_firmware::cmd::mpt`).

crate::mailbox_layout! {
    /// SW2HW_MPT input.
    MlxMpt, 0x40, {
        /// Ownership (bits 31..28: 0xf software-owned and valid once handed
        /// over, 0x3 free: a fast-register region waiting for its first
        /// work request).
        owner: u8 = (0x00, 4, 4),
        /// Memory-region bit (bit 17, MIO) and the MPT's kind flags.
        mio: bool = (0x01, 1, 1),
        /// Memory windows may bind (bit 15).
        bind_enable: bool = (0x02, 7, 1),
        /// Access: local read (bit 10), local write, remote read, remote
        /// write, atomic (bit 14).
        access: u8 = (0x02, 2, 5),
        /// A physical region: no MTT (bit 9).
        physical: bool = (0x02, 1, 1),
        /// A memory region, not a window (bit 8).
        region: bool = (0x02, 0, 1),
        /// The QP a window is bound to.
        qpn: u32 = (0x04, 0, 24),
        /// The key, tag in bits 31..24 and index below (`key_to_hw_index`).
        key: u32 = (0x08, 0, 32),
        /// Remote access enabled for fast-register (bit 28).
        rae: bool = (0x0c, 4, 1),
        /// A fast-register region (bit 27).
        fast_reg: bool = (0x0c, 3, 1),
        /// Invalidation enabled, locally and by Send with Invalidate (bits 25..24).
        en_inv: u8 = (0x0c, 0, 2),
        /// Protection domain.
        pd: u32 = (0x0c, 0, 24),
        /// First virtual address.
        start: u64 = (0x10, 0, 64),
        /// Length in bytes.
        length: u64 = (0x18, 0, 64),
        lkey: u32 = (0x20, 0, 32),
        win_cnt: u32 = (0x24, 0, 32),
        mtt_rep: u8 = (0x2b, 0, 8),
        /// Bytes into the MTT table of the first page's entry.
        mtt_addr: u64 = (0x2c, 0, 64),
        /// MTT entries reserved (fast-register regions).
        mtt_sz: u32 = (0x34, 0, 32),
        /// log2 of the page size (0 for a fast-register region in the free state).
        entity_size: u32 = (0x38, 0, 32),
        first_byte_offset: u32 = (0x3c, 0, 32),
    }
}

/// `owner` values.
pub const OWNER_SW: u8 = 0xf;
pub const OWNER_FREE: u8 = 0x3;
