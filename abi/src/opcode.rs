//! mlx4 command opcodes (the enum in include/linux/mlx4/cmd.h), by number
//! and name,
//! so a trace names every command a driver posts, implemented or not.

/// Every opcode mlx4 defines, with its name.
pub const OPCODES: &[(u16, &str)] = &[
    (0x001, "SYS_EN"),
    (0x002, "SYS_DIS"),
    (0x003, "QUERY_DEV_CAP"),
    (0x004, "QUERY_FW"),
    (0x005, "QUERY_DDR"),
    (0x006, "QUERY_ADAPTER"),
    (0x007, "INIT_HCA"),
    (0x008, "CLOSE_HCA"),
    (0x009, "INIT_PORT"),
    (0x00a, "CLOSE_PORT"),
    (0x00b, "QUERY_HCA"),
    (0x00c, "SET_PORT"),
    (0x00d, "SW2HW_MPT"),
    (0x00e, "QUERY_MPT"),
    (0x00f, "HW2SW_MPT"),
    (0x010, "READ_MTT"),
    (0x011, "WRITE_MTT"),
    (0x012, "MAP_EQ"),
    (0x013, "SW2HW_EQ"),
    (0x014, "HW2SW_EQ"),
    (0x015, "QUERY_EQ"),
    (0x016, "SW2HW_CQ"),
    (0x017, "HW2SW_CQ"),
    (0x018, "QUERY_CQ"),
    (0x019, "RST2INIT_QP"),
    (0x01a, "INIT2RTR_QP"),
    (0x01b, "RTR2RTS_QP"),
    (0x01c, "RTS2RTS_QP"),
    (0x01d, "SQERR2RTS_QP"),
    (0x01e, "2ERR_QP"),
    (0x01f, "RTS2SQD_QP"),
    (0x020, "SQD2RTS_QP"),
    (0x021, "2RST_QP"),
    (0x022, "QUERY_QP"),
    (0x023, "CONF_SPECIAL_QP"),
    (0x024, "MAD_IFC"),
    (0x025, "READ_MCG"),
    (0x026, "WRITE_MCG"),
    (0x027, "MGID_HASH"),
    (0x02a, "QUERY_DEBUG_MSG"),
    (0x02b, "SET_DEBUG_MSG"),
    (0x02c, "MODIFY_CQ"),
    (0x02d, "INIT2INIT_QP"),
    (0x02e, "ACCESS_DDR/ACCESS_MEM"),
    (0x02f, "SYNC_TPT"),
    (0x030, "DIAG_RPRT"),
    (0x031, "NOP"),
    (0x032, "SUSPEND_QP"),
    (0x033, "UNSUSPEND_QP"),
    (0x034, "MOD_STAT_CFG"),
    (0x035, "SW2HW_SRQ"),
    (0x036, "HW2SW_SRQ"),
    (0x037, "QUERY_SRQ"),
    (0x038, "SQD2SQD_QP"),
    (0x03a, "CONFIG_DEV"),
    (0x03b, "ACCESS_REG"),
    (0x040, "ARM_SRQ"),
    (0x043, "QUERY_PORT"),
    (0x047, "SET_VLAN_FLTR"),
    (0x048, "SET_MCAST_FLTR"),
    (0x049, "DUMP_ETH_STATS"),
    (0x04d, "SENSE_PORT"),
    (0x050, "HW_HEALTH_CHECK"),
    (0x052, "SET_VEP"),
    (0x054, "QUERY_IF_STAT"),
    (0x055, "SET_IF_STAT"),
    (0x056, "QUERY_FUNC"),
    (0x057, "ARM_COMM_CHANNEL"),
    (0x058, "GEN_EQE"),
    (0x059, "GET_OP_REQ"),
    (0x05a, "SET_NODE"),
    (0x05b, "INFORM_FLR_DONE"),
    (0x05c, "VIRT_PORT_MAP"),
    (0x061, "UPDATE_QP"),
    (0x068, "CONGESTION_CTRL_OPCODE"),
    (0x080, "ALLOCATE_VPP"),
    (0x081, "SET_VPORT_QOS"),
    (0x203, "MAD_DEMUX"),
    (0xf00, "ALLOC_RES"),
    (0xf01, "FREE_RES"),
    (0xf05, "MCAST_ATTACH"),
    (0xf06, "UCAST_ATTACH"),
    (0xf08, "PROMISC"),
    (0xf0a, "QUERY_FUNC_CAP"),
    (0xf0b, "QP_ATTACH"),
    (0xff6, "RUN_FW"),
    (0xff7, "DISABLE_LAM"),
    (0xff8, "ENABLE_LAM"),
    (0xff9, "UNMAP_ICM"),
    (0xffa, "MAP_ICM"),
    (0xffb, "UNMAP_ICM_AUX"),
    (0xffc, "MAP_ICM_AUX"),
    (0xffd, "SET_ICM_SIZE"),
    (0xffe, "UNMAP_FA"),
    (0xfff, "MAP_FA"),
];

pub const QUERY_DEV_CAP: u16 = 0x003;
pub const QUERY_FW: u16 = 0x004;
pub const QUERY_ADAPTER: u16 = 0x006;
pub const INIT_HCA: u16 = 0x007;
pub const CLOSE_HCA: u16 = 0x008;
pub const QUERY_HCA: u16 = 0x00b;
pub const INIT_PORT: u16 = 0x009;
pub const CLOSE_PORT: u16 = 0x00a;
pub const SET_PORT: u16 = 0x00c;
pub const SW2HW_MPT: u16 = 0x00d;
pub const QUERY_MPT: u16 = 0x00e;
pub const HW2SW_MPT: u16 = 0x00f;
pub const SYNC_TPT: u16 = 0x02f;
pub const WRITE_MTT: u16 = 0x011;
pub const MODIFY_CQ: u16 = 0x02c;
pub const RST2INIT_QP: u16 = 0x019;
pub const INIT2RTR_QP: u16 = 0x01a;
pub const RTR2RTS_QP: u16 = 0x01b;
pub const RTS2RTS_QP: u16 = 0x01c;
pub const SQERR2RTS_QP: u16 = 0x01d;
/// 2ERR_QP.
pub const TO_ERR_QP: u16 = 0x01e;
pub const RTS2SQD_QP: u16 = 0x01f;
pub const SQD2RTS_QP: u16 = 0x020;
/// 2RST_QP.
pub const TO_RST_QP: u16 = 0x021;
pub const QUERY_QP: u16 = 0x022;
pub const INIT2INIT_QP: u16 = 0x02d;
pub const SQD2SQD_QP: u16 = 0x038;
pub const CONF_SPECIAL_QP: u16 = 0x023;
pub const SW2HW_SRQ: u16 = 0x035;
pub const HW2SW_SRQ: u16 = 0x036;
pub const QUERY_SRQ: u16 = 0x037;
pub const ARM_SRQ: u16 = 0x040;
pub const MAD_IFC: u16 = 0x024;
pub const READ_MCG: u16 = 0x025;
pub const WRITE_MCG: u16 = 0x026;
pub const MGID_HASH: u16 = 0x027;
pub const DIAG_RPRT: u16 = 0x030;
pub const MAP_EQ: u16 = 0x012;
pub const SW2HW_EQ: u16 = 0x013;
pub const HW2SW_EQ: u16 = 0x014;
pub const SW2HW_CQ: u16 = 0x016;
pub const HW2SW_CQ: u16 = 0x017;
pub const NOP: u16 = 0x031;
pub const MOD_STAT_CFG: u16 = 0x034;
pub const QUERY_PORT: u16 = 0x043;
pub const RUN_FW: u16 = 0xff6;
pub const UNMAP_ICM: u16 = 0xff9;
pub const MAP_ICM: u16 = 0xffa;
pub const UNMAP_ICM_AUX: u16 = 0xffb;
pub const MAP_ICM_AUX: u16 = 0xffc;
pub const SET_ICM_SIZE: u16 = 0xffd;
pub const UNMAP_FA: u16 = 0xffe;
pub const MAP_FA: u16 = 0xfff;

/// The name of an opcode, or `UNKNOWN`.
pub fn name(op: u16) -> &'static str {
    OPCODES
        .iter()
        .find(|(c, _)| *c == op)
        .map(|(_, n)| *n)
        .unwrap_or("UNKNOWN")
}
