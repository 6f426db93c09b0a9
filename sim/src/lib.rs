//! The simulated HCA.
//!
//! For now: the simulator backends every RTL block runs on (the in-process
//! rust-hdl simulation and the Verilator build), the per-block bindings
//! between them and the testbench, and the `hca` command.

// Unsafe code is confined to the two modules that need it, each block
// with its `SAFETY:` note: the generated Verilator bindings (FFI) and the
// descriptors vhost-user passes over its socket.
#![deny(unsafe_code)]

pub mod backend;
pub mod bind;
pub mod blocks;
pub mod cli;
pub mod pci;
pub mod tools;
pub mod uml;
pub mod vhost_user;

/// The Verilator builds of the RTL blocks, generated at build time.
#[allow(unsafe_code)]
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

/// Generates one `#[test]` per backend (`model`, `rtl`, `verilator`) for a
/// body `fn(Backend)` written once: every block test, and every test of
/// what drives the blocks, runs on every backend. A new backend is one line
/// here.
#[macro_export]
macro_rules! on_every_backend {
    ($(#[$meta:meta])* fn $name:ident($backend:ident: Backend) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn body($backend: $crate::Backend) $body
            #[test]
            fn model() { body($crate::Backend::Model) }
            #[test]
            fn rtl() { body($crate::Backend::Rtl) }
            #[test]
            fn verilator() { body($crate::Backend::Verilator) }
        }
    };
}
