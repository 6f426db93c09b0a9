//! The clock and reset drivers.

use crate::dut::{Dut, Unsettled};

/// Drives a DUT's clock: each [`Clock::cycle`] is a rising edge at the start
/// of the period and a falling edge half-way, each recorded in the trace.
/// Inputs are driven while the clock is low, as a synchronous testbench
/// would.
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

    /// Cycles completed so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    pub fn time_ps(&self) -> u64 {
        self.cycles * self.period_ps
    }

    /// Put the clock low and record time zero; call once before driving.
    pub fn start<D: Dut>(&mut self, dut: &mut D) -> Result<(), Unsettled> {
        dut.clock_pin(false)?;
        dut.dump(self.time_ps());
        Ok(())
    }

    /// One full period: rising edge, then falling edge.
    pub fn cycle<D: Dut>(&mut self, dut: &mut D) -> Result<(), Unsettled> {
        let t = self.time_ps();
        // Record the inputs driven during the low phase just before the edge.
        dut.dump(t + self.period_ps - 1);
        dut.clock_pin(true)?;
        self.cycles += 1;
        dut.dump(self.time_ps());
        dut.clock_pin(false)?;
        dut.dump(self.time_ps() + self.period_ps / 2);
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
        dut.sample()?;
        clock.cycle(dut)?;
    }
    set_reset(&mut i, false);
    dut.drive(&i);
    Ok(())
}
