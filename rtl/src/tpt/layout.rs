//! The MPT entry as it sits in ICM: four 64-bit words, defined once in
//! the ABI crate (`hca_abi::dmpt`), since the driver writes it too.

pub use crate::icm_layout::Field;
pub use hca_abi::dmpt::{field, MptEntry, FIELDS, WORDS};
