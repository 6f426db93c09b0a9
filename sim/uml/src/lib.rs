//! Run the upstream Linux mlx4 driver, in User-Mode Linux, against the
//! simulated HCA: build (or find) the kernel, serve the device on a Unix
//! socket, boot UML on it, stream the kernel log and the device's events,
//! and leave nothing behind: UML's whole process group is killed and the
//! socket's directory removed on every way out.

#![forbid(unsafe_code)]

use anyhow::{bail, Context, Result};
use hca_device::{DeviceEvent, HcaPci};
use hca_engines::backend::Backend;
use hca_vhost_user::{serve, Event, ServeOutcome};
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

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

/// What a run saw.
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
}

impl Report {
    pub fn commands(&self) -> impl Iterator<Item = &hca_firmware::CommandRecord> {
        self.events.iter().filter_map(|e| match e {
            DeviceEvent::Command(c) => Some(c),
            _ => None,
        })
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
    /// Where the blocks the firmware drives (the CQ/EQ engine, the TPT) run.
    pub engine: Backend,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(120),
            mem_mb: 256,
            extra_args: Vec::new(),
            engine: Backend::Verilator,
        }
    }
}

/// What the device thread reports when it ends.
struct DeviceEnd {
    stats: hca_device::device::PciStats,
    engine: (&'static str, u64),
}

enum Msg {
    Kernel(String),
    KernelDone,
    Device(DeviceEvent),
    DeviceDone(String, Option<DeviceEnd>),
}

/// Kills UML's process group when dropped, whatever happened.
struct Guard {
    child: Child,
    done: bool,
}

/// Kill every process of group `pg` and wait (up to 5 s) until none is
/// left: UML's helper processes outlive its main one by a moment. We are
/// their subreaper (see [`run`]), so we reap them ourselves rather than
/// wait for init to.
fn kill_group(pg: i32) {
    use nix::sys::signal::{killpg, Signal};
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    let group = nix::unistd::Pid::from_raw(pg);
    let members = nix::unistd::Pid::from_raw(-pg);
    let until = Instant::now() + Duration::from_secs(5);
    while killpg(group, None).is_ok() && Instant::now() < until {
        let _ = killpg(group, Signal::SIGKILL);
        while let Ok(s) = waitpid(members, Some(WaitPidFlag::WNOHANG)) {
            if s == WaitStatus::StillAlive {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

impl Guard {
    fn kill(&mut self) {
        if !self.done {
            let pg = self.child.id() as i32;
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pg),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = self.child.wait();
            kill_group(pg);
            self.done = true;
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Boot UML against a fresh device. `stop` ends the run early (Ctrl-C);
/// `on_line` sees every kernel line and device event as it happens.
pub fn run(
    k: &Kernel,
    opts: &Options,
    stop: Arc<AtomicBool>,
    on_line: &mut dyn FnMut(Line),
) -> Result<Report> {
    let started = Instant::now();
    // UML's helpers, orphaned when it dies, become our children: we reap
    // them and know when the last is gone.
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let dir = tempfile::Builder::new()
        .prefix("hca-uml-")
        .tempdir()
        .context("creating a directory for the device socket")?;
    let sock = dir.path().join("hca.sock");
    let listener =
        UnixListener::bind(&sock).with_context(|| format!("binding {}", sock.display()))?;
    listener.set_nonblocking(true)?;

    let (tx, rx) = mpsc::channel::<Msg>();
    let dev_stop = Arc::new(AtomicBool::new(false));
    let engine = opts.engine;
    let device = {
        let tx = tx.clone();
        let dev_stop = dev_stop.clone();
        std::thread::spawn(move || {
            // The engine is built here: Verilator's model stays on the
            // thread that runs it.
            let fw = match hca_device::blocks::firmware_on(engine) {
                Ok(fw) => fw,
                Err(e) => {
                    let _ = tx.send(Msg::DeviceDone(
                        format!("the blocks on {}: {e}", engine.name()),
                        None,
                    ));
                    return;
                }
            };
            let conn = loop {
                if dev_stop.load(Ordering::Relaxed) {
                    let _ = tx.send(Msg::DeviceDone("never connected".into(), None));
                    return;
                }
                match listener.accept() {
                    Ok((s, _)) => break s,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                    Err(e) => {
                        let _ = tx.send(Msg::DeviceDone(format!("accept: {e}"), None));
                        return;
                    }
                }
            };
            let _ = conn.set_nonblocking(false);
            let mut dev = HcaPci::with_firmware(fw);
            let mut on_event = |e: Event, dev: &mut HcaPci| match e {
                Event::Warning(w) => {
                    dev.stats.malformed += 1;
                    let _ = tx.send(Msg::Device(DeviceEvent::Warning(w)));
                }
                Event::Served => {
                    for e in dev.take_events() {
                        let _ = tx.send(Msg::Device(e));
                    }
                }
            };
            let end = serve(conn, &mut dev, &dev_stop, &mut on_event);
            let why = match end {
                ServeOutcome::Closed => "UML closed the connection".to_string(),
                ServeOutcome::Stopped => "stopped".to_string(),
                ServeOutcome::Error(e) => format!("error: {e}"),
            };
            let end = DeviceEnd {
                stats: dev.stats,
                engine: dev.firmware().engine(),
            };
            let _ = tx.send(Msg::DeviceDone(why, Some(end)));
        })
    };

    let mut args = vec![
        format!("mem={}M", opts.mem_mb),
        "root=/dev/root".into(),
        "rootfstype=hostfs".into(),
        format!("rootflags={}", k.rootfs.display()),
        "ro".into(),
        "init=/init".into(),
        format!("virtio_uml.device={}:{VIRTIO_DEVICE_ID}", sock.display()),
        "ignore_loglevel".into(),
        "mlx4_core.debug_level=1".into(),
        "con=null".into(),
        "ssl=null".into(),
        "con0=null,fd:1".into(),
    ];
    args.extend(opts.extra_args.iter().cloned());
    let child = Command::new(&k.linux)
        .args(&args)
        .env("TMPDIR", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {}", k.linux.display()))?;
    let mut guard = Guard { child, done: false };
    let process_group = guard.child.id() as i32;
    for out in [
        guard
            .child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
        guard
            .child
            .stderr
            .take()
            .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).split(b'\n').map_while(Result::ok) {
                let l = String::from_utf8_lossy(&line)
                    .trim_end_matches('\r')
                    .to_string();
                let _ = tx.send(Msg::Kernel(l));
            }
            let _ = tx.send(Msg::KernelDone);
        });
    }
    drop(tx);

    let mut report = Report {
        run_dir: dir.path().to_path_buf(),
        process_group,
        ..Default::default()
    };
    let mut streams_open = 2;
    let mut device_done = false;
    loop {
        if stop.load(Ordering::Relaxed) && !report.interrupted {
            report.interrupted = true;
            guard.kill();
            report.uml_exit = "killed (interrupted)".into();
            dev_stop.store(true, Ordering::Relaxed);
        }
        if started.elapsed() > opts.timeout && !report.timed_out {
            report.timed_out = true;
            guard.kill();
            report.uml_exit = format!("killed after {:?} (timeout)", opts.timeout);
            dev_stop.store(true, Ordering::Relaxed);
        }
        if !guard.done {
            // UML's main process ended (halted, or died): its helpers are
            // in its process group and go with it; their output ends then.
            if let Ok(Some(st)) = guard.child.try_wait() {
                report.uml_exit = st.to_string();
                guard.done = true;
                kill_group(guard.child.id() as i32);
                dev_stop.store(true, Ordering::Relaxed);
            }
        }
        if streams_open == 0 && device_done && guard.done {
            break;
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Msg::Kernel(l)) => {
                on_line(Line::Kernel(&l));
                report.kernel_log.push(l);
            }
            Ok(Msg::KernelDone) => streams_open -= 1,
            Ok(Msg::Device(e)) => {
                on_line(Line::Device(&e));
                report.events.push(e);
            }
            Ok(Msg::DeviceDone(why, end)) => {
                device_done = true;
                report.device_end = why;
                if let Some(e) = end {
                    report.pci_stats = e.stats;
                    report.engine = e.engine;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                streams_open = 0;
                device_done = true;
            }
        }
    }
    guard.kill();
    let _ = device.join();
    report.elapsed = started.elapsed();
    drop(dir);
    Ok(report)
}
