//! Run the upstream Linux mlx4 driver, in User-Mode Linux, against the
//! simulated HCA: build (or find) the kernel, serve one device per host on
//! a Unix socket of its own, every device's port on one fabric with its
//! subnet manager, boot a UML kernel on each, stream the kernel logs and
//! the devices' events, and leave nothing behind: every UML's whole
//! process group is killed and the run's directory removed on every way
//! out.

#![forbid(unsafe_code)]

mod device;
mod guard;
pub mod guest;
mod run;
mod subnet;

pub use device::node_guid;
pub use guest::GuestPort;
pub use run::run;

use anyhow::{bail, Context, Result};
use hca_device::DeviceEvent;
use hca_engines::backend::Backend;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// UML_PCI_OVER_VIRTIO_DEVICE_ID the kernel was configured with
/// (scripts/build-uml-kernel.sh).
pub const VIRTIO_DEVICE_ID: u32 = 1234;

/// The kernel and root file system.
#[derive(Clone, Debug)]
pub struct Kernel {
    pub linux: PathBuf,
    pub rootfs: PathBuf,
}

/// Build the kernel if the cache lacks it (progress goes to stderr), and
/// return its paths.
pub fn kernel(repo: &Path) -> Result<Kernel> {
    let script = repo.join("scripts/build-uml-kernel.sh");
    let out = Command::new(&script)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!("{} failed ({})", script.display(), out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let [.., linux, rootfs] = lines.as_slice() else {
        bail!("{} printed no kernel and root paths", script.display());
    };
    Ok(Kernel {
        linux: linux.into(),
        rootfs: rootfs.into(),
    })
}

/// What one host of a run saw.
#[derive(Debug, Default)]
pub struct Report {
    pub kernel_log: Vec<String>,
    pub events: Vec<DeviceEvent>,
    /// How UML ended: its exit status, or why it was killed.
    pub uml_exit: String,
    /// How the device ended.
    pub device_end: String,
    pub timed_out: bool,
    pub interrupted: bool,
    pub elapsed: Duration,
    /// The directory the socket and UML's memory file lived in (removed).
    pub run_dir: PathBuf,
    /// UML's process group (killed).
    pub process_group: i32,
    /// What crossed the transport.
    pub pci_stats: hca_device::device::PciStats,
    /// The CQ/EQ engine's backend and the clock cycles it ran.
    pub engine: (&'static str, u64),
    /// The transport engine's counters (packets, drops by reason).
    pub transport: hca_transport::Counters,
}

impl Report {
    pub fn commands(&self) -> impl Iterator<Item = &hca_firmware::CommandRecord> {
        self.events.iter().filter_map(|e| match e {
            DeviceEvent::Command(c) => Some(c),
            _ => None,
        })
    }
}

/// What a whole run saw: each host, and the fabric between them.
#[derive(Debug, Default)]
pub struct Run {
    pub hosts: Vec<Report>,
    /// What crossed the fabric (per endpoint, the switch, the SM and SA).
    pub fabric: hca_fabric::FabricStats,
    /// Each switch port's phase at the SM and the LID it gave (index =
    /// switch port; host `h` is on port `h + 1`).
    pub sm_ports: Vec<(hca_fabric::Phase, u16)>,
    /// The capture written, and how many packets it holds.
    pub pcap: Option<(PathBuf, u64)>,
    pub elapsed: Duration,
    /// The run's directory (the sockets, the guests' scripts; removed).
    pub run_dir: PathBuf,
}

impl Run {
    pub fn timed_out(&self) -> bool {
        self.hosts.iter().any(|h| h.timed_out)
    }

    pub fn interrupted(&self) -> bool {
        self.hosts.iter().any(|h| h.interrupted)
    }
}

/// One line of output from the run, as it happens.
pub enum Line<'a> {
    Kernel(&'a str),
    Device(&'a DeviceEvent),
}

/// Options of a run.
pub struct Options {
    /// Give up (and kill UML) after this long.
    pub timeout: Duration,
    /// Memory for the guest.
    pub mem_mb: u32,
    /// More kernel command-line words.
    pub extra_args: Vec<String>,
    /// Where the device's blocks (the CQ/EQ engine, the TPT, the QPC,
    /// the atomic unit) run.
    pub engine: Backend,
    /// UML kernels, each with an HCA of its own, all on one fabric.
    pub hosts: usize,
    /// A script each guest runs once booted (its host number the first
    /// argument), e.g. [`guest::wait_for_active`]; none by default.
    pub guest_script: Option<String>,
    /// Record every packet on the fabric into this file (pcap, ERF
    /// InfiniBand records).
    pub pcap: Option<PathBuf>,
    /// The fabric's fault seed.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(120),
            mem_mb: 256,
            extra_args: Vec::new(),
            engine: Backend::Verilator,
            hosts: 1,
            guest_script: None,
            pcap: None,
            seed: 1,
        }
    }
}
