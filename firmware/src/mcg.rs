//! Multicast groups (mlx4's mcg.c seen from the device): MGID_HASH, and
//! READ_MCG / WRITE_MCG over the MCG table in the ICM the driver mapped.
//! The driver walks and links the hash chains itself (mlx4_qp_attach_common
//! for InfiniBand); the firmware keeps nothing but the table, which the
//! transport engine will read to deliver a multicast packet to every
//! member QP. The entry is `hca_abi::cmd::mcg`'s.

pub use hca_abi::cmd::mcg::MgmHead;

use crate::cmd::{Command, CommandSpec, Mailbox, ZERO};
use crate::hostmem::HostMemory;
use crate::opcode as op;
use crate::status::{refuse, CmdResult, Status};
use crate::Firmware;
use hca_abi::cmd::mcg::{members_per_entry, NEXT_SHIFT, PROT_IB};

/// The GID MGID_HASH takes.
const GID: Option<Mailbox> = Some(Mailbox {
    name: "GID (16 bytes)",
    bytes: 16,
});
/// READ_MCG's and WRITE_MCG's mailbox: a whole entry, as INIT_HCA sized it.
const ENTRY: Option<Mailbox> = Some(Mailbox {
    name: "MgmHead + members",
    bytes: 0x20,
});

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        opcode: op::READ_MCG,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: ENTRY,
        what: "the MCG entry in_modifier names (head and members, the entry size INIT_HCA gave)",
        run: |f, c, mem| f.read_mcg(c, mem),
    },
    CommandSpec {
        opcode: op::WRITE_MCG,
        op_mods: ZERO,
        boot: false,
        inbox: ENTRY,
        outbox: None,
        what: "write the MCG entry in_modifier names: InfiniBand only, no more members than the entry holds, a chain link inside the table",
        run: |f, c, mem| f.write_mcg(c, mem),
    },
    CommandSpec {
        opcode: op::MGID_HASH,
        op_mods: ZERO,
        boot: false,
        inbox: GID,
        outbox: None,
        what: "the hash-table index of a GID (out_param): the XOR of its eight 16-bit words, masked to the hash table",
        run: |f, c, mem| f.mgid_hash(c, mem),
    },
];

/// MGID_HASH's function: the XOR of the GID's eight big-endian 16-bit
/// words, masked to `2^log_hash` entries. The transport engine hashes a
/// packet's destination GID with it.
pub fn mgid_hash(gid: &[u8; 16], log_hash: u8) -> u32 {
    let x = gid
        .chunks(2)
        .fold(0u16, |h, w| h ^ u16::from_be_bytes([w[0], w[1]]));
    x as u32 & ((1u32 << log_hash.min(16)) - 1)
}

impl Firmware {
    /// The table's geometry: entries, entry bytes, hash entries.
    fn mcg_geometry(&self) -> CmdResult<(u64, usize, u64, u64)> {
        self.require_hca()?;
        let (p, _) = self.state.hca.as_ref().unwrap();
        Ok((
            1u64 << p.log_mc_table_sz,
            1usize << p.log_mc_entry_sz.min(12),
            1u64 << p.log_mc_hash_sz,
            p.mc_base,
        ))
    }

    /// The host address of MCG entry `index`.
    fn mcg_entry(&self, index: u32) -> CmdResult<(u64, usize)> {
        let (entries, bytes, _, base) = self.mcg_geometry()?;
        if index as u64 >= entries {
            return refuse(
                Status::BadIndex,
                format!("MCG entry {index:#x} (the table holds {entries:#x})"),
            );
        }
        let icm = (base & crate::hca::BASE_MASK) + index as u64 * bytes as u64;
        match self.state.icm.translate(icm) {
            Some(host) => Ok((host, bytes)),
            None => refuse(
                Status::IcmError,
                format!("MCG entry {index:#x} is in no mapped ICM"),
            ),
        }
    }

    /// The QPs attached to multicast group `gid`, as the transport engine
    /// finds them: hash the GID, walk the chain from the hash table's
    /// entry comparing GIDs, read the members. Each with its
    /// block-loopback bit. Empty when no entry holds the GID (or the
    /// table is not mapped); a chain that loops is cut at the table's size.
    pub fn mcg_members(&mut self, gid: &[u8; 16], mem: &mut dyn HostMemory) -> Vec<(u32, bool)> {
        let Ok((entries, _, hash, _)) = self.mcg_geometry() else {
            return Vec::new();
        };
        let mut index = mgid_hash(gid, hash.trailing_zeros() as u8);
        for _ in 0..entries {
            let Ok((host, bytes)) = self.mcg_entry(index) else {
                return Vec::new();
            };
            let mut b = vec![0u8; bytes];
            if mem.read(host, &mut b).is_err() {
                return Vec::new();
            }
            let h = MgmHead::decode(&b);
            let mut g = [0u8; 16];
            g[..8].copy_from_slice(&h.gid_hi.to_be_bytes());
            g[8..].copy_from_slice(&h.gid_lo.to_be_bytes());
            if h.prot == PROT_IB && h.members != 0 && &g == gid {
                let n = (h.members as usize).min(members_per_entry(bytes));
                return (0..n)
                    .map(|k| {
                        let at = hca_abi::cmd::mcg::MEMBERS_OFFSET + 4 * k;
                        let w = u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"));
                        (
                            w & hca_abi::cmd::mcg::MEMBER_QPN_MASK,
                            w & hca_abi::cmd::mcg::MEMBER_BLOCK_LOOPBACK != 0,
                        )
                    })
                    .collect();
            }
            let next = h.next_gid_index >> NEXT_SHIFT;
            if next == 0 {
                return Vec::new();
            }
            index = next;
        }
        Vec::new()
    }

    fn read_mcg(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let (host, bytes) = self.mcg_entry(c.in_modifier)?;
        let mut b = vec![0u8; bytes];
        mem.read(host, &mut b)
            .map_err(|e| (Status::InternalErr, format!("MCG entry: {e}")))?;
        self.out(mem, c, &b)
    }

    fn write_mcg(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let (host, bytes) = self.mcg_entry(c.in_modifier)?;
        let (entries, _, _, _) = self.mcg_geometry()?;
        let b = self.inbox(mem, c, bytes)?;
        let h = MgmHead::decode(&b);
        if h.prot != PROT_IB {
            return refuse(
                Status::BadParam,
                format!(
                    "protocol {} (InfiniBand only: no Ethernet steering)",
                    h.prot
                ),
            );
        }
        let max = members_per_entry(bytes);
        if h.members as usize > max {
            return refuse(
                Status::BadParam,
                format!(
                    "{} members (an entry of {bytes} bytes holds {max})",
                    h.members
                ),
            );
        }
        let next = h.next_gid_index >> NEXT_SHIFT;
        if h.next_gid_index & ((1 << NEXT_SHIFT) - 1) != 0 || next as u64 >= entries {
            return refuse(
                Status::BadParam,
                format!(
                    "next_gid_index {:#x} names no entry of the table",
                    h.next_gid_index
                ),
            );
        }
        mem.write(host, &b)
            .map_err(|e| (Status::InternalErr, format!("MCG entry: {e}")))?;
        Ok(None)
    }

    fn mgid_hash(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let (_, _, hash, _) = self.mcg_geometry()?;
        let b = self.inbox(mem, c, 16)?;
        let gid: [u8; 16] = b[..16].try_into().expect("16 bytes");
        Ok(Some(mgid_hash(&gid, hash.trailing_zeros() as u8) as u64))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_hash_folds_every_word_and_stays_in_the_table() {
        let mut g = [0u8; 16];
        g[0] = 0xff;
        g[1] = 0x12;
        assert_eq!(super::mgid_hash(&g, 16), 0xff12);
        g[15] = 0x12;
        assert_eq!(super::mgid_hash(&g, 16), 0xff00);
        assert_eq!(super::mgid_hash(&g, 7), 0);
        assert!(super::mgid_hash(&[0xa5; 16], 5) < 32);
    }
}
