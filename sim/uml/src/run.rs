//! A run: the fabric, a device and a UML kernel per host, one loop
//! streaming what each says until every kernel has ended (or the run is
//! stopped or times out), and then nothing left behind.

use crate::device::{self, Msg};
use crate::guard::{kill_group, Guard};
use crate::{Kernel, Line, Options, Report, Run, VIRTIO_DEVICE_ID};
use anyhow::{Context, Result};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// One host's kernel as the loop follows it.
struct Host {
    guard: Guard,
    streams_open: u32,
    device_done: bool,
    report: Report,
}

/// Sets the devices' stop flag when dropped: on an early error (a socket
/// that cannot be bound, a kernel that will not start) the device threads
/// already started end too.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The kernel command line of host `h`.
fn kernel_args(k: &Kernel, opts: &Options, dir: &Path, h: usize) -> Vec<String> {
    let mut args = vec![
        format!("mem={}M", opts.mem_mb),
        "root=/dev/root".into(),
        "rootfstype=hostfs".into(),
        format!("rootflags={}", k.rootfs.display()),
        "ro".into(),
        "init=/init".into(),
        format!(
            "virtio_uml.device={}:{VIRTIO_DEVICE_ID}",
            dir.join(format!("hca{h}.sock")).display()
        ),
        // UML's pid file and management socket go in the run's
        // directory, not ~/.uml.
        format!("uml_dir={}", dir.display()),
        format!("umid=uml{h}"),
        "ignore_loglevel".into(),
        "mlx4_core.debug_level=1".into(),
        "con=null".into(),
        "ssl=null".into(),
        "con0=null,fd:1".into(),
    ];
    if opts.guest_script.is_some() {
        args.push(format!("hca_run={}", dir.join("guest").display()));
        args.push(format!("hca_host={h}"));
    }
    args.extend(opts.extra_args.iter().cloned());
    args
}

/// Boot `opts.hosts` UML kernels, each against a fresh device, all on one
/// fabric with its subnet manager. `stop` ends the run early (Ctrl-C);
/// `on_line` sees every kernel line and device event as it happens, with
/// the host it came from.
pub fn run(
    k: &Kernel,
    opts: &Options,
    stop: Arc<AtomicBool>,
    on_line: &mut dyn FnMut(usize, Line),
) -> Result<Run> {
    let started = Instant::now();
    // UML's helpers, orphaned when it dies, become our children: we reap
    // them and know when the last is gone.
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let dir = tempfile::Builder::new()
        .prefix("hca-uml-")
        .tempdir()
        .context("creating a directory for the device sockets")?;
    if let Some(script) = &opts.guest_script {
        let g = dir.path().join("guest");
        std::fs::create_dir(&g)?;
        let f = g.join("guest");
        std::fs::write(&f, script).with_context(|| format!("writing {}", f.display()))?;
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755))?;
    }
    let (fabric, ports) = crate::subnet::build(opts.hosts, opts.seed, opts.pcap.as_deref())?;

    let (tx, rx) = mpsc::channel::<Msg>();
    let dev_stop = Arc::new(AtomicBool::new(false));
    let _stop_devices = StopOnDrop(dev_stop.clone());
    let mut devices = Vec::new();
    let mut hosts = Vec::new();
    for (h, port) in ports.into_iter().enumerate() {
        let sock = dir.path().join(format!("hca{h}.sock"));
        let listener =
            UnixListener::bind(&sock).with_context(|| format!("binding {}", sock.display()))?;
        listener.set_nonblocking(true)?;
        devices.push(device::spawn(
            h,
            opts.engine,
            listener,
            port,
            tx.clone(),
            dev_stop.clone(),
        ));
        let child = Command::new(&k.linux)
            .args(kernel_args(k, opts, dir.path(), h))
            .env("TMPDIR", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {}", k.linux.display()))?;
        let mut guard = Guard { child, done: false };
        let outs = [
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
        ];
        for out in outs.into_iter().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).split(b'\n').map_while(Result::ok) {
                    let l = String::from_utf8_lossy(&line)
                        .trim_end_matches('\r')
                        .to_string();
                    let _ = tx.send(Msg::Kernel(h, l));
                }
                let _ = tx.send(Msg::KernelDone(h));
            });
        }
        hosts.push(Host {
            report: Report {
                run_dir: dir.path().to_path_buf(),
                process_group: guard.group(),
                ..Default::default()
            },
            guard,
            streams_open: 2,
            device_done: false,
        });
    }
    drop(tx);

    let mut interrupted = false;
    let mut timed_out = false;
    loop {
        if stop.load(Ordering::Relaxed) && !interrupted {
            interrupted = true;
            for h in &mut hosts {
                h.guard.kill();
                h.report.interrupted = true;
                h.report.uml_exit = "killed (interrupted)".into();
            }
            dev_stop.store(true, Ordering::Relaxed);
        }
        if started.elapsed() > opts.timeout && !timed_out {
            timed_out = true;
            for h in hosts.iter_mut().filter(|h| !h.guard.done) {
                h.guard.kill();
                h.report.timed_out = true;
                h.report.uml_exit = format!("killed after {:?} (timeout)", opts.timeout);
            }
            dev_stop.store(true, Ordering::Relaxed);
        }
        for h in hosts.iter_mut().filter(|h| !h.guard.done) {
            // UML's main process ended (halted, or died): its helpers are
            // in its process group and go with it; their output ends then.
            if let Ok(Some(st)) = h.guard.child.try_wait() {
                h.report.uml_exit = st.to_string();
                h.guard.done = true;
                kill_group(h.guard.group());
            }
        }
        if hosts
            .iter()
            .all(|h| h.streams_open == 0 && h.device_done && h.guard.done)
        {
            break;
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Msg::Kernel(h, l)) => {
                on_line(h, Line::Kernel(&l));
                hosts[h].report.kernel_log.push(l);
            }
            Ok(Msg::KernelDone(h)) => hosts[h].streams_open -= 1,
            Ok(Msg::Device(h, e)) => {
                on_line(h, Line::Device(&e));
                hosts[h].report.events.push(e);
            }
            Ok(Msg::DeviceDone(h, why, end)) => {
                hosts[h].device_done = true;
                let r = &mut hosts[h].report;
                r.device_end = why;
                if let Some(e) = end {
                    r.pci_stats = e.stats;
                    r.engine = e.engine;
                    r.transport = e.transport;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                for h in &mut hosts {
                    h.streams_open = 0;
                    h.device_done = true;
                }
            }
        }
    }
    for h in &mut hosts {
        h.guard.kill();
    }
    dev_stop.store(true, Ordering::Relaxed);
    for d in devices {
        let _ = d.join();
    }
    let mut out = Run {
        run_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    {
        let mut f = fabric.lock().unwrap_or_else(|e| e.into_inner());
        out.fabric = f.stats();
        out.sm_ports = f.subnet_manager().map(|m| m.ports()).unwrap_or_default();
        if let Some(p) = &opts.pcap {
            let n = f
                .finish_capture()
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("writing {}", p.display()))?;
            out.pcap = Some((p.clone(), n));
        }
    }
    out.hosts = hosts
        .into_iter()
        .map(|mut h| {
            h.report.elapsed = started.elapsed();
            std::mem::take(&mut h.report)
        })
        .collect();
    out.elapsed = started.elapsed();
    drop(dir);
    Ok(out)
}
