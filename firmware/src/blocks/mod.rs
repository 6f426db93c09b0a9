//! The RTL blocks as the firmware drives them, each through the
//! `Transactor` of whichever backend runs it (the model by default; the
//! rust-hdl design or its Verilator build from the device), on the block's
//! memory in ICM (`crate::icm::window`).

pub mod cq;
pub mod qpc;
pub mod tpt;
