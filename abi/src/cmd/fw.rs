//! QUERY_FW and MOD_STAT_CFG mailboxes (fw.c: `QUERY_FW_*`, `MOD_STAT_CFG_*`).

crate::mailbox_layout! {
    /// QUERY_FW output.
    QueryFwOut, 0x100, {
        /// Pages of the firmware area (MAP_FA).
        fw_pages: u16 = (0x00, 0, 16),
        /// Firmware version, major.
        fw_major: u16 = (0x02, 0, 16),
        /// Firmware version, subminor (mlx4 swaps it with minor).
        fw_subminor: u16 = (0x04, 0, 16),
        /// Firmware version, minor.
        fw_minor: u16 = (0x06, 0, 16),
        /// PCI physical function id.
        ppf_id: u8 = (0x09, 0, 8),
        /// Command interface revision (mlx4 takes 2 and 3).
        cmd_if_rev: u16 = (0x0a, 0, 16),
        /// log2 of the commands that may be outstanding.
        log_max_cmds: u8 = (0x0f, 0, 8),
        /// Interrupt-clear register offset.
        clr_int_base: u64 = (0x20, 0, 64),
        /// Its BAR, in bits 7..6 (BAR index / 2).
        clr_int_bar: u8 = (0x28, 6, 2),
        /// Catastrophic-error buffer offset.
        catas_offset: u64 = (0x30, 0, 64),
        /// Its size in 32-bit words.
        catas_size: u32 = (0x38, 0, 32),
        /// Its BAR, in bits 7..6.
        catas_bar: u8 = (0x3c, 6, 2),
        /// Communication channel (multi-function only): none.
        comm_base: u64 = (0x40, 0, 64),
        comm_bar: u8 = (0x48, 6, 2),
        /// The internal clock's offset (`bar0::CLOCK_BASE`), in BAR0.
        clock_offset: u64 = (0x50, 0, 64),
        clock_bar: u8 = (0x58, 6, 2),
    }
}

crate::mailbox_layout! {
    /// MOD_STAT_CFG input (the page-size form mlx4_core sends at start).
    ModStatCfgIn, 0x100, {
        /// Set the page size (1) or leave it.
        pg_sz_m: u8 = (0x02, 0, 8),
        /// log2(page size) - 12: only 0 (4 KiB) is supported.
        pg_sz: u8 = (0x03, 0, 8),
    }
}

crate::mailbox_layout! {
    /// MOD_STAT_CFG output with op modifier 2 (in_modifier = port << 8):
    /// the port's GUID, which mlx4 keeps as the physical port id.
    ModStatCfgQueryOut, 0x100, {
        /// Port GUID, bits 63..32.
        guid_hi: u32 = (0x14, 0, 32),
        /// Port GUID, bits 31..0.
        guid_lo: u32 = (0x1c, 0, 32),
    }
}

/// MOD_STAT_CFG's op modifier for reading a port's settings back.
pub const MOD_STAT_CFG_QUERY: u8 = 2;
