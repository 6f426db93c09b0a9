//! Subnet management packets as MAD_IFC carries them: the 256-byte MAD
//! (common header, SMP fields, 64 bytes of attribute data at 64) and the
//! attributes the firmware's subnet management agent answers (IBTA vol. 1,
//! 13.4 and 14.2.5; the offsets mlx4_ib reads are in
//! drivers/infiniband/hw/mlx4/main.c).

/// Bytes of a MAD, and where an SMP's attribute data starts.
pub const MAD_BYTES: usize = 256;
pub const SMP_DATA: usize = 64;

/// Management classes.
pub const CLASS_SUBN_LID_ROUTED: u8 = 0x01;
pub const CLASS_SUBN_DIRECTED_ROUTE: u8 = 0x81;

/// Methods.
pub const METHOD_GET: u8 = 0x01;
pub const METHOD_SET: u8 = 0x02;
pub const METHOD_GET_RESP: u8 = 0x81;

/// MAD status codes.
pub const STATUS_BAD_VERSION: u16 = 0x0004;
pub const STATUS_UNSUPPORTED_METHOD: u16 = 0x0008;
pub const STATUS_UNSUPPORTED_ATTRIBUTE: u16 = 0x000c;
pub const STATUS_INVALID_VALUE: u16 = 0x001c;
/// Directed-route SMPs: the direction bit of the status word (set on the
/// way back).
pub const STATUS_DIRECTION: u16 = 0x8000;

/// Attributes.
pub const ATTR_NODE_DESC: u16 = 0x0010;
pub const ATTR_NODE_INFO: u16 = 0x0011;
pub const ATTR_GUID_INFO: u16 = 0x0014;
pub const ATTR_PORT_INFO: u16 = 0x0015;
pub const ATTR_PKEY_TABLE: u16 = 0x0016;
pub const ATTR_SL_TO_VL: u16 = 0x0017;
pub const ATTR_VL_ARB: u16 = 0x0018;

/// PortInfo CapabilityMask bits (`enum ib_port_cap_flags`).
pub mod cap {
    pub const SYS_IMAGE_GUID_SUP: u32 = 1 << 11;
}

crate::mailbox_layout! {
    /// The MAD's common header and the SMP fields before the data.
    MadHeader, 64, {
        /// 1.
        base_version: u8 = (0x00, 0, 8),
        /// 0x01 LID-routed or 0x81 directed-route subnet management.
        mgmt_class: u8 = (0x01, 0, 8),
        /// 1.
        class_version: u8 = (0x02, 0, 8),
        /// Get 0x01, Set 0x02, GetResp 0x81.
        method: u8 = (0x03, 0, 8),
        /// MAD status (directed route: bit 15 is the direction).
        status: u16 = (0x04, 0, 16),
        /// Directed route: hop pointer and hop count.
        class_specific: u16 = (0x06, 0, 16),
        /// Transaction id.
        tid: u64 = (0x08, 0, 64),
        /// Attribute.
        attr_id: u16 = (0x10, 0, 16),
        /// Attribute modifier (port, block index).
        attr_mod: u32 = (0x14, 0, 32),
        /// M_Key.
        m_key: u64 = (0x18, 0, 64),
    }
}

crate::mailbox_layout! {
    /// NodeInfo (attribute 0x0011), in the SMP data.
    NodeInfo, 64, {
        base_version: u8 = (0x00, 0, 8),
        class_version: u8 = (0x01, 0, 8),
        /// 1: channel adapter.
        node_type: u8 = (0x02, 0, 8),
        num_ports: u8 = (0x03, 0, 8),
        system_image_guid: u64 = (0x04, 0, 64),
        node_guid: u64 = (0x0c, 0, 64),
        /// The GUID of the port the query came through.
        port_guid: u64 = (0x14, 0, 64),
        /// P_Key table entries per port.
        partition_cap: u16 = (0x1c, 0, 16),
        /// PCI device id.
        device_id: u16 = (0x1e, 0, 16),
        /// Hardware revision.
        revision: u32 = (0x20, 0, 32),
        /// The port the query came through.
        local_port_num: u8 = (0x24, 0, 8),
        /// 24-bit vendor id (the OUI of the node GUID).
        vendor_id: u32 = (0x24, 0, 24),
    }
}

crate::mailbox_layout! {
    /// PortInfo (attribute 0x0015), in the SMP data.
    PortInfo, 64, {
        m_key: u64 = (0x00, 0, 64),
        /// The subnet prefix of the port's GIDs.
        gid_prefix: u64 = (0x08, 0, 64),
        /// 0 until a subnet manager assigns one.
        lid: u16 = (0x10, 0, 16),
        master_sm_lid: u16 = (0x12, 0, 16),
        capability_mask: u32 = (0x14, 0, 32),
        diag_code: u16 = (0x18, 0, 16),
        m_key_lease_period: u16 = (0x1a, 0, 16),
        local_port_num: u8 = (0x1c, 0, 8),
        /// Widths: 1 = 1x, 2 = 4x (bit masks).
        link_width_enabled: u8 = (0x1d, 0, 8),
        link_width_supported: u8 = (0x1e, 0, 8),
        link_width_active: u8 = (0x1f, 0, 8),
        /// Speeds supported: 7 = 2.5, 5 and 10 Gb/s per lane.
        link_speed_supported: u8 = (0x20, 4, 4),
        /// 1 Down, 2 Init, 3 Armed, 4 Active.
        port_state: u8 = (0x20, 0, 4),
        /// 2 Polling, 5 LinkUp.
        port_phys_state: u8 = (0x21, 4, 4),
        link_down_default_state: u8 = (0x21, 0, 4),
        m_key_protect_bits: u8 = (0x22, 6, 2),
        lmc: u8 = (0x22, 0, 3),
        /// 1 = 2.5, 2 = 5, 4 = 10 Gb/s per lane.
        link_speed_active: u8 = (0x23, 4, 4),
        link_speed_enabled: u8 = (0x23, 0, 4),
        /// Active MTU (5 = 4096).
        neighbor_mtu: u8 = (0x24, 4, 4),
        master_sm_sl: u8 = (0x24, 0, 4),
        /// 1 = VL0.
        vl_cap: u8 = (0x25, 4, 4),
        init_type: u8 = (0x25, 0, 4),
        vl_high_limit: u8 = (0x26, 0, 8),
        vl_arb_high_cap: u8 = (0x27, 0, 8),
        vl_arb_low_cap: u8 = (0x28, 0, 8),
        init_type_reply: u8 = (0x29, 4, 4),
        /// Largest MTU (5 = 4096).
        mtu_cap: u8 = (0x29, 0, 4),
        vl_stall_count: u8 = (0x2a, 5, 3),
        hoq_life: u8 = (0x2a, 0, 5),
        operational_vls: u8 = (0x2b, 4, 4),
        m_key_violations: u16 = (0x2c, 0, 16),
        p_key_violations: u16 = (0x2e, 0, 16),
        q_key_violations: u16 = (0x30, 0, 16),
        /// GID table entries.
        guid_cap: u8 = (0x32, 0, 8),
        client_reregister: bool = (0x33, 7, 1),
        subnet_timeout: u8 = (0x33, 0, 5),
        resp_time_value: u8 = (0x34, 0, 5),
    }
}
