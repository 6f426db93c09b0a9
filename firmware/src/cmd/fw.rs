//! What this firmware answers QUERY_FW and MOD_STAT_CFG with (the mailboxes
//! themselves are `hca_abi::cmd::fw`).

// The mailbox layouts live in the ABI crate (the driver reads them too);
// the values this firmware answers with stay here.
pub use hca_abi::cmd::fw::{ModStatCfgIn, ModStatCfgQueryOut, QueryFwOut, MOD_STAT_CFG_QUERY};

use crate::bar0;

/// The project's firmware version: printed by mlx4 as `major.minor.subminor`.
pub const FW_MAJOR: u16 = 0;
pub const FW_MINOR: u16 = 6;
pub const FW_SUBMINOR: u16 = 1;
/// Command interface revision: 3, the newest mlx4 knows (per-port QUERY_PORT).
pub const CMD_IF_REV: u16 = 3;
/// 4 KiB pages the firmware area takes (MAP_FA before RUN_FW).
pub const FW_PAGES: u16 = 16;
/// One command at a time (log2 of outstanding commands).
pub const LOG_MAX_CMDS: u8 = 0;

/// What this device answers QUERY_FW with.
pub fn query_fw() -> QueryFwOut {
    QueryFwOut {
        fw_pages: FW_PAGES,
        fw_major: FW_MAJOR,
        fw_minor: FW_MINOR,
        fw_subminor: FW_SUBMINOR,
        cmd_if_rev: CMD_IF_REV,
        log_max_cmds: LOG_MAX_CMDS,
        clr_int_base: bar0::CLR_INT_BASE,
        catas_offset: bar0::CATAS_BASE,
        catas_size: bar0::CATAS_WORDS,
        ..Default::default()
    }
}
