//! The simulated HCA.
//!
//! For now: the simulator backends every RTL block runs on (the in-process
//! rust-hdl simulation and the Verilator build), the per-block bindings
//! between them and the testbench, and the `hca` command.

pub mod backend;
pub mod bind;
pub mod blocks;
pub mod cli;
pub mod pci;
pub mod tools;
pub mod uml;
pub mod vhost_user;

/// The Verilator builds of the RTL blocks, generated at build time.
pub mod verilated {
    /// One port of a Verilated model, as the shim was generated from it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Port {
        pub name: &'static str,
        pub input: bool,
        pub width: usize,
    }

    include!(concat!(env!("OUT_DIR"), "/verilated_models.rs"));
}

pub use backend::Backend;
