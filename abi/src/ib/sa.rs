//! Subnet administration (IBTA vol. 1, 15.2): the SA MAD (class 0x03,
//! version 2) and the two records IPoIB and the connection manager ask
//! for, PathRecord and MCMemberRecord, each defined once. The fabric's SA
//! answers them; the driver's SA client asks.

/// The SA's management class and version.
pub const CLASS_SUBN_ADM: u8 = 0x03;
pub const CLASS_VERSION: u8 = 2;

pub mod method {
    pub const GET: u8 = 0x01;
    pub const SET: u8 = 0x02;
    pub const GET_RESP: u8 = 0x81;
    pub const GET_TABLE: u8 = 0x12;
    pub const DELETE: u8 = 0x15;
    pub const DELETE_RESP: u8 = 0x95;
}

pub mod attr {
    pub const CLASS_PORT_INFO: u16 = 0x0001;
    pub const PATH_RECORD: u16 = 0x0035;
    pub const MC_MEMBER_RECORD: u16 = 0x0038;
}

/// SA status codes (the class-specific bits 15..8 of the MAD status).
pub mod status {
    pub const NO_RESOURCES: u16 = 1 << 8;
    pub const REQ_INVALID: u16 = 2 << 8;
    pub const NO_RECORDS: u16 = 3 << 8;
    pub const REQ_INVALID_GID: u16 = 5 << 8;
    pub const INSUFFICIENT_COMPONENTS: u16 = 6 << 8;
    /// The common status "method/attribute combination not supported".
    pub const UNSUPPORTED: u16 = 0x000c;
}

/// Where the record starts in an SA MAD, and the bytes it may take.
pub const DATA: usize = 56;

/// ClassPortInfo (IBTA vol. 1, 13.4.8.1) of an SA that redirects nothing
/// and sends no traps: base and class version, no optional capability
/// (neither CapabilityMask nor CapabilityMask2), the response time
/// 4.096 us x 2^`resp_time` (5 bits), every redirect and trap field 0.
/// 72 bytes, for the SA MAD's data area.
pub fn class_port_info(resp_time: u8) -> [u8; 72] {
    let mut b = [0u8; 72];
    b[0] = 1;
    b[1] = CLASS_VERSION;
    // CapabilityMask2 (27 bits) then RespTimeValue (5 bits).
    b[4..8].copy_from_slice(&u32::from(resp_time & 0x1f).to_be_bytes());
    b
}
pub const DATA_BYTES: usize = 200;
/// The Q_Key IPoIB's broadcast group carries on every fabric opensm
/// brings up (its default).
pub const IPOIB_QKEY: u32 = 0x0000_0b1b;

crate::mailbox_layout! {
    /// The SA MAD's header beyond the common one: RMPP, SM_Key, the
    /// attribute offset and the component mask (bytes 24..56).
    SaHeader, 56, {
        base_version: u8 = (0x00, 0, 8),
        mgmt_class: u8 = (0x01, 0, 8),
        class_version: u8 = (0x02, 0, 8),
        method: u8 = (0x03, 0, 8),
        status: u16 = (0x04, 0, 16),
        tid: u64 = (0x08, 0, 64),
        attr_id: u16 = (0x10, 0, 16),
        attr_mod: u32 = (0x14, 0, 32),
        rmpp_version: u8 = (0x18, 0, 8),
        rmpp_type: u8 = (0x19, 0, 8),
        rmpp_flags: u8 = (0x1a, 0, 8),
        sm_key: u64 = (0x24, 0, 64),
        /// The record size in 8-byte words (GetTable answers).
        attr_offset: u16 = (0x2c, 0, 16),
        component_mask: u64 = (0x30, 0, 64),
    }
}

crate::mailbox_layout! {
    /// PathRecord (64 bytes). The GIDs are at 8 (DGID) and 24 (SGID).
    PathRecord, 64, {
        service_id: u64 = (0x00, 0, 64),
        dlid: u16 = (0x28, 0, 16),
        slid: u16 = (0x2a, 0, 16),
        raw_traffic: bool = (0x2c, 7, 1),
        flow_label: u32 = (0x2c, 8, 20),
        hop_limit: u8 = (0x2f, 0, 8),
        tclass: u8 = (0x30, 0, 8),
        reversible: bool = (0x31, 7, 1),
        numb_path: u8 = (0x31, 0, 7),
        pkey: u16 = (0x32, 0, 16),
        qos_class: u16 = (0x34, 4, 12),
        sl: u8 = (0x35, 0, 4),
        mtu_selector: u8 = (0x36, 6, 2),
        mtu: u8 = (0x36, 0, 6),
        rate_selector: u8 = (0x37, 6, 2),
        rate: u8 = (0x37, 0, 6),
        packet_life_selector: u8 = (0x38, 6, 2),
        packet_life: u8 = (0x38, 0, 6),
        preference: u8 = (0x39, 0, 8),
    }
}

/// PathRecord's component mask bits (the fields a query names).
pub mod path_comp {
    pub const DGID: u64 = 1 << 2;
    pub const SGID: u64 = 1 << 3;
    pub const DLID: u64 = 1 << 4;
    pub const SLID: u64 = 1 << 5;
    pub const PKEY: u64 = 1 << 13;
}

crate::mailbox_layout! {
    /// MCMemberRecord (52 bytes). The MGID is at 0, the port GID at 16.
    McMemberRecord, 52, {
        qkey: u32 = (0x20, 0, 32),
        mlid: u16 = (0x24, 0, 16),
        mtu_selector: u8 = (0x26, 6, 2),
        mtu: u8 = (0x26, 0, 6),
        tclass: u8 = (0x27, 0, 8),
        pkey: u16 = (0x28, 0, 16),
        rate_selector: u8 = (0x2a, 6, 2),
        rate: u8 = (0x2a, 0, 6),
        packet_life_selector: u8 = (0x2b, 6, 2),
        packet_life: u8 = (0x2b, 0, 6),
        sl: u8 = (0x2c, 4, 4),
        flow_label: u32 = (0x2c, 8, 20),
        hop_limit: u8 = (0x2f, 0, 8),
        scope: u8 = (0x30, 4, 4),
        join_state: u8 = (0x30, 0, 4),
        proxy_join: bool = (0x31, 7, 1),
    }
}

/// MCMemberRecord's component mask bits.
pub mod mc_comp {
    pub const MGID: u64 = 1 << 0;
    pub const PORT_GID: u64 = 1 << 1;
    pub const QKEY: u64 = 1 << 2;
    pub const MLID: u64 = 1 << 3;
    pub const MTU: u64 = 1 << 5;
    pub const TCLASS: u64 = 1 << 6;
    pub const PKEY: u64 = 1 << 7;
    pub const RATE: u64 = 1 << 9;
    pub const SL: u64 = 1 << 12;
    pub const FLOW_LABEL: u64 = 1 << 13;
    pub const HOP_LIMIT: u64 = 1 << 14;
    pub const JOIN_STATE: u64 = 1 << 16;
    /// What a join must name to create a group (IBTA C15-0.2.4 as opensm
    /// applies it).
    pub const CREATE: u64 = MGID | PORT_GID | QKEY | PKEY | SL | FLOW_LABEL | TCLASS | JOIN_STATE;
}

/// JoinState bits.
pub mod join {
    pub const FULL: u8 = 1;
    pub const NON: u8 = 2;
    pub const SEND_ONLY: u8 = 4;
}

/// A 16-byte GID at `at` in `b`.
pub fn gid_at(b: &[u8], at: usize) -> [u8; 16] {
    let mut g = [0u8; 16];
    if let Some(s) = b.get(at..at + 16) {
        g.copy_from_slice(s);
    }
    g
}

/// Write a GID at `at` in `b`.
pub fn set_gid(b: &mut [u8], at: usize, g: &[u8; 16]) {
    b[at..at + 16].copy_from_slice(g);
}

/// PathRecord's DGID and SGID offsets; MCMemberRecord's MGID and port GID.
pub const PATH_DGID: usize = 8;
pub const PATH_SGID: usize = 24;
pub const MC_MGID: usize = 0;
pub const MC_PORT_GID: usize = 16;

/// An SA MAD: the header, then the record at [`DATA`].
pub fn mad(h: &SaHeader, record: &[u8]) -> Vec<u8> {
    let mut m = vec![0u8; crate::cmd::mad::MAD_BYTES];
    m[..SaHeader::SIZE].copy_from_slice(&h.encode());
    let n = record.len().min(DATA_BYTES);
    m[DATA..DATA + n].copy_from_slice(&record[..n]);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::check;

    #[test]
    fn record_layouts_are_sound() {
        check(SaHeader::FIELDS, SaHeader::SIZE, &[]).unwrap();
        check(PathRecord::FIELDS, PathRecord::SIZE, &[]).unwrap();
        check(McMemberRecord::FIELDS, McMemberRecord::SIZE, &[]).unwrap();
    }

    #[test]
    fn fields_land_where_the_ibta_puts_them() {
        let p = PathRecord {
            dlid: 0x1234,
            mtu: 5,
            mtu_selector: 2,
            sl: 3,
            ..Default::default()
        }
        .encode();
        assert_eq!(&p[0x28..0x2a], &[0x12, 0x34]);
        assert_eq!(p[0x36], 0x85);
        assert_eq!(p[0x35] & 0xf, 3);
        let m = McMemberRecord {
            join_state: join::FULL,
            sl: 2,
            qkey: IPOIB_QKEY,
            ..Default::default()
        }
        .encode();
        assert_eq!(m[0x30], 1);
        assert_eq!(m[0x2c] >> 4, 2);
        assert_eq!(&m[0x20..0x24], &[0, 0, 0x0b, 0x1b]);
    }
}
