//! The blocks this crate provides, by the names the CLI and build use.

use crate::emit::{emit, EmitError, Emitted};

/// Every block, in the order they are documented.
pub const BLOCKS: &[&str] = &["atomic"];

/// Emit the named block's Verilog and port list.
pub fn emit_block(name: &str) -> Result<Emitted, EmitError> {
    match name {
        "atomic" => emit("atomic", crate::atomic::AtomicUnit::default()),
        other => Err(EmitError::UnknownBlock(
            other.to_string(),
            BLOCKS.join(", "),
        )),
    }
}
