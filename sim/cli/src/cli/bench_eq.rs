//! `hca bench eq`: the firmware's event path (a command completed by
//! event: an EQE through the CQ/EQ engine, an MSI-X vector, the driver's
//! re-arming doorbell) on each engine backend, side by side: device time
//! per command, engine clock cycles per event, and the ratios.

use anyhow::{bail, Result};
use hca_engines::backend::Backend;
use hca_engines::blocks::cq;
use hca_engines::stream::Pacing;
use hca_firmware::host::Host;
use hca_firmware::opcode as op;
use hca_firmware::{Command, Firmware, Status};
use std::time::Instant;

const EQ: u32 = 5;

struct Row {
    backend: Backend,
    per_cmd_us: f64,
    cycles_per_event: f64,
}

fn measure(backend: Backend, n: u64) -> Result<Row> {
    let engine = cq::open(backend, None, Pacing::FULL_SPEED, 0)?;
    let mut h = Host::new(Firmware::with_engine(engine));
    h.bring_up();
    let (s, _) = h.create_eq(EQ, 8, 1, 16);
    if s != Status::Ok || h.cmd(op::MAP_EQ, 0, 1 << 0x0a, EQ) != Status::Ok {
        bail!("setting up the EQ on {}: {s}", backend.name());
    }
    let c0 = h.fw.engine().1;
    let t0 = Instant::now();
    for i in 0..n {
        let c = h.post(Command {
            opcode: op::NOP,
            in_modifier: 0x1f,
            token: i as u16,
            event: true,
            ..Default::default()
        });
        if c.status != Status::Ok || h.fw.take_interrupts().len() != 1 {
            bail!(
                "NOP {i} on {}: {} or no interrupt",
                backend.name(),
                c.status
            );
        }
        h.eq_doorbell(EQ, (i + 1) as u32, true);
    }
    let dt = t0.elapsed().as_secs_f64();
    let cycles = h.fw.engine().1 - c0;
    Ok(Row {
        backend,
        per_cmd_us: dt * 1e6 / n as f64,
        cycles_per_event: cycles as f64 / n as f64,
    })
}

pub fn eq(n: u64) -> Result<()> {
    crate::outln!(
        "{n} NOPs completed by event per backend; per command: the post, its EQE and MSI-X vector, and the re-arming doorbell\n"
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
