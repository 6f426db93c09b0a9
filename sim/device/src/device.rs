//! The HCA as a PCI function: config space, BAR0 (the MSI-X table, and
//! the firmware behind the rest), BAR2 (the UAR pages), and the MSI
//! messages the device sends, with the events a runner reports.

use crate::config::{ConfigSpace, MSIX_ENABLE, MSIX_FUNCTION_MASK};
use crate::msix::{MsiMessage, Msix};
use crate::wire::{AtomicBackend, DevicePorts, FabricPort};
use hca_abi::pci::{inside, PciFunction};
use hca_firmware::{CommandRecord, Firmware, HostMemory};
use hca_transport::Transport;

/// What the device reports to whoever runs it.
#[derive(Clone, Debug)]
pub enum DeviceEvent {
    /// A command the firmware completed.
    Command(CommandRecord),
    /// An MSI-X interrupt sent.
    Msi(MsiMessage),
    /// A change the kernel made to the function: MSI-X enabled, bus
    /// mastering, a BAR placed.
    Config(String),
    /// Something the kernel sent that the device could not take: logged,
    /// answered, and otherwise ignored.
    Warning(String),
}

/// Counters of the accesses the function served.
#[derive(Clone, Copy, Debug, Default)]
pub struct PciStats {
    pub config_reads: u64,
    pub config_writes: u64,
    pub mmio_reads: u64,
    pub mmio_writes: u64,
    pub msis: u64,
    pub malformed: u64,
}

pub struct HcaPci {
    config: ConfigSpace,
    msix: Msix,
    fw: Firmware,
    transport: Transport,
    /// The atomic unit the transport engine executes atomics on.
    atomic: AtomicBackend,
    /// Wall time the transport engine ran, and the part of it spent in
    /// the RTL blocks' requests.
    transport_wall: std::time::Duration,
    blocks_wall: std::time::Duration,
    /// What became of each packet taken in, while recording.
    rx_log: Option<Vec<hca_transport::Outcome>>,
    /// Each port's place on a fabric (index 0 is port 1).
    ports: Vec<Option<FabricPort>>,
    events: Vec<DeviceEvent>,
    msis: Vec<MsiMessage>,
    pub stats: PciStats,
}

impl Default for HcaPci {
    fn default() -> Self {
        Self::new()
    }
}

impl HcaPci {
    pub fn new() -> Self {
        Self::with_firmware(Firmware::new())
    }

    /// The device around a given firmware (e.g. one driving the RTL).
    pub fn with_firmware(fw: Firmware) -> Self {
        HcaPci {
            config: ConfigSpace::new(),
            msix: Msix::new(),
            fw,
            transport: Transport::new(),
            atomic: Box::new(hca_rtl::atomic::AtomicModel::new()),
            transport_wall: Default::default(),
            blocks_wall: Default::default(),
            rx_log: None,
            ports: vec![None; hca_firmware::port::NUM_PORTS as usize],
            events: Vec::new(),
            msis: Vec::new(),
            stats: PciStats::default(),
        }
    }

    pub fn firmware(&self) -> &Firmware {
        &self.fw
    }

    /// The firmware, mutable: tests reach the blocks through it (a TPT
    /// lookup as the transport engine will make one).
    pub fn firmware_mut(&mut self) -> &mut Firmware {
        &mut self.fw
    }

    /// Let the device act on its own, as the transport engine will (until
    /// it lands, tests stand in for it): `f` runs on the firmware with the
    /// driver's memory, then the interrupts it raised are sent.
    pub fn act<R>(
        &mut self,
        mem: &mut dyn HostMemory,
        f: impl FnOnce(&mut Firmware, &mut dyn HostMemory) -> R,
    ) -> R {
        let r = f(&mut self.fw, mem);
        self.raise_firmware_vectors();
        r
    }

    /// A completion posted as the transport engine will post one: the CQE
    /// through the CQ/EQ engine into the driver's memory, and the interrupt
    /// of its EQ sent. Returns the engine's status.
    pub fn complete(
        &mut self,
        cqn: u32,
        cqe: hca_rtl::cq::Cqe,
        solicited: bool,
        mem: &mut dyn HostMemory,
    ) -> Result<u8, String> {
        let req = hca_rtl::cq::CqReq::Complete {
            cqn,
            cqe,
            solicited,
        };
        self.act(mem, |fw, mem| fw.cq_request(req, mem))
            .map_err(|(s, why)| format!("{s}: {why}"))
    }

    /// The device with its atomic unit on another backend.
    pub fn with_atomic(mut self, atomic: AtomicBackend) -> Self {
        self.atomic = atomic;
        self
    }

    /// Plug port `n` (1-based) into a fabric endpoint: its link trains
    /// (once the driver's INIT_PORT brought the port up).
    pub fn attach(&mut self, n: u8, port: FabricPort) -> Result<(), String> {
        let slot = self
            .ports
            .get_mut((n as usize).wrapping_sub(1))
            .ok_or(format!("the HCA has no port {n}"))?;
        *slot = Some(port);
        self.fw.set_link(n, true);
        Ok(())
    }

    /// Unplug port `n`: its link goes down.
    pub fn detach(&mut self, n: u8) {
        if let Some(slot) = self.ports.get_mut((n as usize).wrapping_sub(1)) {
            if let Some(fp) = slot.take() {
                let mut f = fp.fabric.lock().unwrap_or_else(|e| e.into_inner());
                f.set_link_up(fp.endpoint, false);
            }
            self.fw.set_link(n, false);
        }
    }

    /// Start (or stop) keeping what became of each packet taken in.
    pub fn record_rx(&mut self, on: bool) {
        self.rx_log = on.then(Vec::new);
    }

    /// What became of the packets taken in since the last call, in order.
    pub fn take_rx_log(&mut self) -> Vec<hca_transport::Outcome> {
        self.rx_log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Wall time the transport engine has run, and the part of it spent
    /// in the RTL blocks' requests (for `hca bench traffic`).
    pub fn transport_wall(&self) -> (std::time::Duration, std::time::Duration) {
        (self.transport_wall, self.blocks_wall)
    }

    /// Clock cycles every block has run: the firmware's (its internal
    /// clock) and the atomic unit's.
    pub fn block_cycles(&self) -> u64 {
        self.fw.clock() + self.atomic.cycles()
    }

    /// The transport engine's counters.
    pub fn transport_counters(&self) -> &hca_transport::Counters {
        &self.transport.counters
    }

    /// Tell the fabric which ports trained, so the switch on the far end
    /// (and its subnet manager) sees the link come up or go down.
    fn report_links(&mut self) {
        for (i, slot) in self.ports.iter().enumerate() {
            let Some(fp) = slot else { continue };
            let trained = self.fw.port_sma(i as u8 + 1).is_some_and(|s| s.trained);
            let mut f = fp.fabric.lock().unwrap_or_else(|e| e.into_inner());
            f.set_link_up(fp.endpoint, trained);
        }
    }

    /// Put what the transport engine sent on the ports' links.
    fn send_packets(&mut self, tx: Vec<(u8, Vec<u8>)>) {
        for (n, p) in tx {
            match self
                .ports
                .get((n as usize).wrapping_sub(1))
                .cloned()
                .flatten()
            {
                Some(fp) => {
                    let mut f = fp.fabric.lock().unwrap_or_else(|e| e.into_inner());
                    f.transmit(fp.endpoint, &p);
                }
                None => self.transport.counters.count("tx_port_unplugged"),
            }
        }
    }

    /// The fabric's time (0 with no port on a fabric).
    fn fabric_now(&self) -> u64 {
        self.ports.iter().flatten().next().map_or(0, |fp| {
            fp.fabric.lock().unwrap_or_else(|e| e.into_inner()).now()
        })
    }

    /// Let the transport engine act with the firmware and the driver's
    /// memory; what it sent goes on the links.
    fn with_transport(
        &mut self,
        mem: &mut dyn HostMemory,
        f: impl FnOnce(&mut Transport, &mut DevicePorts),
    ) {
        let now = self.fabric_now();
        let start = std::time::Instant::now();
        let mut dp = DevicePorts {
            fw: &mut self.fw,
            atomic: &mut self.atomic,
            mem,
            tx: Vec::new(),
            now,
            in_blocks: Default::default(),
        };
        f(&mut self.transport, &mut dp);
        let tx = std::mem::take(&mut dp.tx);
        self.blocks_wall += dp.in_blocks;
        self.transport_wall += start.elapsed();
        self.send_packets(tx);
    }

    /// Tell the engine of QPs a command moved, then run the requester for
    /// every QP whose send doorbell rang.
    fn serve_doorbells(&mut self, mem: &mut dyn HostMemory) {
        let changed = self.fw.take_qp_changes();
        let rung = self.fw.take_send_doorbells();
        if changed.is_empty() && rung.is_empty() {
            return;
        }
        self.with_transport(mem, |t, dp| {
            for qpn in changed {
                t.qp_changed(dp, qpn);
            }
            for qpn in rung {
                t.doorbell(dp, qpn);
            }
        });
    }

    /// Take in what arrived on the ports and run the timers. When nothing
    /// waits, the fabric's time moves on to the next arrival, or, with
    /// nothing in flight, to the engine's next timer. Returns the packets
    /// taken.
    fn serve_ports(&mut self, mem: &mut dyn HostMemory) -> usize {
        let deadline = self.transport.next_deadline();
        let mut got = Vec::new();
        for (i, slot) in self.ports.iter().enumerate() {
            let Some(fp) = slot else { continue };
            let mut f = fp.fabric.lock().unwrap_or_else(|e| e.into_inner());
            let take = |f: &mut hca_fabric::Fabric, got: &mut Vec<(u8, Vec<u8>)>| {
                while let Some(p) = f.receive(fp.endpoint) {
                    got.push((i as u8 + 1, p));
                }
            };
            take(&mut f, &mut got);
            if got.is_empty() {
                match (f.next_arrival(), deadline) {
                    (Some(t), d) if d.is_none_or(|d| t <= d) => f.advance(t),
                    (_, Some(d)) if d > f.now() => f.advance(d),
                    _ => {}
                }
                take(&mut f, &mut got);
            }
        }
        let n = got.len();
        let mut outcomes = Vec::new();
        self.with_transport(mem, |t, dp| {
            for (port, p) in got {
                outcomes.push(t.receive(dp, port, &p));
            }
            t.flush_acks(dp);
            t.tick(dp);
        });
        if let Some(log) = &mut self.rx_log {
            log.extend(outcomes);
        }
        n
    }

    pub fn config(&self) -> &ConfigSpace {
        &self.config
    }

    /// Events since the last call.
    pub fn take_events(&mut self) -> Vec<DeviceEvent> {
        std::mem::take(&mut self.events)
    }

    fn warn(&mut self, what: String) {
        self.stats.malformed += 1;
        self.events.push(DeviceEvent::Warning(what));
    }

    fn msix_state(&self) -> (bool, bool) {
        let c = self.config.msix_control();
        (c & MSIX_ENABLE != 0, c & MSIX_FUNCTION_MASK != 0)
    }

    fn config_view(&self) -> (bool, bool, bool) {
        let (en, fm) = self.msix_state();
        (en, fm, self.config.bus_master())
    }

    fn note_config(&mut self, before: (bool, bool, bool)) {
        let after = self.config_view();
        let on = |b: bool| if b { "on" } else { "off" };
        if before.0 != after.0 {
            self.events.push(DeviceEvent::Config(format!(
                "MSI-X {}",
                if after.0 { "enabled" } else { "disabled" }
            )));
        }
        if before.1 != after.1 {
            self.events.push(DeviceEvent::Config(format!(
                "MSI-X function mask {}",
                on(after.1)
            )));
        }
        if before.2 != after.2 {
            self.events
                .push(DeviceEvent::Config(format!("bus master {}", on(after.2))));
        }
    }

    fn bar_read(&mut self, bar: u8, addr: u64, out: &mut [u8]) {
        match bar {
            0 if Msix::owns(addr) => self.msix.read(addr, out),
            0 => self.fw.mmio_read(addr, out),
            // UAR pages read as zero (doorbells are write-only).
            2 => out.fill(0),
            _ => {
                let w = format!("read of BAR{bar}, which the device does not have");
                self.warn(w);
            }
        }
    }

    fn bar_write(&mut self, bar: u8, addr: u64, data: &[u8], mem: &mut dyn HostMemory) {
        match bar {
            0 if Msix::owns(addr) => {
                if self.msix.write(addr, data) {
                    self.flush_msix();
                }
            }
            0 => {
                self.fw.mmio_write(addr, data, mem);
                self.serve_doorbells(mem);
                for r in self.fw.take_trace() {
                    self.events.push(DeviceEvent::Command(r));
                }
                self.raise_firmware_vectors();
            }
            2 => {
                self.fw.uar_write(addr, data, mem);
                self.serve_doorbells(mem);
                self.raise_firmware_vectors();
            }
            _ => {
                let w = format!("write to BAR{bar}, which the device does not have");
                self.warn(w);
            }
        }
    }

    fn raise_firmware_vectors(&mut self) {
        let (en, fm) = self.msix_state();
        for v in self.fw.take_interrupts() {
            if let Some(m) = self.msix.raise(v, en, fm) {
                self.send(m);
            }
        }
    }

    fn flush_msix(&mut self) {
        let (en, fm) = self.msix_state();
        for m in self.msix.flush(en, fm) {
            self.send(m);
        }
    }

    fn send(&mut self, m: MsiMessage) {
        self.stats.msis += 1;
        self.events.push(DeviceEvent::Msi(m));
        self.msis.push(m);
    }
}

impl PciFunction for HcaPci {
    fn config_size(&self) -> u64 {
        crate::config::SIZE as u64
    }

    fn bar_size(&self, bar: u8) -> u64 {
        match bar {
            0 => hca_firmware::bar0::BAR0_SIZE,
            2 => hca_firmware::bar0::BAR2_SIZE,
            _ => 0,
        }
    }

    fn config_read(&mut self, offset: u64, buf: &mut [u8]) {
        self.stats.config_reads += 1;
        if !inside(offset, buf.len(), self.config_size()) {
            self.warn(format!(
                "config read of {} bytes at {offset:#x} is outside config space",
                buf.len()
            ));
            // As a bus answers a bad access: all of it reads as ones.
            buf.fill(0xff);
            return;
        }
        self.config.read(offset, buf);
    }

    fn config_write(&mut self, offset: u64, data: &[u8]) {
        self.stats.config_writes += 1;
        if !inside(offset, data.len(), self.config_size()) {
            self.warn(format!(
                "config write of {} bytes at {offset:#x} is outside config space",
                data.len()
            ));
            return;
        }
        let before = self.config_view();
        self.config.write(offset, data);
        self.note_config(before);
        self.flush_msix();
    }

    fn mmio_read(&mut self, bar: u8, offset: u64, buf: &mut [u8]) {
        self.stats.mmio_reads += 1;
        if !inside(offset, buf.len(), self.bar_size(bar)) {
            self.warn(format!(
                "read of {} bytes at {offset:#x} is outside BAR{bar}",
                buf.len()
            ));
            buf.fill(0xff);
            return;
        }
        self.bar_read(bar, offset, buf);
    }

    fn mmio_write(&mut self, bar: u8, offset: u64, data: &[u8], mem: &mut dyn HostMemory) {
        self.stats.mmio_writes += 1;
        if !inside(offset, data.len(), self.bar_size(bar)) {
            self.warn(format!(
                "write of {} bytes at {offset:#x} is outside BAR{bar}",
                data.len()
            ));
            return;
        }
        self.bar_write(bar, offset, data, mem);
    }

    fn take_msis(&mut self) -> Vec<MsiMessage> {
        std::mem::take(&mut self.msis)
    }

    fn run(&mut self, mem: &mut dyn HostMemory) -> bool {
        self.fw.flush_port_changes(mem);
        self.report_links();
        let n = self.serve_ports(mem);
        self.raise_firmware_vectors();
        n > 0
    }
}
