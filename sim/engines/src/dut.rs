//! A clocked design under test, as the testbench sees it.

use std::path::Path;

/// The design did not settle: its combinational logic oscillates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsettled;

/// A simulator backend holding one design.
///
/// Inputs and outputs are plain structs with one field per port (the clock
/// excepted), so the same test body drives every backend.
pub trait Dut {
    type In: Clone + Default + std::fmt::Debug;
    type Out: Clone + std::fmt::Debug;

    /// `rtl` for the in-process rust-hdl simulation, `verilator` for the
    /// Verilator build.
    fn backend(&self) -> &'static str;

    /// Set every input; they take effect at the next evaluation.
    fn drive(&mut self, inputs: &Self::In);

    /// Evaluate the design until it is stable for the current inputs and
    /// clock pin (a rising edge clocks its registers). Cheap when nothing
    /// changed since the last call.
    fn settle(&mut self) -> Result<(), Unsettled>;

    /// Settle, then sample every output.
    fn sample(&mut self) -> Result<Self::Out, Unsettled>;

    /// Put the clock pin at `high`; it takes effect at the next settle.
    fn clock_pin(&mut self, high: bool);

    /// Whether a trace is open (the clock skips dumps otherwise).
    fn tracing(&self) -> bool;

    /// Start recording every signal to a VCD file at `path`.
    fn open_trace(&mut self, path: &Path) -> std::io::Result<()>;

    /// Record the current value of every signal at `time_ps` (a no-op when
    /// no trace is open).
    fn dump(&mut self, time_ps: u64);

    /// Flush and close the trace, if one is open.
    fn close_trace(&mut self);
}
