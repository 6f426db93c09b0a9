//! The subnet administrator (IBTA vol. 1, 15.4) beside the subnet
//! manager: ClassPortInfo Get (which Linux's ib_sa asks once a port is
//! ACTIVE), PathRecord Get between two ports the SM has given LIDs, and
//! MCMemberRecord Set (join) and Delete (leave), with the groups' member
//! ports turned into the switch's multicast forwarding table. IPoIB's
//! broadcast group of the default partition exists from the start, as
//! opensm creates it.
//!
//! What it does not do: GetTable and RMPP (answers of more than one
//! record), ServiceRecord, InformInfo, partitions other than the default
//! one, QoS. An unsupported method or attribute is answered with the
//! class's "not supported" status.

use hca_abi::cmd::mad::MAD_BYTES;
use hca_abi::ib::headers::{Gid, DEFAULT_PKEY};
use hca_abi::ib::sa::{
    self, attr, join, mc_comp, method, path_comp, status, McMemberRecord, PathRecord, SaHeader,
};
use std::collections::BTreeMap;

/// What the SA knows of the subnet from the SM.
pub trait Directory {
    /// The subnet prefix every port's GID carries.
    fn prefix(&self) -> u64;
    /// The LID of the port whose GUID is `guid`.
    fn lid_of(&self, guid: u64) -> Option<u16>;
    /// The switch port the port with LID `lid` hangs on.
    fn switch_port_of(&self, lid: u16) -> Option<u8>;
    /// The active MTU code of the port with LID `lid` (5 = 4096).
    fn mtu_of(&self, lid: u16) -> Option<u8>;
}

/// The first MLID the SA hands out; the broadcast group takes it.
pub const MLID_BASE: u16 = 0xc000;
/// Rate code 7: 40 Gb/s, the 4X QDR links the fabric models.
pub const RATE_40G: u8 = 7;
/// opensm's default packet life time (code 18).
pub const PACKET_LIFE: u8 = 0x12;
/// The selector meaning "exactly".
const EXACTLY: u8 = 2;
/// ClassPortInfo's RespTimeValue: 4.096 us x 2^18, about 1 s (the
/// SubnetTimeout the SM sets, opensm's default).
const RESP_TIME: u8 = 18;

/// IPoIB's IPv4 broadcast group in the default partition
/// (ff12:401b:ffff::ffff:ffff, RFC 4391 section 4).
pub fn ipoib_broadcast() -> Gid {
    let mut g = [0u8; 16];
    g[..4].copy_from_slice(&[0xff, 0x12, 0x40, 0x1b]);
    g[4..6].copy_from_slice(&DEFAULT_PKEY.to_be_bytes());
    g[12..].copy_from_slice(&[0xff; 4]);
    g
}

/// One multicast group.
#[derive(Clone, Debug)]
struct Group {
    rec: McMemberRecord,
    /// Member port GIDs and their join states.
    members: BTreeMap<Gid, u8>,
    /// Kept when its last member leaves (the broadcast group).
    permanent: bool,
}

#[derive(Debug)]
pub struct SubnetAdmin {
    groups: BTreeMap<Gid, Group>,
    next_mlid: u16,
    pub counters: BTreeMap<&'static str, u64>,
}

impl Default for SubnetAdmin {
    fn default() -> Self {
        Self::new()
    }
}

/// An answer MAD: the request's header turned into its response.
fn answer(req: &SaHeader, m: u8, st: u16, record: &[u8]) -> Vec<u8> {
    let h = SaHeader {
        method: m,
        status: st,
        attr_offset: if record.is_empty() {
            0
        } else {
            (record.len() / 8) as u16
        },
        component_mask: req.component_mask,
        ..*req
    };
    sa::mad(&h, record)
}

impl SubnetAdmin {
    pub fn new() -> SubnetAdmin {
        let mut sa = SubnetAdmin {
            groups: BTreeMap::new(),
            next_mlid: MLID_BASE,
            counters: BTreeMap::new(),
        };
        let rec = McMemberRecord {
            qkey: sa::IPOIB_QKEY,
            mlid: sa.alloc_mlid(),
            mtu_selector: EXACTLY,
            mtu: 5,
            pkey: DEFAULT_PKEY,
            rate_selector: EXACTLY,
            rate: RATE_40G,
            packet_life_selector: EXACTLY,
            packet_life: PACKET_LIFE,
            scope: 2,
            ..Default::default()
        };
        sa.groups.insert(
            ipoib_broadcast(),
            Group {
                rec,
                members: BTreeMap::new(),
                permanent: true,
            },
        );
        sa
    }

    fn count(&mut self, what: &'static str) {
        *self.counters.entry(what).or_default() += 1;
    }

    fn alloc_mlid(&mut self) -> u16 {
        let m = self.next_mlid;
        self.next_mlid = self.next_mlid.wrapping_add(1).max(MLID_BASE);
        m
    }

    /// Answer one SA request MAD (None for an answer MAD, which an SA
    /// never replies to).
    pub fn handle(&mut self, dir: &dyn Directory, mad: &[u8]) -> Option<Vec<u8>> {
        if mad.len() < MAD_BYTES {
            self.count("sa_short");
            return None;
        }
        let h = SaHeader::decode(mad);
        if h.method & 0x80 != 0 {
            self.count("sa_answer_ignored");
            return None;
        }
        let rec = &mad[sa::DATA..];
        let resp = if h.method == method::DELETE {
            method::DELETE_RESP
        } else {
            method::GET_RESP
        };
        if h.class_version != sa::CLASS_VERSION {
            self.count("sa_bad_version");
            return Some(answer(&h, resp, 0x0004, &[]));
        }
        let r = match (h.method, h.attr_id) {
            (method::GET, attr::CLASS_PORT_INFO) => Ok(sa::class_port_info(RESP_TIME).to_vec()),
            (method::GET, attr::PATH_RECORD) => self.path(dir, &h, rec),
            (method::SET, attr::MC_MEMBER_RECORD) => self.join(dir, &h, rec),
            (method::DELETE, attr::MC_MEMBER_RECORD) => self.leave(&h, rec),
            _ => Err(("sa_unsupported", status::UNSUPPORTED)),
        };
        Some(match r {
            Ok(record) => {
                self.count("sa_answered");
                answer(&h, resp, 0, &record)
            }
            Err((why, st)) => {
                self.count(why);
                answer(&h, resp, st, &[])
            }
        })
    }

    fn port_lid(dir: &dyn Directory, g: &Gid) -> Option<u16> {
        let prefix = u64::from_be_bytes(g[..8].try_into().expect("8 bytes"));
        if prefix != dir.prefix() {
            return None;
        }
        dir.lid_of(u64::from_be_bytes(g[8..].try_into().expect("8 bytes")))
    }

    fn path(
        &mut self,
        dir: &dyn Directory,
        h: &SaHeader,
        rec: &[u8],
    ) -> Result<Vec<u8>, (&'static str, u16)> {
        let need = path_comp::DGID | path_comp::SGID;
        if h.component_mask & need != need {
            return Err(("sa_path_insufficient", status::INSUFFICIENT_COMPONENTS));
        }
        let (dgid, sgid) = (
            sa::gid_at(rec, sa::PATH_DGID),
            sa::gid_at(rec, sa::PATH_SGID),
        );
        let (Some(dlid), Some(slid)) = (Self::port_lid(dir, &dgid), Self::port_lid(dir, &sgid))
        else {
            return Err(("sa_path_unknown_gid", status::NO_RECORDS));
        };
        let mtu = dir
            .mtu_of(dlid)
            .unwrap_or(5)
            .min(dir.mtu_of(slid).unwrap_or(5));
        let mut out = PathRecord {
            dlid,
            slid,
            reversible: true,
            numb_path: 1,
            pkey: DEFAULT_PKEY,
            mtu_selector: EXACTLY,
            mtu,
            rate_selector: EXACTLY,
            rate: RATE_40G,
            packet_life_selector: EXACTLY,
            packet_life: PACKET_LIFE,
            ..Default::default()
        }
        .encode();
        sa::set_gid(&mut out, sa::PATH_DGID, &dgid);
        sa::set_gid(&mut out, sa::PATH_SGID, &sgid);
        Ok(out)
    }

    fn record_bytes(mgid: &Gid, port_gid: &Gid, rec: &McMemberRecord, state: u8) -> Vec<u8> {
        let mut r = McMemberRecord {
            join_state: state,
            ..*rec
        }
        .encode();
        sa::set_gid(&mut r, sa::MC_MGID, mgid);
        sa::set_gid(&mut r, sa::MC_PORT_GID, port_gid);
        r
    }

    fn join(
        &mut self,
        dir: &dyn Directory,
        h: &SaHeader,
        rec: &[u8],
    ) -> Result<Vec<u8>, (&'static str, u16)> {
        let need = mc_comp::MGID | mc_comp::PORT_GID | mc_comp::JOIN_STATE;
        if h.component_mask & need != need {
            return Err(("sa_join_insufficient", status::INSUFFICIENT_COMPONENTS));
        }
        let (mgid, port_gid) = (
            sa::gid_at(rec, sa::MC_MGID),
            sa::gid_at(rec, sa::MC_PORT_GID),
        );
        let want = McMemberRecord::decode(rec);
        if mgid[0] != 0xff || want.join_state & 0x7 == 0 {
            return Err(("sa_join_invalid", status::REQ_INVALID));
        }
        if Self::port_lid(dir, &port_gid).is_none() {
            return Err(("sa_join_unknown_port", status::REQ_INVALID_GID));
        }
        if !self.groups.contains_key(&mgid) {
            if h.component_mask & mc_comp::CREATE != mc_comp::CREATE {
                return Err(("sa_join_no_group", status::INSUFFICIENT_COMPONENTS));
            }
            let rec = McMemberRecord {
                mlid: self.alloc_mlid(),
                mtu_selector: EXACTLY,
                mtu: 5,
                rate_selector: EXACTLY,
                rate: RATE_40G,
                packet_life_selector: EXACTLY,
                packet_life: PACKET_LIFE,
                scope: mgid[1] & 0xf,
                join_state: 0,
                proxy_join: false,
                ..want
            };
            self.groups.insert(
                mgid,
                Group {
                    rec,
                    members: BTreeMap::new(),
                    permanent: false,
                },
            );
            self.count("sa_group_created");
        }
        let g = self.groups.get_mut(&mgid).expect("present");
        if h.component_mask & mc_comp::QKEY != 0 && want.qkey != g.rec.qkey {
            return Err(("sa_join_qkey_mismatch", status::REQ_INVALID));
        }
        let state = g.members.entry(port_gid).or_default();
        *state |= want.join_state & 0x7;
        let s = *state;
        let rec = g.rec;
        Ok(Self::record_bytes(&mgid, &port_gid, &rec, s))
    }

    fn leave(&mut self, h: &SaHeader, rec: &[u8]) -> Result<Vec<u8>, (&'static str, u16)> {
        let need = mc_comp::MGID | mc_comp::PORT_GID;
        if h.component_mask & need != need {
            return Err(("sa_leave_insufficient", status::INSUFFICIENT_COMPONENTS));
        }
        let (mgid, port_gid) = (
            sa::gid_at(rec, sa::MC_MGID),
            sa::gid_at(rec, sa::MC_PORT_GID),
        );
        let bits = if h.component_mask & mc_comp::JOIN_STATE != 0 {
            McMemberRecord::decode(rec).join_state & 0x7
        } else {
            join::FULL | join::NON | join::SEND_ONLY
        };
        let Some(g) = self.groups.get_mut(&mgid) else {
            return Err(("sa_leave_no_group", status::REQ_INVALID));
        };
        let Some(state) = g.members.get_mut(&port_gid) else {
            return Err(("sa_leave_not_member", status::REQ_INVALID));
        };
        *state &= !bits;
        let left = *state;
        if left == 0 {
            g.members.remove(&port_gid);
        }
        let rec = g.rec;
        if g.members.is_empty() && !g.permanent {
            self.groups.remove(&mgid);
            self.count("sa_group_deleted");
        }
        Ok(Self::record_bytes(&mgid, &port_gid, &rec, left))
    }

    /// The multicast forwarding table the groups ask for: each MLID and
    /// the switch ports of its members (bit k = port k). A group with no
    /// member reachable has mask 0 (the entry is removed).
    pub fn mft(&self, dir: &dyn Directory) -> Vec<(u16, u64)> {
        let mut out = Vec::new();
        for g in self.groups.values() {
            let mut mask = 0u64;
            for gid in g.members.keys() {
                if let Some(p) = Self::port_lid(dir, gid).and_then(|l| dir.switch_port_of(l)) {
                    mask |= 1 << p;
                }
            }
            out.push((g.rec.mlid, mask));
        }
        out
    }

    /// MLIDs of groups deleted since they were last programmed are the
    /// caller's to clear: every MLID this SA ever handed out.
    pub fn mlids_issued(&self) -> std::ops::Range<u16> {
        MLID_BASE..self.next_mlid
    }

    /// The groups: MGID, MLID, member count.
    pub fn groups(&self) -> Vec<(Gid, u16, usize)> {
        self.groups
            .iter()
            .map(|(g, x)| (*g, x.rec.mlid, x.members.len()))
            .collect()
    }
}
