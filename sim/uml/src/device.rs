//! One host's device: the simulated HCA, with its blocks on the chosen
//! backend and its port on the fabric, served over vhost-user on its own
//! thread (Verilator's models stay on the thread that built them).

use hca_device::{DeviceEvent, FabricPort};
use hca_engines::backend::Backend;
use hca_vhost_user::{serve, Event, ServeOutcome};
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// What the device thread reports when it ends.
pub(crate) struct DeviceEnd {
    pub stats: hca_device::device::PciStats,
    pub engine: (&'static str, u64),
    pub transport: hca_transport::Counters,
}

/// What the threads of a run tell its loop, tagged with the host.
pub(crate) enum Msg {
    Kernel(usize, String),
    KernelDone(usize),
    Device(usize, DeviceEvent),
    DeviceDone(usize, String, Option<DeviceEnd>),
}

/// Node GUID of host `h`'s HCA (Mellanox's OUI, one per host: the SM
/// tells ports apart by GUID).
pub fn node_guid(h: usize) -> u64 {
    0x0002_c903_00a0_0000 + ((h as u64) << 8)
}

/// Serve host `h`'s device on `listener` until its UML closes the
/// connection or `stop` is set.
pub(crate) fn spawn(
    h: usize,
    engine: Backend,
    listener: UnixListener,
    port: FabricPort,
    tx: mpsc::Sender<Msg>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut dev = match hca_device::blocks::device_on(engine) {
            Ok(d) => d,
            Err(e) => {
                let _ = tx.send(Msg::DeviceDone(
                    h,
                    format!("the blocks on {}: {e}", engine.name()),
                    None,
                ));
                return;
            }
        };
        dev.firmware_mut().set_node_guid(node_guid(h));
        let conn = loop {
            if stop.load(Ordering::Relaxed) {
                let _ = tx.send(Msg::DeviceDone(h, "never connected".into(), None));
                return;
            }
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(e) => {
                    let _ = tx.send(Msg::DeviceDone(h, format!("accept: {e}"), None));
                    return;
                }
            }
        };
        let _ = conn.set_nonblocking(false);
        // Plugged in once UML is there: the link trains when the driver's
        // INIT_PORT brings the port up.
        if let Err(e) = dev.attach(1, port) {
            let _ = tx.send(Msg::DeviceDone(h, format!("attaching port 1: {e}"), None));
            return;
        }
        let mut on_event = |e: Event, dev: &mut hca_device::HcaPci| match e {
            Event::Warning(w) => {
                dev.stats.malformed += 1;
                let _ = tx.send(Msg::Device(h, DeviceEvent::Warning(w)));
            }
            Event::Served => {
                for e in dev.take_events() {
                    let _ = tx.send(Msg::Device(h, e));
                }
            }
        };
        let end = serve(conn, &mut dev, &stop, &mut on_event);
        let why = match end {
            ServeOutcome::Closed => "UML closed the connection".to_string(),
            ServeOutcome::Stopped => "stopped".to_string(),
            ServeOutcome::Error(e) => format!("error: {e}"),
        };
        dev.detach(1);
        let end = DeviceEnd {
            stats: dev.stats,
            engine: dev.firmware().engine(),
            transport: dev.transport_counters().clone(),
        };
        let _ = tx.send(Msg::DeviceDone(h, why, Some(end)));
    })
}
