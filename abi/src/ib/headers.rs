//! The routing and base transport headers of an InfiniBand packet (IBTA
//! vol. 1, ch. 7 and 9): the Local Route Header, the Global Route Header
//! and the Base Transport Header, each defined once as big-endian fields.

crate::mailbox_layout! {
    /// The Local Route Header (8 bytes), first in every packet on the wire.
    Lrh, 8, {
        /// Virtual lane (15 is the management lane QP0's SMPs travel on).
        vl: u8 = (0x00, 4, 4),
        /// Link version: 0.
        lver: u8 = (0x00, 0, 4),
        /// Service level.
        sl: u8 = (0x01, 4, 4),
        /// Link next header ([`lnh`]): what follows the LRH.
        lnh: u8 = (0x01, 0, 2),
        /// Destination LID.
        dlid: u16 = (0x02, 0, 16),
        /// Packet length in 4-byte words, from the LRH through the ICRC
        /// (the VCRC not counted).
        pkt_len: u16 = (0x04, 0, 11),
        /// Source LID.
        slid: u16 = (0x06, 0, 16),
    }
}

/// The LRH's link-next-header codes.
pub mod lnh {
    /// Raw packet (no IBA transport).
    pub const RAW: u8 = 0;
    /// Raw IPv6.
    pub const IP_NON_IBA: u8 = 1;
    /// IBA local: a BTH follows the LRH.
    pub const LOCAL: u8 = 2;
    /// IBA global: a GRH, then a BTH, follow the LRH.
    pub const GLOBAL: u8 = 3;
}

crate::mailbox_layout! {
    /// The Global Route Header (40 bytes), after the LRH when `lnh` is
    /// GLOBAL: an IPv6 header in all but name.
    Grh, 40, {
        /// IP version: 6.
        ip_ver: u8 = (0x00, 4, 4),
        /// Traffic class.
        tclass: u16 = (0x00, 4, 8),
        /// Flow label.
        flow_label: u32 = (0x00, 0, 20),
        /// Bytes after the GRH through the ICRC.
        pay_len: u16 = (0x04, 0, 16),
        /// Next header: 0x1b, an IBA transport header.
        nxt_hdr: u8 = (0x06, 0, 8),
        /// Hop limit.
        hop_lmt: u8 = (0x07, 0, 8),
        /// Source GID, high and low halves.
        sgid_hi: u64 = (0x08, 0, 64),
        sgid_lo: u64 = (0x10, 0, 64),
        /// Destination GID, high and low halves.
        dgid_hi: u64 = (0x18, 0, 64),
        dgid_lo: u64 = (0x20, 0, 64),
    }
}

/// The GRH's next header for an IBA transport header.
pub const GRH_NXT_HDR_IBA: u8 = 0x1b;

/// A 128-bit GID, as the wire carries it.
pub type Gid = [u8; 16];

fn halves(g: &Gid) -> (u64, u64) {
    let hi = u64::from_be_bytes(g[..8].try_into().expect("8 bytes"));
    let lo = u64::from_be_bytes(g[8..].try_into().expect("8 bytes"));
    (hi, lo)
}

fn join(hi: u64, lo: u64) -> Gid {
    let mut g = [0u8; 16];
    g[..8].copy_from_slice(&hi.to_be_bytes());
    g[8..].copy_from_slice(&lo.to_be_bytes());
    g
}

impl Grh {
    pub fn sgid(&self) -> Gid {
        join(self.sgid_hi, self.sgid_lo)
    }
    pub fn dgid(&self) -> Gid {
        join(self.dgid_hi, self.dgid_lo)
    }
    pub fn set_sgid(&mut self, g: &Gid) {
        (self.sgid_hi, self.sgid_lo) = halves(g);
    }
    pub fn set_dgid(&mut self, g: &Gid) {
        (self.dgid_hi, self.dgid_lo) = halves(g);
    }
}

crate::mailbox_layout! {
    /// The Base Transport Header (12 bytes), in every IBA transport packet.
    Bth, 12, {
        /// The transport opcode ([`super::opcode`]).
        opcode: u8 = (0x00, 0, 8),
        /// Solicited event.
        se: bool = (0x01, 7, 1),
        /// Migration request.
        mig_req: bool = (0x01, 6, 1),
        /// Pad bytes (0..3) after the payload, bringing it to 4-byte words.
        pad_cnt: u8 = (0x01, 4, 2),
        /// Transport header version: 0.
        tver: u8 = (0x01, 0, 4),
        /// Partition key.
        pkey: u16 = (0x02, 0, 16),
        /// Reserved byte (resv8a; FECN and BECN in later releases): 0 on
        /// send, ignored on receive, all ones in the ICRC.
        resv8a: u8 = (0x04, 0, 8),
        /// Destination QP.
        dest_qp: u32 = (0x04, 0, 24),
        /// Acknowledge request.
        ack_req: bool = (0x08, 7, 1),
        /// Packet sequence number.
        psn: u32 = (0x08, 0, 24),
    }
}

/// The default partition key (full membership of the default partition).
pub const DEFAULT_PKEY: u16 = 0xffff;
/// The permissive LID: delivered to whichever port receives it.
/// The management virtual lane: QP0's SMPs, and nothing else.
pub const VL15: u8 = 15;
/// QP1's well-known Q_Key (every GMP carries it).
pub const GSI_QKEY: u32 = 0x8001_0000;
pub const PERMISSIVE_LID: u16 = 0xffff;
/// LIDs 0xc000..0xfffe are multicast.
pub const MULTICAST_LID_BASE: u16 = 0xc000;

/// Whether a DLID names a multicast group.
pub fn is_multicast_lid(lid: u16) -> bool {
    (MULTICAST_LID_BASE..PERMISSIVE_LID).contains(&lid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_fit_and_share_only_where_meant() {
        crate::mailbox::check(Lrh::FIELDS, Lrh::SIZE, &[]).unwrap();
        crate::mailbox::check(Grh::FIELDS, Grh::SIZE, &[]).unwrap();
        crate::mailbox::check(Bth::FIELDS, Bth::SIZE, &[]).unwrap();
    }

    #[test]
    fn fields_land_where_the_ibta_puts_them() {
        let l = Lrh {
            vl: 0xf,
            sl: 3,
            lnh: lnh::GLOBAL,
            dlid: 0x1234,
            pkt_len: 0x7ff,
            slid: 0xabcd,
            ..Default::default()
        };
        assert_eq!(l.encode(), [0xf0, 0x33, 0x12, 0x34, 0x07, 0xff, 0xab, 0xcd]);
        let b = Bth {
            opcode: 0x64,
            se: true,
            pad_cnt: 3,
            pkey: 0xffff,
            dest_qp: 0x00_0102,
            ack_req: true,
            psn: 0xab_cdef,
            ..Default::default()
        };
        assert_eq!(
            b.encode(),
            [0x64, 0xb0, 0xff, 0xff, 0, 0, 1, 2, 0x80, 0xab, 0xcd, 0xef]
        );
        assert_eq!(Bth::decode(&b.encode()), b);
        let mut g = Grh {
            ip_ver: 6,
            tclass: 0xa5,
            flow_label: 0xf_1234,
            pay_len: 0x100,
            nxt_hdr: GRH_NXT_HDR_IBA,
            hop_lmt: 64,
            ..Default::default()
        };
        let gid: Gid = core::array::from_fn(|i| i as u8);
        g.set_dgid(&gid);
        let e = g.encode();
        assert_eq!(&e[..8], &[0x6a, 0x5f, 0x12, 0x34, 0x01, 0x00, 0x1b, 64]);
        assert_eq!(&e[24..40], &gid);
        assert_eq!(Grh::decode(&e).dgid(), gid);
    }
}
