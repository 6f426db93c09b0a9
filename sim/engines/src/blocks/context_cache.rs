//! The shared context cache's fixture on both clocked backends.

use crate::verilated;
use hca_rtl::fixtures::CacheFixture;

crate::bind_block! {
    rtl: CacheFixture,
    verilated: verilated::context_cache::Model,
    inputs CacheIn {
        clear: bool,
        line: u64,
        entry: u64,
        write: bool,
        write0: u64,
        write1: u64,
        write2: u64,
        fill: bool,
        fill_word: u64,
        fill_data: u64,
        fill_done: bool,
        drop: bool,
    }
    outputs CacheOut {
        word0: u64,
        word1: u64,
        word2: u64,
        held: u64,
        valid: u64,
    }
}
