//! `hca uml`: the upstream Linux mlx4 driver, in User-Mode Linux, against
//! the simulated HCA: one kernel or several, each with an HCA of its own,
//! all on one fabric with its subnet manager. Prints the kernel logs (or
//! writes them to a file) and a line per command each driver issued, then
//! a summary: per host, its commands and its port as the kernel's sysfs
//! has it; for the fabric, the SM's view and what crossed it.

use anyhow::{Context, Result};
use hca_device::DeviceEvent;
use hca_uml::{self as uml, Line, Options};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub struct UmlArgs {
    pub kernel_log: Option<PathBuf>,
    pub trace_json: Option<PathBuf>,
    pub timeout: u64,
    pub extra: Vec<String>,
    pub engine: crate::Backend,
    /// Print a table per opcode at the end instead of a line per command.
    pub summary: bool,
    pub hosts: usize,
    pub pcap: Option<PathBuf>,
    /// Seconds each guest waits for its port to come ACTIVE (0: it does
    /// not wait, and reports nothing of its port).
    pub wait_active: u32,
}

/// The repository root: where `scripts/` is.
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    here.canonicalize().unwrap_or(here)
}

pub fn run(a: UmlArgs) -> Result<bool> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // A second handler cannot be set (tests may call twice): fine.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed));
    }
    crate::errln!("hca uml: kernel (scripts/build-uml-kernel.sh; built once, then cached)");
    let k = uml::kernel(&repo_root())?;
    let mut log = match &a.kernel_log {
        Some(p) => {
            Some(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)
        }
        None => None,
    };
    crate::errln!(
        "hca uml: booting {} against the simulated ConnectX-3",
        k.linux.display()
    );
    let opts = Options {
        timeout: Duration::from_secs(a.timeout),
        extra_args: a.extra.clone(),
        engine: a.engine,
        hosts: a.hosts,
        pcap: a.pcap.clone(),
        guest_script: (a.wait_active > 0).then(|| uml::guest::wait_for_active(a.wait_active)),
        ..Default::default()
    };
    let mut out = std::io::stdout().lock();
    let summary = a.summary;
    let many = a.hosts > 1;
    // One host: `kernel |` and `hca    |`; several: `uml0   |`, `hca0   |`.
    let tag = |what: &str, h: usize| {
        let t = if many {
            format!("{}{h}", if what == "kernel" { "uml" } else { "hca" })
        } else {
            what.to_string()
        };
        format!("{t:<6} |")
    };
    let mut on_line = |h: usize, l: Line| {
        if summary {
            if let (Line::Kernel(s), Some(f)) = (&l, &mut log) {
                let _ = if many {
                    writeln!(f, "{} {s}", tag("kernel", h))
                } else {
                    writeln!(f, "{s}")
                };
            }
            return;
        }
        let d = tag("hca", h);
        let _ = match l {
            Line::Kernel(s) => match &mut log {
                Some(f) if many => writeln!(f, "{} {s}", tag("kernel", h)),
                Some(f) => writeln!(f, "{s}"),
                None => writeln!(out, "{} {s}", tag("kernel", h)),
            },
            Line::Device(DeviceEvent::Command(c)) => writeln!(out, "{d} {}", c.line()),
            Line::Device(DeviceEvent::Msi(m)) => {
                writeln!(out, "{d} MSI-X vector {} -> data {:#x}", m.vector, m.data)
            }
            Line::Device(DeviceEvent::Warning(w)) => writeln!(out, "{d} warning: {w}"),
            Line::Device(DeviceEvent::Config(w)) => writeln!(out, "{d} {w}"),
        };
    };
    let run = uml::run(&k, &opts, stop, &mut on_line)?;
    if let Some(p) = &a.trace_json {
        let cmds: Vec<Vec<_>> = run.hosts.iter().map(|r| r.commands().collect()).collect();
        let json = if many {
            serde_json::to_string_pretty(&cmds)?
        } else {
            serde_json::to_string_pretty(&cmds[0])?
        };
        std::fs::write(p, json).with_context(|| format!("writing {}", p.display()))?;
    }
    let mut all_active = true;
    for (h, report) in run.hosts.iter().enumerate() {
        if many {
            crate::outln!();
            crate::outln!("host {h} (uml{h}, node GUID {:#018x}):", uml::node_guid(h));
        }
        all_active &= host_summary(&a, report)?;
    }
    fabric_summary(&run)?;
    let ok = !run.timed_out() && !run.interrupted();
    if ok && !all_active {
        crate::outln!("a port did not come ACTIVE within {} s", a.wait_active);
    }
    Ok(ok && all_active)
}

/// The fabric's side: the SM's view of each switch port, what it and
/// the SA did, and the packets.
fn fabric_summary(run: &uml::Run) -> Result<()> {
    crate::outln!();
    let ports: Vec<String> = run
        .sm_ports
        .iter()
        .enumerate()
        .skip(1)
        .map(|(p, (phase, lid))| format!("port {p} {phase:?} LID {lid}"))
        .collect();
    crate::outln!(
        "subnet manager (LID {}): {}",
        hca_fabric::sm::SM_LID,
        ports.join(", ")
    );
    crate::outln!("  {}", by_reason(&run.fabric.sm));
    let eps: Vec<String> = run
        .fabric
        .endpoints
        .iter()
        .map(|(n, s)| format!("{n} tx {} rx {}", s.tx_packets, s.rx_packets))
        .collect();
    crate::outln!(
        "fabric: {}; {} forwarded",
        eps.join(", "),
        run.fabric.forwarded
    );
    for ((sw, why), n) in &run.fabric.switch_drops {
        crate::outln!("  {sw} dropped {n}: {why}");
    }
    if let Some((p, n)) = &run.pcap {
        crate::outln!("capture: {} ({n} packets)", p.display());
    }
    Ok(())
}

/// One host's summary; whether its port came ACTIVE (true when the guest
/// was not asked to wait).
fn host_summary(a: &UmlArgs, report: &uml::Report) -> Result<bool> {
    let cmds: Vec<_> = report.commands().collect();
    let failed: Vec<_> = cmds
        .iter()
        .filter(|c| c.status != hca_firmware::Status::Ok)
        .collect();
    if a.summary {
        crate::out!("{}", by_opcode(&cmds));
        let irqs = report
            .events
            .iter()
            .filter(|e| matches!(e, DeviceEvent::Msi(_)))
            .count();
        let msix = report
            .events
            .iter()
            .any(|e| matches!(e, DeviceEvent::Config(s) if s == "MSI-X enabled"));
        crate::outln!(
            "MSI-X {}; {irqs} interrupts sent; CQ/EQ engine on {}: {} clock cycles; {} config and {} MMIO accesses",
            if msix {
                "enabled by the driver"
            } else {
                "never enabled"
            },
            report.engine.0,
            report.engine.1,
            report.pci_stats.config_reads + report.pci_stats.config_writes,
            report.pci_stats.mmio_reads + report.pci_stats.mmio_writes,
        );
        for l in report.kernel_log.iter().filter(|l| {
            l.contains("FW version")
                || l.contains("IRQ test")
                || l.contains("aborting")
                || l.contains("probe of")
                || l.contains("mlx4_ib_add")
                || l.contains("Continuing with")
                || (l.contains("Couldn't") && l.contains("mlx4"))
        }) {
            crate::outln!("kernel: {l}");
        }
    }
    crate::outln!();
    crate::outln!(
        "summary: {} commands, {} not OK; UML {}; device: {}; {:.1} s",
        cmds.len(),
        failed.len(),
        report.uml_exit,
        report.device_end,
        report.elapsed.as_secs_f64()
    );
    if let Some(f) = failed.first() {
        crate::outln!("first command not completed: {}", f.line());
    }
    if let Some(f) = failed
        .iter()
        .find(|c| c.status == hca_firmware::Status::BadOp)
    {
        crate::outln!("first command the firmware lacks: {}", f.line());
    }
    let drops = by_reason(&report.transport.events);
    crate::outln!(
        "transport: {} packets sent, {} received, {} dropped{}",
        report.transport.tx_packets,
        report.transport.rx_packets,
        report.transport.dropped,
        if drops.is_empty() {
            String::new()
        } else {
            format!(" ({drops})")
        }
    );
    if report.timed_out {
        crate::outln!("timed out after {} s", a.timeout);
    }
    if report.interrupted {
        crate::outln!("interrupted");
    }
    if a.wait_active == 0 {
        return Ok(true);
    }
    match uml::GuestPort::from_log(&report.kernel_log) {
        Some(p) => {
            crate::outln!(
                "port 1 (kernel sysfs): {}, {}, LID {}, SM LID {}",
                p.state,
                p.phys_state,
                p.lid.map_or("-".into(), |l| l.to_string()),
                p.sm_lid.map_or("-".into(), |l| l.to_string())
            );
            Ok(p.active())
        }
        None => {
            crate::outln!("port 1: the guest reported nothing (it did not get that far)");
            Ok(false)
        }
    }
}

/// Counters by reason, `name count, name count`.
fn by_reason(m: &std::collections::BTreeMap<&'static str, u64>) -> String {
    let v: Vec<String> = m.iter().map(|(k, n)| format!("{k} {n}")).collect();
    v.join(", ")
}

/// One row per opcode, in the order first seen: count, statuses, device time.
fn by_opcode(cmds: &[&hca_firmware::CommandRecord]) -> String {
    let mut rows: Vec<(&str, usize, Vec<&str>, f64)> = Vec::new();
    for c in cmds {
        let i = match rows.iter().position(|r| r.0 == c.name) {
            Some(i) => i,
            None => {
                rows.push((c.name, 0, Vec::new(), 0.0));
                rows.len() - 1
            }
        };
        let r = &mut rows[i];
        r.1 += 1;
        if !r.2.contains(&c.status.name()) {
            r.2.push(c.status.name());
        }
        r.3 += c.duration.as_secs_f64() * 1e6;
    }
    let mut s = format!(
        "{:<18} {:>6}  {:<24} {:>12}\n",
        "command", "count", "status", "device us"
    );
    for (name, n, st, us) in rows {
        s.push_str(&format!(
            "{name:<18} {n:>6}  {:<24} {us:>12.1}\n",
            st.join(",")
        ));
    }
    s
}
