//! The blocks this crate provides, by the names the CLI and build use.

use crate::emit::{emit, EmitError, Emitted};

/// Every block, in the order they are documented.
pub const BLOCKS: &[&str] = &["atomic", "qpc", "tpt", "cq"];

/// Test designs for the flow itself (built and linted, not user blocks).
pub const FIXTURES: &[&str] = &["wide_adder", "context_cache"];

/// Emit the named block's (or fixture's) Verilog and port list.
pub fn emit_block(name: &str) -> Result<Emitted, EmitError> {
    match name {
        "atomic" => emit("atomic", crate::atomic::AtomicUnit::default()),
        "qpc" => emit("qpc", crate::qpc::QpcBuilt::default()),
        "tpt" => emit("tpt", crate::tpt::TptBuilt::default()),
        "cq" => emit("cq", crate::cq::CqBuilt::default()),
        "wide_adder" => emit("wide_adder", crate::fixtures::WideAdder::default()),
        "context_cache" => emit("context_cache", crate::fixtures::CacheFixture::default()),
        other => Err(EmitError::UnknownBlock(
            other.to_string(),
            BLOCKS.join(", "),
        )),
    }
}
