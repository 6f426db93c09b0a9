//! The blocks this crate provides: the one list the emitter, the Verilator
//! build, the tools, the docs tests and the block tests read. Adding a
//! block is one row here (and its row in the CLI's table, held to this one
//! by a test).

use crate::emit::{emit, EmitError, Emitted};
use crate::icm_layout::Field;

/// A design the flow builds.
pub struct Design {
    /// How the CLI, the build and the docs name it.
    pub name: &'static str,
    /// What it is, in a few words.
    pub title: &'static str,
    /// The layouts it keeps in ICM or writes to host memory, each titled
    /// (an empty title: the block's one context); none for a block that
    /// keeps no context.
    pub layouts: &'static [(&'static str, &'static [Field])],
    /// Its Verilog and port list.
    pub emit: fn() -> Result<Emitted, EmitError>,
}

/// Every block, in the order they are documented.
pub const BLOCKS: &[Design] = &[
    Design {
        name: "atomic",
        title: "atomic unit",
        layouts: &[],
        emit: || emit("atomic", crate::atomic::AtomicUnit::default()),
    },
    Design {
        name: "qpc",
        title: "QP context block",
        layouts: &[("", crate::qpc::layout::FIELDS)],
        emit: || emit("qpc", crate::qpc::QpcBuilt::default()),
    },
    Design {
        name: "tpt",
        title: "TPT",
        layouts: &[("", crate::tpt::layout::FIELDS)],
        emit: || emit("tpt", crate::tpt::TptBuilt::default()),
    },
    Design {
        name: "cq",
        title: "CQ and EQ engine",
        layouts: &[
            ("CQ context", crate::cq::layout::cqc::FIELDS),
            ("EQ context", crate::cq::layout::eqc::FIELDS),
            (
                "CQE (big-endian 8-byte words of `struct mlx4_cqe`)",
                crate::cq::layout::cqe::FIELDS,
            ),
            (
                "EQE (big-endian 8-byte words of `struct mlx4_eqe`)",
                crate::cq::layout::eqe::FIELDS,
            ),
        ],
        emit: || emit("cq", crate::cq::CqBuilt::default()),
    },
];

/// Test designs for the flow itself (built and linted, not user blocks).
pub const FIXTURES: &[Design] = &[
    Design {
        name: "wide_adder",
        title: "wide-port adder (fixture)",
        layouts: &[],
        emit: || emit("wide_adder", crate::fixtures::WideAdder::default()),
    },
    Design {
        name: "context_cache",
        title: "context cache (fixture)",
        layouts: &[],
        emit: || emit("context_cache", crate::fixtures::CacheFixture::default()),
    },
];

/// The blocks' names, in order.
pub fn block_names() -> impl Iterator<Item = &'static str> {
    BLOCKS.iter().map(|b| b.name)
}

/// Every design the build verilates: the blocks, then the fixtures.
pub fn designs() -> impl Iterator<Item = &'static Design> {
    BLOCKS.iter().chain(FIXTURES)
}

/// The block (or fixture) called `name`, or an error naming the blocks.
pub fn find(name: &str) -> Result<&'static Design, EmitError> {
    designs().find(|d| d.name == name).ok_or_else(|| {
        EmitError::UnknownBlock(
            name.to_string(),
            block_names().collect::<Vec<_>>().join(", "),
        )
    })
}

/// Emit the named block's (or fixture's) Verilog and port list.
pub fn emit_block(name: &str) -> Result<Emitted, EmitError> {
    (find(name)?.emit)()
}
