//! The ICM layouts as the RTL uses them: the ABI crate's layout machinery
//! (`hca_abi::icm_layout`, where the contexts' field tables come from),
//! and the constants a block builds from a field's place.

pub use hca_abi::icm_layout::*;
use rust_hdl::prelude::{Bits, Constant};

/// A 64-bit constant for an RTL block.
pub fn c64(v: u64) -> Constant<Bits<64>> {
    Constant::new(v.into())
}

/// An N-bit constant for an RTL block.
pub fn c<const N: usize>(v: u64) -> Constant<Bits<N>> {
    Constant::new(v.into())
}
