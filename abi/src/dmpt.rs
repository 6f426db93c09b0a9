//! The dMPT entry as it sits in ICM: the TPT's own four words, which the
//! TPT reads and writes and a driver rewrites itself to map or unmap a fast
//! memory region (then SYNC_TPT), with the codes of its state, kind and
//! access fields. Defined once here: the TPT block (`hca_rtl::tpt`)
//! re-exports it, and the driver writes FMR entries with it.

use serde::{Deserialize, Serialize};

/// Words in one MPT entry (32 of the 64 bytes mlx4 sizes an entry at).
pub const WORDS: usize = 4;

crate::icm_layout! {
    /// One memory region's entry. All zero is a free (software-owned) entry.
    MptEntry, WORDS, {
    /// [`MptState`] code.
    state: u8 = (0, 0, 2),
    /// The key's low byte: a key `index << 8 | tag` matches only this tag.
    tag: u8 = (0, 8, 8),
    /// [`access`] bits the region grants.
    access: u8 = (0, 16, 5),
    /// The region may be invalidated by a remote Send with Invalidate.
    remote_inv: bool = (0, 21, 1),
    /// [`MptKind`] code.
    kind: u8 = (0, 22, 2),
    /// Page size: 2^log_page bytes (12 to 30).
    log_page: u8 = (0, 24, 6),
    pd: u32 = (0, 32, 24),
    /// First virtual address of the region.
    va: u64 = (1, 0, 64),
    /// Length of the region in bytes.
    len: u64 = (2, 0, 64),
    /// MTT index of the region's first page.
    mtt_base: u32 = (3, 0, 24),
}}

/// Ownership and state of an MPT entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum MptState {
    /// Owned by software (after HW2SW_MPT, or never registered).
    Free = 0,
    /// Owned by the HCA, usable.
    Valid = 1,
    /// Owned by the HCA, invalidated: the key is dead until a fast-register
    /// (or an FMR map) brings the region back with a new tag.
    Invalid = 2,
}

impl MptState {
    pub fn from_code(c: u8) -> Option<MptState> {
        [MptState::Free, MptState::Valid, MptState::Invalid]
            .into_iter()
            .find(|s| *s as u8 == c)
    }
}

/// What kind of region an entry describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum MptKind {
    /// An ordinary memory region: only deregistration kills its key.
    Mr = 0,
    /// A fast memory region, mapped and unmapped by the driver in ICM.
    Fmr = 1,
    /// A region for fast-register work requests (and local invalidate).
    FastReg = 2,
    /// A physical region (mlx4's DMA memory region, `MLX4_MPT_FLAG_PHYSICAL`):
    /// addresses in it are bus addresses, translated to themselves with no
    /// MTT; like an ordinary region, only deregistration kills its key.
    Physical = 3,
}

/// Access bits, in an entry's `access` and a lookup's request.
pub mod access {
    pub const LOCAL_READ: u8 = 1 << 0;
    pub const LOCAL_WRITE: u8 = 1 << 1;
    pub const REMOTE_READ: u8 = 1 << 2;
    pub const REMOTE_WRITE: u8 = 1 << 3;
    pub const ATOMIC: u8 = 1 << 4;
    pub const ALL: u8 = 0x1f;
}

/// The key of MPT `index` with tag `tag`: the index in bits 31..8, the tag
/// below (mlx4's `hw_index_to_key` of `tag << 24 | index`).
pub fn key(index: u32, tag: u8) -> u32 {
    index << 8 | tag as u32
}

/// The index of a key's MPT entry.
pub fn key_index(key: u32) -> u32 {
    key >> 8
}

/// The key's tag byte.
pub fn key_tag(key: u32) -> u8 {
    key as u8
}
