//! What this firmware answers QUERY_ADAPTER with (fw.c: `QUERY_ADAPTER_*`,
//! `get_board_id`; the mailbox is `hca_abi::cmd::adapter`).

// The mailbox layouts live in the ABI crate (the driver reads them too);
// the values this firmware answers with stay here.
pub use hca_abi::cmd::adapter::QueryAdapterOut;

/// The board id mlx4 prints: 16 characters at most.
pub const BOARD_ID: &str = "OPENHCA-CX3-SIM";

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
