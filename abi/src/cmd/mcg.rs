//! The multicast group entry (`struct mlx4_mgm`, mlx4.h) as it sits in the
//! MCG table in ICM and as READ_MCG and WRITE_MCG carry it: a 32-byte head
//! (the next entry of the hash chain, the member count and protocol, the
//! GID), then one 4-byte word per member QP. An entry is
//! `1 << log_mc_entry_sz` bytes (INIT_HCA); the first `1 << log_mc_hash_sz`
//! entries are the hash table MGID_HASH indexes, the rest (AMGM) the
//! overflow the driver links chains through.

crate::mailbox_layout! {
    /// The head of an MGM entry.
    MgmHead, 0x20, {
        /// The next entry of the chain, as `index << 6`; 0 ends it.
        next_gid_index: u32 = (0x00, 0, 32),
        /// Protocol (bits 31..30: 0 InfiniBand, 1 Ethernet).
        prot: u8 = (0x04, 6, 2),
        /// Member QPs (bits 23..0).
        members: u32 = (0x04, 0, 24),
        /// The group's GID, first 8 bytes.
        gid_hi: u64 = (0x10, 0, 64),
        /// The group's GID, last 8 bytes.
        gid_lo: u64 = (0x18, 0, 64),
    }
}

/// Where the member words start.
pub const MEMBERS_OFFSET: usize = 0x20;
/// A member word: the QPN in bits 23..0...
pub const MEMBER_QPN_MASK: u32 = 0xff_ffff;
/// ...and bit 30: multicast loopback blocked for it (`MGM_BLCK_LB_BIT`).
pub const MEMBER_BLOCK_LOOPBACK: u32 = 1 << 30;
/// `next_gid_index` holds the index shifted by this.
pub const NEXT_SHIFT: u32 = 6;
/// The InfiniBand protocol code.
pub const PROT_IB: u8 = 0;

/// Members an entry of `entry_bytes` holds.
pub fn members_per_entry(entry_bytes: usize) -> usize {
    entry_bytes.saturating_sub(MEMBERS_OFFSET) / 4
}
