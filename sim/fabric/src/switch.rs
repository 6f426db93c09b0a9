//! A switch: ports 1..=N (port 0 is its management port, not a link),
//! unicast forwarding by DLID through a linear forwarding table, multicast
//! through a multicast forwarding table of port masks, and the link-level
//! checks a switch makes on a packet it receives (length, VCRC). The
//! subnet manager fills the tables; until it has, a switch forwards
//! nothing.

use hca_abi::ib::crc;
use hca_abi::ib::headers::{is_multicast_lid, Lrh, MULTICAST_LID_BASE, PERMISSIVE_LID};
use std::collections::BTreeMap;

/// Why a switch dropped a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SwitchDrop {
    /// Shorter than an LRH and a VCRC, or not as long as its PktLen says.
    BadLength,
    BadVcrc,
    /// No forwarding entry for the DLID (or it names the ingress port).
    NoRoute,
    /// DLID 0 (reserved) or the permissive LID, which only SMPs on QP0
    /// of a directly attached port may carry.
    BadDlid,
}

impl SwitchDrop {
    pub fn name(self) -> &'static str {
        match self {
            SwitchDrop::BadLength => "bad_length",
            SwitchDrop::BadVcrc => "bad_vcrc",
            SwitchDrop::NoRoute => "no_route",
            SwitchDrop::BadDlid => "bad_dlid",
        }
    }
}

/// One switch.
#[derive(Clone, Debug)]
pub struct Switch {
    pub name: String,
    pub ports: u8,
    /// Linear forwarding table: DLID → egress port.
    lft: BTreeMap<u16, u8>,
    /// Multicast forwarding table: MLID → egress ports (bit k = port k).
    mft: BTreeMap<u16, u64>,
    pub drops: BTreeMap<SwitchDrop, u64>,
    pub forwarded: u64,
}

impl Switch {
    pub fn new(name: &str, ports: u8) -> Switch {
        Switch {
            name: name.to_string(),
            ports: ports.min(63),
            lft: BTreeMap::new(),
            mft: BTreeMap::new(),
            drops: BTreeMap::new(),
            forwarded: 0,
        }
    }

    /// Route unicast `lid` out of `port` (0 removes the entry).
    pub fn set_route(&mut self, lid: u16, port: u8) -> Result<(), String> {
        if lid == 0 || lid >= MULTICAST_LID_BASE {
            return Err(format!("LID {lid:#x} is not a unicast LID"));
        }
        if port > self.ports {
            return Err(format!("{} has no port {port}", self.name));
        }
        if port == 0 {
            self.lft.remove(&lid);
        } else {
            self.lft.insert(lid, port);
        }
        Ok(())
    }

    /// Send multicast `mlid` out of every port in `mask` (bit k: port k).
    pub fn set_multicast(&mut self, mlid: u16, mask: u64) -> Result<(), String> {
        if !is_multicast_lid(mlid) {
            return Err(format!("LID {mlid:#x} is not a multicast LID"));
        }
        if mask >> (self.ports as u32 + 1) != 0 || mask & 1 != 0 {
            return Err(format!(
                "port mask {mask:#x} names ports {} lacks",
                self.name
            ));
        }
        if mask == 0 {
            self.mft.remove(&mlid);
        } else {
            self.mft.insert(mlid, mask);
        }
        Ok(())
    }

    pub fn route(&self, lid: u16) -> Option<u8> {
        self.lft.get(&lid).copied()
    }

    fn drop(&mut self, why: SwitchDrop) -> Vec<u8> {
        *self.drops.entry(why).or_default() += 1;
        Vec::new()
    }

    /// The link-level checks of a packet arriving at the switch: its LRH,
    /// or None when it was dropped (and counted).
    pub fn link_check(&mut self, packet: &[u8]) -> Option<Lrh> {
        let n = packet.len();
        if n < Lrh::SIZE + crc::VCRC_BYTES {
            self.drop(SwitchDrop::BadLength);
            return None;
        }
        let lrh = Lrh::decode(packet);
        if lrh.pkt_len as usize * 4 + crc::VCRC_BYTES != n {
            self.drop(SwitchDrop::BadLength);
            return None;
        }
        let v = u16::from_le_bytes([packet[n - 2], packet[n - 1]]);
        if crc::vcrc(&packet[..n - 2]) != v {
            self.drop(SwitchDrop::BadVcrc);
            return None;
        }
        Some(lrh)
    }

    /// The ports a packet arriving on `ingress` leaves by (none: dropped,
    /// and counted).
    pub fn forward(&mut self, ingress: u8, packet: &[u8]) -> Vec<u8> {
        let Some(lrh) = self.link_check(packet) else {
            return Vec::new();
        };
        self.route_checked(ingress, &lrh)
    }

    /// Where a packet whose link checks passed goes.
    pub fn route_checked(&mut self, ingress: u8, lrh: &Lrh) -> Vec<u8> {
        let out: Vec<u8> = if lrh.dlid == 0 || lrh.dlid == PERMISSIVE_LID {
            return self.drop(SwitchDrop::BadDlid);
        } else if is_multicast_lid(lrh.dlid) {
            let mask = self.mft.get(&lrh.dlid).copied().unwrap_or(0);
            (1..=self.ports)
                .filter(|p| mask >> p & 1 != 0 && *p != ingress)
                .collect()
        } else {
            self.route(lrh.dlid)
                .filter(|p| *p != ingress)
                .into_iter()
                .collect()
        };
        if out.is_empty() {
            return self.drop(SwitchDrop::NoRoute);
        }
        self.forwarded += 1;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hca_abi::ib::{Headers, Packet};

    fn to(dlid: u16) -> Vec<u8> {
        Packet {
            h: Headers {
                lrh: Lrh {
                    dlid,
                    slid: 1,
                    ..Default::default()
                },
                bth: hca_abi::ib::Bth {
                    opcode: hca_abi::ib::opcode::UD_SEND_ONLY,
                    ..Default::default()
                },
                ..Default::default()
            },
            payload: vec![1, 2, 3],
        }
        .encode()
    }

    #[test]
    fn unicast_follows_the_lft_and_multicast_the_mft() {
        let mut s = Switch::new("sw", 4);
        s.set_route(5, 2).unwrap();
        s.set_multicast(0xc001, 0b1_1110).unwrap();
        assert_eq!(s.forward(1, &to(5)), vec![2]);
        assert_eq!(s.forward(2, &to(5)), Vec::<u8>::new(), "not back out");
        assert_eq!(s.forward(3, &to(0xc001)), vec![1, 2, 4]);
        assert_eq!(s.forward(1, &to(6)), Vec::<u8>::new());
        assert_eq!(s.drops[&SwitchDrop::NoRoute], 2);
        assert_eq!(s.forwarded, 2);
    }

    #[test]
    fn link_errors_are_dropped_by_reason() {
        let mut s = Switch::new("sw", 2);
        s.set_route(5, 2).unwrap();
        let mut p = to(5);
        p[20] ^= 4;
        assert!(s.forward(1, &p).is_empty());
        assert!(s.forward(1, &to(5)[..20]).is_empty());
        assert!(s.forward(1, &to(0)).is_empty());
        assert!(s.forward(1, &[]).is_empty());
        assert_eq!(s.drops[&SwitchDrop::BadVcrc], 1);
        assert_eq!(s.drops[&SwitchDrop::BadLength], 2);
        assert_eq!(s.drops[&SwitchDrop::BadDlid], 1);
    }

    #[test]
    fn tables_refuse_what_the_switch_cannot_do() {
        let mut s = Switch::new("sw", 2);
        assert!(s.set_route(0xc000, 1).is_err());
        assert!(s.set_route(3, 3).is_err());
        assert!(s.set_multicast(7, 2).is_err());
        assert!(s.set_multicast(0xc000, 1 << 3).is_err());
    }
}
