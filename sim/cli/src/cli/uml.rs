//! `hca uml`: the upstream Linux mlx4 driver, in User-Mode Linux, against
//! the simulated HCA. Prints the kernel log (or writes it to a file) and a
//! line per command the driver issued, then a summary.

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
        ..Default::default()
    };
    let mut out = std::io::stdout().lock();
    let summary = a.summary;
    let mut on_line = |l: Line| {
        if summary {
            if let (Line::Kernel(s), Some(f)) = (&l, &mut log) {
                let _ = writeln!(f, "{s}");
            }
            return;
        }
        let _ = match l {
            Line::Kernel(s) => match &mut log {
                Some(f) => writeln!(f, "{s}"),
                None => writeln!(out, "kernel | {s}"),
            },
            Line::Device(DeviceEvent::Command(c)) => writeln!(out, "hca    | {}", c.line()),
            Line::Device(DeviceEvent::Msi(m)) => {
                writeln!(
                    out,
                    "hca    | MSI-X vector {} -> data {:#x}",
                    m.vector, m.data
                )
            }
            Line::Device(DeviceEvent::Warning(w)) => writeln!(out, "hca    | warning: {w}"),
            Line::Device(DeviceEvent::Config(w)) => writeln!(out, "hca    | {w}"),
        };
    };
    let report = uml::run(&k, &opts, stop, &mut on_line)?;
    if let Some(p) = &a.trace_json {
        let cmds: Vec<_> = report.commands().collect();
        std::fs::write(p, serde_json::to_string_pretty(&cmds)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
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
    if report.timed_out {
        crate::outln!("timed out after {} s", a.timeout);
    }
    if report.interrupted {
        crate::outln!("interrupted");
    }
    Ok(!report.timed_out && !report.interrupted)
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
