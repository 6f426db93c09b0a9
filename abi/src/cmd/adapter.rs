//! The QUERY_ADAPTER mailbox.

crate::mailbox_layout! {
    /// QUERY_ADAPTER output.
    QueryAdapterOut, 0x100, {
        /// The INTx pin the device interrupts on without MSI-X.
        inta_pin: u8 = (0x10, 0, 8),
        /// Board id, characters 0..4, each word byte-swapped (as mlx4 expects).
        board_id0: u32 = (0xf0, 0, 32),
        /// Board id, characters 4..8.
        board_id1: u32 = (0xf4, 0, 32),
        /// Board id, characters 8..12.
        board_id2: u32 = (0xf8, 0, 32),
        /// Board id, characters 12..16.
        board_id3: u32 = (0xfc, 0, 32),
    }
}
