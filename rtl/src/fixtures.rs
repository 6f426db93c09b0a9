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
