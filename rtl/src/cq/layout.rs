//! The CQ engine's structures, each defined once: the CQ and EQ contexts
//! as the HCA keeps them, and the CQE and EQE as they land in host memory.
//!
//! CQEs and EQEs are 32 bytes laid out as mlx4 lays them out (big-endian
//! fields, `struct mlx4_cqe` and `struct mlx4_eqe`); here they are four
//! 64-bit words, word `k` being bytes `8k..8k+8` read big-endian, so a DMA
//! beat of word `k` to address `a + 8k` puts every byte where the driver
//! looks for it.

/// Words in a context or an entry.
pub const WORDS: usize = 4;
/// Bytes of a CQE or EQE in host memory (defined with them, in the ABI).
pub use hca_abi::entries::ENTRY_BYTES;

pub mod cqc {
    hca_abi::icm_layout! {
        /// A CQ's context. All zero is a CQ software owns.
        Cqc, super::WORDS, {
        /// [`super::super::CqState`] code.
        state: u8 = (0, 0, 2),
        /// The CQ holds 2^log_size CQEs.
        log_size: u8 = (0, 4, 5),
        /// [`super::super::Arm`] code.
        arm: u8 = (0, 12, 2),
        /// Sequence number of the last arm doorbell taken.
        arm_sn: u8 = (0, 16, 2),
        /// The EQ completion events go to.
        eqn: u16 = (0, 20, 10),
        /// Producer index: CQEs written so far, modulo 2^24.
        pi: u32 = (0, 32, 24),
        /// MTT index of the CQE buffer's first page: the engine finds the
        /// bus address of every CQE through the MTT.
        mtt_base: u32 = (1, 0, 24),
        /// The buffer's pages are 4 KiB << log_page.
        log_page: u8 = (1, 24, 4),
        /// Consumer index, from the last consumer-index doorbell.
        ci: u32 = (2, 0, 24),
        /// Moderation: an event once this many completions are pending...
        mod_count: u16 = (2, 32, 16),
        /// ...or once the first pending one is this many ticks old.
        mod_period: u16 = (2, 48, 16),
        /// Completions since the last event.
        pending: u16 = (3, 0, 16),
        /// Ticks since the first pending completion.
        age: u16 = (3, 16, 16),
    }}
}

pub mod eqc {
    hca_abi::icm_layout! {
        /// An EQ's context. All zero is an EQ software owns.
        Eqc, super::WORDS, {
        /// [`super::super::EqState`] code.
        state: u8 = (0, 0, 2),
        /// The EQ holds 2^log_size EQEs.
        log_size: u8 = (0, 4, 5),
        /// The next EQE raises the EQ's interrupt.
        armed: bool = (0, 12, 1),
        /// MSI-X vector.
        vector: u8 = (0, 16, 6),
        /// Producer index, modulo 2^24.
        pi: u32 = (0, 32, 24),
        /// MTT index of the EQE buffer's first page.
        mtt_base: u32 = (1, 0, 24),
        /// The buffer's pages are 4 KiB << log_page.
        log_page: u8 = (1, 24, 4),
        /// Consumer index, from the last EQ doorbell.
        ci: u32 = (2, 0, 24),
        /// Event types routed here (MAP_EQ): bit n for type n.
        event_mask: u64 = (3, 0, 64),
    }}
}

// The CQE and EQE are what the driver reads: they live in the ABI crate.
pub use hca_abi::entries::{cqe, eqe};

#[cfg(test)]
mod tests {
    use crate::icm_layout::Field;

    fn disjoint(fields: &[Field]) {
        let mut used = [0u64; super::WORDS];
        for f in fields {
            assert!(f.lsb + f.width <= 64, "{}", f.name);
            assert_eq!(used[f.word] & f.mask(), 0, "{} overlaps", f.name);
            used[f.word] |= f.mask();
        }
    }

    #[test]
    fn layouts_do_not_overlap() {
        disjoint(super::cqc::FIELDS);
        disjoint(super::eqc::FIELDS);
        disjoint(super::cqe::FIELDS);
        disjoint(super::eqe::FIELDS);
    }
}
