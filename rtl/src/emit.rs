//! Verilog from a rust-hdl design, checked and ready for Verilator and Yosys.

use crate::ports::{all_names, top_ports, Port};
use rust_hdl::prelude::*;

/// A block's emitted Verilog (top module `top`) and its port list.
#[derive(Clone, Debug)]
pub struct Emitted {
    pub name: &'static str,
    pub verilog: String,
    pub ports: Vec<Port>,
}

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error("unknown block `{0}` (known: {1})")]
    UnknownBlock(String, String),
    #[error("block `{block}` fails rust-hdl's design checks: {detail}")]
    Check { block: &'static str, detail: String },
    #[error("block `{block}` names a signal `{name}`, a SystemVerilog keyword Verilator rejects; rename it")]
    Keyword { block: &'static str, name: String },
}

/// Keywords that rust-hdl does not escape and that Verilator, which reads
/// `.v` files as SystemVerilog, refuses as identifiers.
const SV_KEYWORDS: &[&str] = &[
    "bit",
    "byte",
    "config",
    "do",
    "event",
    "final",
    "int",
    "logic",
    "priority",
    "ref",
    "string",
    "table",
    "time",
    "type",
    "unique",
    "wait",
    "module",
    "input",
    "output",
    "wire",
    "reg",
    "begin",
    "end",
    "assign",
    "always",
    "initial",
    "case",
    "default",
    "function",
    "task",
    "interface",
    "class",
    "package",
    "program",
    "property",
    "sequence",
    "shortint",
    "longint",
    "void",
    "enum",
    "struct",
    "union",
    "import",
    "export",
    "virtual",
    "static",
    "automatic",
];

/// Put at the top of every emitted file; each waiver says why it is there.
const LINT_HEADER: &str = "\
// Emitted by hca-rtl from a rust-hdl design. Do not edit: change the Rust.
//
// Waiver: rust-hdl writes every module of a design into one file and names
// submodules `top$field`, so no module name can match the file name.
/* verilator lint_off DECLFILENAME */
";

/// Emit `uut`'s Verilog after rust-hdl's own design checks and a check
/// that no name collides with a SystemVerilog keyword.
pub fn emit<B: Block>(name: &'static str, mut uut: B) -> Result<Emitted, EmitError> {
    uut.connect_all();
    check_all(&uut).map_err(|e| EmitError::Check {
        block: name,
        detail: format!("{e:?}"),
    })?;
    for n in all_names(&uut) {
        let last = n.rsplit('$').next().unwrap_or(&n);
        if SV_KEYWORDS.contains(&last) {
            return Err(EmitError::Keyword {
                block: name,
                name: n,
            });
        }
    }
    let body = generate_verilog_unchecked(&uut);
    Ok(Emitted {
        name,
        verilog: format!("{LINT_HEADER}\n{body}"),
        ports: top_ports(&uut),
    })
}
