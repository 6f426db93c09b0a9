//! The context cache every block that keeps contexts in ICM puts in front
//! of its ICM port: the QPC (write-back), the TPT (write-through) and the
//! CQ engine (write-back, with a flush when a CQ is freed).
//!
//! A direct-mapped cache of `LINES = 1 << IDX` entries of `W` 64-bit words:
//! one block RAM per word, read in parallel, a block RAM of the entry each
//! line holds, and a valid bit per line in registers. It holds the lines
//! and knows which entry each holds; the block's own state machine decides
//! when to fill a line from ICM, when to write one back, and keeps the
//! dirty bits of a write-back policy (a line is dirty only while valid: a
//! block sets it on a write after a hit and clears it with the line).
//!
//! One clock after `line` is given, `words` and `held` are the line's;
//! `valid` has a bit per line. A block's hit is `valid[line] & held ==
//! entry`, worked out by the block: every output here comes straight from
//! a register or a RAM, so no combinational path runs through the cache
//! from the block's address back into the block (Verilator would see the
//! two always-blocks as one loop). In a clock:
//!
//! * `write` puts `write_words` in the line (an executed request);
//! * `fill` puts `fill_data` in word `fill_word` (one ICM beat; a word at
//!   or past `W` is dropped, for a context whose last ICM words the block
//!   does not keep), and `fill_done` with it makes the line valid, holding
//!   `entry`;
//! * `drop` makes the line invalid; `clear` every line (reset, SYNC_TPT).
//!
//! `fill` wins over `write` in the same clock (a block never asks both).

use crate::icm_layout::c;
use rust_hdl::prelude::*;

/// The width of a line index for a cache of `lines` lines (a power of two,
/// checked when the cache is built), for the block types' parameters.
pub const fn index_bits(lines: usize) -> usize {
    lines.trailing_zeros() as usize
}

#[derive(LogicBlock)]
pub struct ContextCache<const IDX: usize, const LINES: usize, const W: usize> {
    pub clock: Signal<In, Clock>,
    /// Every line invalid.
    pub clear: Signal<In, Bit>,
    /// The line addressed, for reading and writing alike.
    pub line: Signal<In, Bits<IDX>>,
    /// The entry the request names (what a fill makes the line hold).
    pub entry: Signal<In, Bits<24>>,
    pub write: Signal<In, Bit>,
    pub write_words: [Signal<In, Bits<64>>; W],
    pub fill: Signal<In, Bit>,
    pub fill_word: Signal<In, Bits<3>>,
    pub fill_data: Signal<In, Bits<64>>,
    pub fill_done: Signal<In, Bit>,
    pub drop: Signal<In, Bit>,

    /// The line's words, a clock after `line`.
    pub words: [Signal<Out, Bits<64>>; W],
    /// The entry the line holds (meaningful while it is valid).
    pub held: Signal<Out, Bits<24>>,
    /// A bit per line: it holds an entry.
    pub valid: Signal<Out, Bits<LINES>>,

    rams: [RAM<Bits<64>, IDX>; W],
    tags: RAM<Bits<24>, IDX>,
    valid_lines: DFF<Bits<LINES>>,
    onehot: Signal<Local, Bits<LINES>>,
    word_ids: [Constant<Bits<3>>; W],
    one_line: Constant<Bits<LINES>>,
    no_lines: Constant<Bits<LINES>>,
}

impl<const IDX: usize, const LINES: usize, const W: usize> Default for ContextCache<IDX, LINES, W> {
    fn default() -> Self {
        assert_eq!(LINES, 1 << IDX, "LINES must be 2^IDX");
        assert!(
            (1..=8).contains(&W),
            "1 to 8 words an entry (a 3-bit fill beat)"
        );
        ContextCache {
            clock: Default::default(),
            clear: Default::default(),
            line: Default::default(),
            entry: Default::default(),
            write: Default::default(),
            write_words: std::array::from_fn(|_| Default::default()),
            fill: Default::default(),
            fill_word: Default::default(),
            fill_data: Default::default(),
            fill_done: Default::default(),
            drop: Default::default(),
            words: std::array::from_fn(|_| Default::default()),
            held: Default::default(),
            valid: Default::default(),
            rams: std::array::from_fn(|_| Default::default()),
            tags: Default::default(),
            valid_lines: Default::default(),
            onehot: Default::default(),
            word_ids: std::array::from_fn(|k| c(k as u64)),
            one_line: c(1),
            no_lines: c(0),
        }
    }
}

impl<const IDX: usize, const LINES: usize, const W: usize> Logic for ContextCache<IDX, LINES, W> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, valid_lines);
        self.onehot.next = self.one_line.val() << self.line.val();
        self.tags.read_clock.next = self.clock.val();
        self.tags.write_clock.next = self.clock.val();
        self.tags.read_address.next = self.line.val();
        self.tags.write_address.next = self.line.val();
        self.tags.write_data.next = self.entry.val();
        self.tags.write_enable.next = self.fill.val() & self.fill_done.val();
        for k in 0..W {
            self.rams[k].read_clock.next = self.clock.val();
            self.rams[k].write_clock.next = self.clock.val();
            self.rams[k].read_address.next = self.line.val();
            self.rams[k].write_address.next = self.line.val();
            self.rams[k].write_data.next = self.write_words[k].val();
            self.rams[k].write_enable.next = self.write.val();
            if self.fill.val() {
                self.rams[k].write_data.next = self.fill_data.val();
                self.rams[k].write_enable.next = self.fill_word.val() == self.word_ids[k].val();
            }
            self.words[k].next = self.rams[k].read_data.val();
        }
        self.held.next = self.tags.read_data.val();
        self.valid.next = self.valid_lines.q.val();
        if self.fill.val() & self.fill_done.val() {
            self.valid_lines.d.next = self.valid_lines.q.val() | self.onehot.val();
        }
        if self.drop.val() {
            self.valid_lines.d.next = self.valid_lines.q.val() & !self.onehot.val();
        }
        if self.clear.val() {
            self.valid_lines.d.next = self.no_lines.val();
        }
    }
}

/// One clock's inputs to the cache, as [`CacheModel`] takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheInputs<const W: usize> {
    pub clear: bool,
    pub line: usize,
    pub entry: u32,
    pub write: bool,
    pub write_words: [u64; W],
    pub fill: bool,
    pub fill_word: u8,
    pub fill_data: u64,
    pub fill_done: bool,
    pub drop: bool,
}

impl<const W: usize> Default for CacheInputs<W> {
    fn default() -> Self {
        CacheInputs {
            clear: false,
            line: 0,
            entry: 0,
            write: false,
            write_words: [0; W],
            fill: false,
            fill_word: 0,
            fill_data: 0,
            fill_done: false,
            drop: false,
        }
    }
}

/// The cache clock by clock, as its block RAMs and registers behave: a
/// read in a clock sees the line as it was before that clock's write. The
/// reference the cache's differential test holds the RTL to.
#[derive(Clone, Debug)]
pub struct CacheModel<const LINES: usize, const W: usize> {
    lines: [[u64; W]; LINES],
    held_by: [u32; LINES],
    valid: u64,
    words: [u64; W],
    held: u32,
}

impl<const LINES: usize, const W: usize> Default for CacheModel<LINES, W> {
    fn default() -> Self {
        assert!(LINES <= 64, "the model keeps valid bits in a u64");
        CacheModel {
            lines: [[0; W]; LINES],
            held_by: [0; LINES],
            valid: 0,
            words: [0; W],
            held: 0,
        }
    }
}

impl<const LINES: usize, const W: usize> CacheModel<LINES, W> {
    /// One clock edge with `i` on the inputs.
    pub fn clock(&mut self, i: &CacheInputs<W>) {
        let line = i.line % LINES;
        self.words = self.lines[line];
        self.held = self.held_by[line];
        let bit = 1u64 << line;
        if i.fill {
            if let Some(w) = self.lines[line].get_mut(i.fill_word as usize) {
                *w = i.fill_data;
            }
            if i.fill_done {
                self.held_by[line] = i.entry & 0xff_ffff;
                self.valid |= bit;
            }
        } else if i.write {
            self.lines[line] = i.write_words;
        }
        if i.drop {
            self.valid &= !bit;
        }
        if i.clear {
            self.valid = 0;
        }
    }

    /// The words read in the last clock.
    pub fn words(&self) -> [u64; W] {
        self.words
    }

    /// The entry the line read in the last clock holds.
    pub fn held(&self) -> u32 {
        self.held
    }

    /// A bit per line.
    pub fn valid(&self) -> u64 {
        self.valid
    }
}
