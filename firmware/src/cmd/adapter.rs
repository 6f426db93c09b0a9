//! QUERY_ADAPTER output (fw.c: `QUERY_ADAPTER_*`, `get_board_id`).

/// The board id mlx4 prints: 16 characters at most.
pub const BOARD_ID: &str = "OPENHCA-CX3-SIM";

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

pub fn query_adapter() -> QueryAdapterOut {
    let mut id = [0u8; 16];
    id[..BOARD_ID.len()].copy_from_slice(BOARD_ID.as_bytes());
    let w = |i: usize| u32::from_le_bytes(id[4 * i..4 * i + 4].try_into().unwrap());
    QueryAdapterOut {
        inta_pin: 0,
        board_id0: w(0),
        board_id1: w(1),
        board_id2: w(2),
        board_id3: w(3),
    }
}
