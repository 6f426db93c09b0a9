//! What the tools add to each block of `hca_rtl::registry::BLOCKS` (its
//! name, title and layouts live there): how `hca block` serves it with
//! JSON Lines and how `hca run` runs it at random. `hca block`'s choices
//! and `hca run`'s loop read it; a test holds it to the RTL's list, row for
//! row.

use super::jsonl::{self, Totals};
use super::run::{self, BlockRun};
use super::{block_atomic, block_cq, block_qpc, block_tpt};
use crate::Backend;
use anyhow::Result;
use std::io::{BufRead, Write};
use std::path::Path;

/// `hca block <name>`: answer JSON Lines from `input` on `output`.
pub type Serve = fn(
    Backend,
    Option<&Path>,
    Option<u64>,
    &mut dyn BufRead,
    &mut dyn Write,
) -> Result<(Totals, u64)>;

pub struct BlockEntry {
    /// The RTL registry's name for it.
    pub name: &'static str,
    pub serve: Serve,
    pub run: BlockRun,
}

/// Every block, in the RTL registry's order.
pub const BLOCKS: &[BlockEntry] = &[
    BlockEntry {
        name: "atomic",
        serve: |b, v, m, i, o| jsonl::serve::<block_atomic::Atomic>(b, v, m, i, o),
        run: run::atomic,
    },
    BlockEntry {
        name: "qpc",
        serve: |b, v, m, i, o| jsonl::serve::<block_qpc::Qpc>(b, v, m, i, o),
        run: run::qpc,
    },
    BlockEntry {
        name: "tpt",
        serve: |b, v, m, i, o| jsonl::serve::<block_tpt::Tpt>(b, v, m, i, o),
        run: run::tpt,
    },
    BlockEntry {
        name: "cq",
        serve: |b, v, m, i, o| jsonl::serve::<block_cq::Cq>(b, v, m, i, o),
        run: run::cq,
    },
];

impl BlockEntry {
    /// The RTL's entry for this block (its title, its layouts).
    pub fn design(&self) -> &'static hca_rtl::registry::Design {
        hca_rtl::registry::find(self.name).expect("held to the RTL registry by a test")
    }
}

/// The block called `name`.
pub fn find(name: &str) -> Option<&'static BlockEntry> {
    BLOCKS.iter().find(|b| b.name == name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tools_know_the_blocks_the_rtl_has() {
        let names: Vec<&str> = super::BLOCKS.iter().map(|b| b.name).collect();
        let rtl: Vec<&str> = hca_rtl::registry::block_names().collect();
        assert_eq!(names, rtl);
    }
}
