//! The blocks the tools know, once: each block's name (the RTL's, from
//! `hca_rtl::registry::BLOCKS`), its title, how `hca block` serves it with
//! JSON Lines, and how `hca run` runs it at random. `hca block`'s choices,
//! `hca run`'s loop and a test that holds this list to the RTL's read it.

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
    pub name: &'static str,
    /// How `hca run` names it.
    pub title: &'static str,
    pub serve: Serve,
    pub run: BlockRun,
}

/// Every block, in the RTL registry's order.
pub const BLOCKS: &[BlockEntry] = &[
    BlockEntry {
        name: "atomic",
        title: "atomic unit",
        serve: |b, v, m, i, o| jsonl::serve::<block_atomic::Atomic>(b, v, m, i, o),
        run: run::atomic,
    },
    BlockEntry {
        name: "qpc",
        title: "QP context block",
        serve: |b, v, m, i, o| jsonl::serve::<block_qpc::Qpc>(b, v, m, i, o),
        run: run::qpc,
    },
    BlockEntry {
        name: "tpt",
        title: "TPT",
        serve: |b, v, m, i, o| jsonl::serve::<block_tpt::Tpt>(b, v, m, i, o),
        run: run::tpt,
    },
    BlockEntry {
        name: "cq",
        title: "CQ and EQ engine",
        serve: |b, v, m, i, o| jsonl::serve::<block_cq::Cq>(b, v, m, i, o),
        run: run::cq,
    },
];

/// The block called `name`.
pub fn find(name: &str) -> Option<&'static BlockEntry> {
    BLOCKS.iter().find(|b| b.name == name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tools_know_the_blocks_the_rtl_has() {
        let names: Vec<&str> = super::BLOCKS.iter().map(|b| b.name).collect();
        assert_eq!(names, hca_rtl::registry::BLOCKS);
    }
}
