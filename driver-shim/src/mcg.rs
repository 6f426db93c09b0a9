//! Multicast groups (mlx4's mcg.c, its InfiniBand path,
//! `mlx4_qp_attach_common` and `mlx4_qp_detach_common`): the device hashes
//! the GID (MGID_HASH); the driver walks the chain from that entry of the
//! MCG table with READ_MCG, takes the empty hash entry or links a new one
//! from the AMGM area, adds or removes the QP with WRITE_MCG, and unlinks
//! and frees an entry whose last member goes.

use crate::device::Device;
use crate::error::{Error, Result};
use crate::qp::Qp;
use hca_abi::cmd::mcg::{
    members_per_entry, MgmHead, MEMBERS_OFFSET, MEMBER_BLOCK_LOOPBACK, MEMBER_QPN_MASK, NEXT_SHIFT,
    PROT_IB,
};
use hca_abi::opcode as op;
use hca_abi::pci::PciFunction;
use hca_abi::qp_state::QpType;

/// A multicast GID.
pub type Gid = [u8; 16];

/// One MGM entry as the driver edits it.
struct Entry {
    head: MgmHead,
    members: Vec<u32>,
}

impl Entry {
    fn empty() -> Entry {
        Entry {
            head: MgmHead::default(),
            members: Vec::new(),
        }
    }
}

fn gid_of(h: &MgmHead) -> Gid {
    let mut g = [0u8; 16];
    g[..8].copy_from_slice(&h.gid_hi.to_be_bytes());
    g[8..].copy_from_slice(&h.gid_lo.to_be_bytes());
    g
}

impl<P: PciFunction> Device<P> {
    fn mcg_sizes(&mut self) -> Result<(usize, u32)> {
        let init = self.hca()?.init;
        Ok((1usize << init.log_mc_entry_sz, 1u32 << init.log_mc_hash_sz))
    }

    fn read_mcg(&mut self, index: u32) -> Result<Entry> {
        let (bytes, _) = self.mcg_sizes()?;
        let b = self.cmd_box(op::READ_MCG, 0, index, None)?;
        let head = MgmHead::decode(&b);
        let n = (head.members as usize).min(members_per_entry(bytes));
        let members = (0..n)
            .map(|k| {
                let at = MEMBERS_OFFSET + 4 * k;
                u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
            })
            .collect();
        Ok(Entry { head, members })
    }

    fn write_mcg(&mut self, index: u32, e: &Entry) -> Result<()> {
        let (bytes, _) = self.mcg_sizes()?;
        let mut b = vec![0u8; bytes];
        let head = MgmHead {
            members: e.members.len() as u32,
            ..e.head
        };
        b[..MgmHead::SIZE].copy_from_slice(&head.encode());
        for (k, m) in e.members.iter().enumerate() {
            b[MEMBERS_OFFSET + 4 * k..MEMBERS_OFFSET + 4 * k + 4].copy_from_slice(&m.to_be_bytes());
        }
        self.cmd_in(op::WRITE_MCG, 0, index, &b)?;
        Ok(())
    }

    /// The entry `e` (at `index`) links to: 0 for none, else an AMGM
    /// entry of the table; a link anywhere else is the device's error.
    fn mcg_link(&mut self, index: u32, e: &Entry) -> Result<u32> {
        let (_, hash_entries) = self.mcg_sizes()?;
        let total = hash_entries + self.hca()?.alloc.amgm_total();
        let next = e.head.next_gid_index >> NEXT_SHIFT;
        if next != 0 && !(hash_entries..total).contains(&next) {
            return Err(Error::Device(format!(
                "MCG entry {index:#x} links to {next:#x}, not an AMGM entry"
            )));
        }
        Ok(next)
    }

    fn mgid_hash(&mut self, gid: &Gid) -> Result<u32> {
        Ok(self.cmd_in(op::MGID_HASH, 0, 0, gid)? as u32)
    }

    /// The chain from `gid`'s hash entry: (previous, this) for the entry
    /// holding `gid`, or for the chain's last entry when none does, and
    /// whether it was found.
    fn find_mcg(&mut self, gid: &Gid) -> Result<(Option<u32>, u32, Entry, bool)> {
        let hash = self.mgid_hash(gid)?;
        let (_, hash_entries) = self.mcg_sizes()?;
        if hash >= hash_entries {
            return Err(Error::Device(format!(
                "MGID_HASH gave {hash:#x}, past the {hash_entries:#x} hash entries"
            )));
        }
        let (mut prev, mut index) = (None, hash);
        for _ in 0..=self.hca()?.alloc.amgm_total() {
            let e = self.read_mcg(index)?;
            if e.head.members > 0 && gid_of(&e.head) == *gid {
                return Ok((prev, index, e, true));
            }
            let next = self.mcg_link(index, &e)?;
            if next == 0 {
                return Ok((prev, index, e, false));
            }
            prev = Some(index);
            index = next;
        }
        Err(Error::Device(format!("the MCG chain from {hash:#x} loops")))
    }

    /// Attach `qp` (UD) to the group `gid`; `block_loopback` keeps the QP
    /// from receiving what this HCA sends to the group. Attaching twice is
    /// not an error (mlx4 warns and carries on).
    pub fn attach_mcast(&mut self, qp: &Qp, gid: &Gid, block_loopback: bool) -> Result<()> {
        if qp.qp_type != QpType::Ud {
            return Err(Error::InvalidArgument(format!(
                "multicast on a {} QP",
                qp.qp_type.name()
            )));
        }
        self.qp_state(qp)?;
        if gid[0] != 0xff {
            return Err(Error::InvalidArgument(
                "a multicast GID starts with 0xff".into(),
            ));
        }
        let (bytes, hash_entries) = self.mcg_sizes()?;
        let (_, index, mut e, found) = self.find_mcg(gid)?;
        let member = qp.qpn
            | if block_loopback {
                MEMBER_BLOCK_LOOPBACK
            } else {
                0
            };
        let (target, mut entry, link_from) = if found {
            (index, e, None)
        } else if e.head.members == 0 && index < hash_entries && e.head.next_gid_index == 0 {
            // The hash entry itself is free.
            e.head.gid_hi = u64::from_be_bytes(gid[..8].try_into().expect("8"));
            e.head.gid_lo = u64::from_be_bytes(gid[8..].try_into().expect("8"));
            e.head.prot = PROT_IB;
            (index, e, None)
        } else {
            let a = self
                .hca()?
                .alloc
                .amgm
                .alloc()
                .ok_or(Error::NoResources("multicast group entries"))?;
            let fresh = Entry {
                head: MgmHead {
                    gid_hi: u64::from_be_bytes(gid[..8].try_into().expect("8")),
                    gid_lo: u64::from_be_bytes(gid[8..].try_into().expect("8")),
                    prot: PROT_IB,
                    ..Default::default()
                },
                members: Vec::new(),
            };
            (a + hash_entries, fresh, Some((index, e)))
        };
        if entry.members.iter().any(|m| m & MEMBER_QPN_MASK == qp.qpn) {
            return Ok(());
        }
        if entry.members.len() >= members_per_entry(bytes) {
            if link_from.is_some() {
                self.hca()?.alloc.amgm.free(target - hash_entries);
            }
            return Err(Error::NoResources("members in the multicast group"));
        }
        entry.members.push(member);
        if let Err(e) = self.write_mcg(target, &entry) {
            if link_from.is_some() {
                self.hca()?.alloc.amgm.free(target - hash_entries);
            }
            return Err(e);
        }
        if let Some((last, mut prev)) = link_from {
            prev.head.next_gid_index = target << NEXT_SHIFT;
            self.write_mcg(last, &prev)?;
        }
        self.hca()?.mcast.push((qp.qpn, *gid));
        Ok(())
    }

    /// Detach `qp` from `gid`; the group's entry goes when its last member
    /// does (a hash entry takes its successor's place; an AMGM entry is
    /// unlinked and freed).
    pub fn detach_mcast(&mut self, qp: &Qp, gid: &Gid) -> Result<()> {
        let (_, hash_entries) = self.mcg_sizes()?;
        let (prev, index, mut e, found) = self.find_mcg(gid)?;
        let at = e.members.iter().position(|m| m & MEMBER_QPN_MASK == qp.qpn);
        let (true, Some(at)) = (found, at) else {
            return Err(Error::NoSuchObject {
                what: "multicast attachment of QP",
                id: qp.qpn,
            });
        };
        e.members.swap_remove(at);
        self.hca()?
            .mcast
            .retain(|(q, g)| !(*q == qp.qpn && g == gid));
        if !e.members.is_empty() {
            return self.write_mcg(index, &e);
        }
        let next = self.mcg_link(index, &e)?;
        if index < hash_entries {
            // The hash entry: its successor moves in, or it empties.
            if next != 0 {
                let succ = self.read_mcg(next)?;
                self.write_mcg(index, &succ)?;
                self.write_mcg(next, &Entry::empty())?;
                self.hca()?.alloc.amgm.free(next - hash_entries);
            } else {
                self.write_mcg(index, &Entry::empty())?;
            }
        } else {
            let p = prev
                .ok_or_else(|| Error::Device(format!("MCG entry {index:#x} has no predecessor")))?;
            let mut pe = self.read_mcg(p)?;
            pe.head.next_gid_index = next << NEXT_SHIFT;
            self.write_mcg(p, &pe)?;
            self.write_mcg(index, &Entry::empty())?;
            self.hca()?.alloc.amgm.free(index - hash_entries);
        }
        Ok(())
    }

    /// The groups `qp` is attached to.
    pub fn mcast_groups(&mut self, qp: &Qp) -> Result<Vec<Gid>> {
        Ok(self
            .hca()?
            .mcast
            .iter()
            .filter(|(q, _)| *q == qp.qpn)
            .map(|(_, g)| *g)
            .collect())
    }

    /// Every non-empty MCG entry: (index, GID, members): for tests and
    /// tools checking the table.
    pub fn mcg_table(&mut self) -> Result<Vec<(u32, Gid, Vec<u32>)>> {
        let entries = self.hca()?.icm.get("MCG").spec.entries as u32;
        let mut out = Vec::new();
        for i in 0..entries {
            let e = self.read_mcg(i)?;
            if e.head.members > 0 || e.head.next_gid_index != 0 {
                out.push((i, gid_of(&e.head), e.members));
            }
        }
        Ok(out)
    }
}
