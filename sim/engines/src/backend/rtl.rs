//! The rust-hdl design, simulated in process with a single-threaded
//! lock-step driver.
//!
//! rust-hdl's own `Simulation` runs the testbench and the clock on separate
//! threads and hands the circuit between them at every edge; calling
//! `update_all` until nothing changes, from the testbench's own thread, is
//! the same evaluation without the hand-offs (about 60x faster here; see
//! `hca bench atomic`).

use crate::Unsettled;
use rust_hdl::core::vcd_probe::VCDProbe;
use rust_hdl::prelude::*;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

/// Delta cycles allowed for the combinational logic to settle.
const MAX_DELTAS: usize = 100;

pub struct RtlSim<B: Block> {
    uut: Box<B>,
    vcd: Option<VCDProbe<BufWriter<File>>>,
    /// Inputs or clock changed since the last settle.
    dirty: bool,
}

impl<B: Block + Default> Default for RtlSim<B> {
    fn default() -> Self {
        Self::new(B::default())
    }
}

impl<B: Block> RtlSim<B> {
    pub fn new(uut: B) -> Self {
        let mut uut = Box::new(uut);
        uut.connect_all();
        RtlSim {
            uut,
            vcd: None,
            dirty: true,
        }
    }

    pub fn uut(&self) -> &B {
        &self.uut
    }

    /// The design, to drive its inputs (marks it for settling).
    pub fn uut_mut(&mut self) -> &mut B {
        self.dirty = true;
        &mut self.uut
    }

    /// Propagate changes until the circuit is stable.
    pub fn settle(&mut self) -> Result<(), Unsettled> {
        if !std::mem::take(&mut self.dirty) {
            return Ok(());
        }
        for _ in 0..MAX_DELTAS {
            self.uut.update_all();
            if !self.uut.has_changed() {
                return Ok(());
            }
        }
        Err(Unsettled)
    }

    pub fn open_trace(&mut self, path: &Path) -> std::io::Result<()> {
        let file = BufWriter::new(File::create(path)?);
        self.vcd = Some(write_vcd_header(file, &*self.uut));
        Ok(())
    }

    pub fn dump(&mut self, time_ps: u64) {
        if let Some(mut vcd) = self.vcd.take() {
            let _ = vcd.timestamp(time_ps);
            self.vcd = Some(write_vcd_change(vcd, &*self.uut));
        }
    }

    pub fn tracing(&self) -> bool {
        self.vcd.is_some()
    }

    /// Dropping the probe flushes its writer.
    pub fn close_trace(&mut self) {
        self.vcd = None;
    }
}
