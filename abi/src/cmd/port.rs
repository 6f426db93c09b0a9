//! SET_PORT for an InfiniBand port (port.c: `mlx4_SET_PORT`, op modifier
//! 0) and the port settings the firmware keeps from it.

crate::mailbox_layout! {
    /// SET_PORT input, InfiniBand form.
    SetPortIbIn, 0x100, {
        /// Take `mtu_cap` (bit 22 of the first word).
        change_mtu: bool = (0x01, 6, 1),
        /// Take `vl_cap` (bit 21).
        change_vl: bool = (0x01, 5, 1),
        /// Take `pkey_tbl_sz` (bit 20).
        change_pkey_tbl: bool = (0x01, 4, 1),
        /// Largest MTU the port may use (IB encoding: 5 = 4096).
        mtu_cap: u8 = (0x02, 4, 4),
        /// Data VLs the port may use (a number: 1, 2, 4 or 8).
        vl_cap: u8 = (0x03, 4, 4),
        /// PortInfo CapabilityMask the port advertises.
        capability_mask: u32 = (0x04, 0, 32),
        /// P_Key table entries the port uses.
        pkey_tbl_sz: u16 = (0x28, 0, 16),
    }
}

/// What SET_PORT left in force on a port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortConfig {
    /// INIT_PORT brought the port up (CLOSE_PORT takes it down).
    pub up: bool,
    pub configured: bool,
    pub mtu_cap: u8,
    pub vl_cap: u8,
    pub capability_mask: u32,
    pub pkey_tbl_sz: u16,
}
