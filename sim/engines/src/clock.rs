//! The clock and reset drivers.

use crate::dut::{Dut, Unsettled};

/// Drives a DUT's clock. A cycle is a rising edge at the start of the
/// period and a falling edge half-way; the testbench drives the next inputs
/// at the falling edge, and the design settles once for both, so a cycle
/// costs two evaluations (the rust-hdl designs are rising-edge only).
///
/// Waveform times: rising edges at `n * period`, the falling edge with the
/// inputs driven for the next edge at `n * period + period / 2`.
#[derive(Debug, Clone)]
pub struct Clock {
    period_ps: u64,
    cycles: u64,
}

impl Clock {
    /// A clock of the given period; 10 ns (100 MHz) is the testbench default.
    pub fn new(period_ps: u64) -> Self {
        Clock {
            period_ps: period_ps.max(2),
            cycles: 0,
        }
    }

    /// Rising edges so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Time of the last rising edge.
    pub fn time_ps(&self) -> u64 {
        self.cycles * self.period_ps
    }

    /// Put the clock low and settle; call once before driving.
    pub fn start<D: Dut>(&mut self, dut: &mut D) -> Result<(), Unsettled> {
        dut.clock_pin(false);
        dut.settle()?;
        if dut.tracing() {
            dut.dump(0);
        }
        Ok(())
    }

    /// Finish the low phase (settling the inputs driven in it, if the
    /// caller has not sampled yet), raise the clock, and lower it again for
    /// the next inputs.
    pub fn cycle<D: Dut>(&mut self, dut: &mut D) -> Result<(), Unsettled> {
        dut.settle()?;
        let tracing = dut.tracing();
        if tracing {
            dut.dump(self.time_ps() + self.period_ps / 2);
        }
        dut.clock_pin(true);
        dut.settle()?;
        self.cycles += 1;
        if tracing {
            dut.dump(self.time_ps());
        }
        dut.clock_pin(false);
        Ok(())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new(10_000)
    }
}

/// Hold reset for `cycles` clock cycles with every other input at rest,
/// then release it. `set_reset` says where reset sits in the block's inputs.
pub fn reset<D: Dut>(
    dut: &mut D,
    clock: &mut Clock,
    cycles: u64,
    set_reset: fn(&mut D::In, bool),
) -> Result<(), Unsettled> {
    let mut i = D::In::default();
    set_reset(&mut i, true);
    dut.drive(&i);
    for _ in 0..cycles {
        clock.cycle(dut)?;
    }
    set_reset(&mut i, false);
    dut.drive(&i);
    Ok(())
}
