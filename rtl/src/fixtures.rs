//! Designs that exist to test the flow rather than to be hardware.

use rust_hdl::prelude::*;

/// A registered 128-bit adder: proves that the emitted Verilog, the
/// Verilator shim and both simulator backends carry ports wider than 64
/// bits (the CQE and EQE ports of later blocks are 256 bits).
#[derive(LogicBlock, Default)]
pub struct WideAdder {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<128>>,
    pub b: Signal<In, Bits<128>>,
    pub sum: Signal<Out, Bits<128>>,
    acc: DFF<Bits<128>>,
}

impl Logic for WideAdder {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, acc);
        self.acc.d.next = self.a.val() + self.b.val();
        self.sum.next = self.acc.q.val();
    }
}

/// The shared context cache alone, small (four lines of three words), with
/// flat ports so both clocked backends can drive it: its differential test
/// holds it to [`crate::cache::CacheModel`] clock by clock.
#[derive(LogicBlock, Default)]
pub struct CacheFixture {
    pub clock: Signal<In, Clock>,
    pub clear: Signal<In, Bit>,
    pub line: Signal<In, Bits<2>>,
    pub entry: Signal<In, Bits<24>>,
    pub write: Signal<In, Bit>,
    pub write0: Signal<In, Bits<64>>,
    pub write1: Signal<In, Bits<64>>,
    pub write2: Signal<In, Bits<64>>,
    pub fill: Signal<In, Bit>,
    pub fill_word: Signal<In, Bits<3>>,
    pub fill_data: Signal<In, Bits<64>>,
    pub fill_done: Signal<In, Bit>,
    pub drop: Signal<In, Bit>,
    pub word0: Signal<Out, Bits<64>>,
    pub word1: Signal<Out, Bits<64>>,
    pub word2: Signal<Out, Bits<64>>,
    pub held: Signal<Out, Bits<24>>,
    pub valid: Signal<Out, Bits<4>>,
    cache: crate::cache::ContextCache<2, 4, 3>,
}

impl Logic for CacheFixture {
    #[hdl_gen]
    fn update(&mut self) {
        self.cache.clock.next = self.clock.val();
        self.cache.clear.next = self.clear.val();
        self.cache.line.next = self.line.val();
        self.cache.entry.next = self.entry.val();
        self.cache.write.next = self.write.val();
        self.cache.write_words[0].next = self.write0.val();
        self.cache.write_words[1].next = self.write1.val();
        self.cache.write_words[2].next = self.write2.val();
        self.cache.fill.next = self.fill.val();
        self.cache.fill_word.next = self.fill_word.val();
        self.cache.fill_data.next = self.fill_data.val();
        self.cache.fill_done.next = self.fill_done.val();
        self.cache.drop.next = self.drop.val();
        self.word0.next = self.cache.words[0].val();
        self.word1.next = self.cache.words[1].val();
        self.word2.next = self.cache.words[2].val();
        self.held.next = self.cache.held.val();
        self.valid.next = self.cache.valid.val();
    }
}
