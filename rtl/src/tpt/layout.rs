//! The MPT entry as it sits in ICM: four 64-bit words, defined once.

pub use crate::icm_layout::Field;

/// Words in one MPT entry (32 of the 64 bytes mlx4 sizes an entry at).
pub const WORDS: usize = 4;

hca_abi::icm_layout! {
    /// One memory region's entry. All zero is a free (software-owned) entry.
    MptEntry, WORDS, {
    /// [`super::MptState`] code.
    state: u8 = (0, 0, 2),
    /// The key's low byte: a key `index << 8 | tag` matches only this tag.
    tag: u8 = (0, 8, 8),
    /// [`super::access`] bits the region grants.
    access: u8 = (0, 16, 5),
    /// The region may be invalidated by a remote Send with Invalidate.
    remote_inv: bool = (0, 21, 1),
    /// [`super::MptKind`] code.
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
