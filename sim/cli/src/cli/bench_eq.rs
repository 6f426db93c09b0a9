//! `hca bench eq`: the event path (a command completed by event: the
//! Rust driver's post through the PCI function, an EQE through the CQ/EQ
//! engine, an MSI-X message, the driver's EQ handler and re-arming
//! doorbell) on each engine backend, side by side: time per command,
//! device clock cycles per event, and the ratios.

use anyhow::{bail, Context, Result};
use hca_device::blocks::firmware_on;
use hca_device::HcaPci;
use hca_driver::{Device, Profile};
use hca_engines::backend::Backend;
use hca_firmware::opcode as op;
use std::time::Instant;

struct Row {
    backend: Backend,
    per_cmd_us: f64,
    cycles_per_event: f64,
}

/// The Rust driver, brought up (in event mode after its NOP test), posts
/// `n` NOPs: each an HCR post, the completion EQE through the engine, the
/// MSI-X message, the driver's EQ handler and its re-arming doorbell.
fn measure(backend: Backend, n: u64) -> Result<Row> {
    let fw = firmware_on(backend).context("opening the blocks")?;
    let mut d = Device::new(HcaPci::with_firmware(fw), Profile::default())?;
    d.bring_up().context("bring-up")?;
    let c0 = d.read_clock();
    let before = d.take_events().interrupts.first().copied().unwrap_or(0);
    let t0 = Instant::now();
    for i in 0..n {
        if let Err(e) = d.cmd_none(op::NOP, 0, 0, 0x1f) {
            bail!("NOP {i} on {}: {e}", backend.name());
        }
    }
    let dt = t0.elapsed().as_secs_f64();
    let cycles = d.read_clock() - c0;
    let irqs = d.take_events().interrupts.first().copied().unwrap_or(0) + before;
    if irqs < n {
        bail!("{} NOPs raised {irqs} interrupts on {}", n, backend.name());
    }
    d.tear_down().context("teardown")?;
    Ok(Row {
        backend,
        per_cmd_us: dt * 1e6 / n as f64,
        cycles_per_event: cycles as f64 / n as f64,
    })
}

pub fn eq(n: u64) -> Result<()> {
    crate::outln!(
        "{n} NOPs completed by event per backend, posted by the Rust driver; per command: the post, its EQE and MSI-X message, the driver's EQ handler and re-arming doorbell\n"
    );
    let rows: Vec<Row> = [Backend::Model, Backend::Verilator, Backend::Rtl]
        .into_iter()
        .map(|b| measure(b, n))
        .collect::<Result<_>>()?;
    let model = rows[0].per_cmd_us;
    crate::outln!(
        "{:<10} {:>14} {:>18} {:>14}",
        "engine",
        "us/command",
        "cycles/event",
        "x model"
    );
    for r in &rows {
        crate::outln!(
            "{:<10} {:>14.2} {:>18.1} {:>14.1}",
            r.backend.name(),
            r.per_cmd_us,
            r.cycles_per_event,
            r.per_cmd_us / model
        );
    }
    crate::outln!(
        "\nUML waits at most ~40 ms for an MMIO read: the slowest backend leaves {:.0}x headroom per command.",
        40_000.0 / rows.iter().map(|r| r.per_cmd_us).fold(0.0, f64::max)
    );
    Ok(())
}
