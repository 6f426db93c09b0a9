//! The simulator backends.

pub mod rtl;
pub mod verilator;

/// Where a block runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Backend {
    /// The behavioral model: the reference.
    Model,
    /// The rust-hdl design, simulated in process by a lock-step driver.
    Rtl,
    /// The Verilator build of the emitted Verilog.
    Verilator,
}

impl Backend {
    pub const ALL: [Backend; 3] = [Backend::Model, Backend::Rtl, Backend::Verilator];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Model => "model",
            Backend::Rtl => "rtl",
            Backend::Verilator => "verilator",
        }
    }

    /// Whether it simulates clocks (and so can record a waveform).
    pub fn is_clocked(self) -> bool {
        self != Backend::Model
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
