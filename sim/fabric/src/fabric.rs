//! The fabric: endpoints (HCA ports), switches and the links between
//! them, in simulated time. An endpoint transmits a packet at the
//! fabric's present time; it crosses each link and switch on its way and
//! lands in the destination endpoint's receive queue when its arrival time
//! comes. Whoever runs the fabric moves time on ([`Fabric::advance`]),
//! skipping ahead to the next arrival when nothing else happens
//! ([`Fabric::next_arrival`]).

use crate::capture::{Capture, CaptureError};
use crate::faults::FaultCounts;
use crate::link::{Direction, LinkConfig, Ns};
use crate::sm::{SubnetManager, Tx, SM_LID};
use crate::switch::{Switch, SwitchDrop};
use hca_abi::ib::headers::PERMISSIVE_LID;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::io::Write;

/// An endpoint's number.
pub type EndpointId = usize;
/// A switch's number.
pub type SwitchId = usize;

/// One end of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attach {
    Endpoint(EndpointId),
    /// A switch and one of its ports (1..).
    Switch(SwitchId, u8),
}

struct Link {
    ends: [Attach; 2],
    dirs: [Direction; 2],
}

/// Counters of one endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointStats {
    pub tx_packets: u64,
    pub tx_bytes: u64,
    pub rx_packets: u64,
    pub rx_bytes: u64,
    /// Transmitted with no link attached.
    pub unconnected: u64,
}

struct Endpoint {
    name: String,
    link: Option<(usize, usize)>,
    /// The port on this end trained (the HCA says so).
    up: bool,
    rx: VecDeque<Vec<u8>>,
    stats: EndpointStats,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Arrival {
    at: Ns,
    seq: u64,
    to: Attach,
    packet: Vec<u8>,
}

/// What crossed the fabric, for summaries.
#[derive(Clone, Debug, Default)]
pub struct FabricStats {
    pub endpoints: Vec<(String, EndpointStats)>,
    pub switch_drops: BTreeMap<(String, &'static str), u64>,
    pub forwarded: u64,
    pub faults: FaultCounts,
    /// The subnet manager's and SA's counters, by reason.
    pub sm: BTreeMap<&'static str, u64>,
}

#[derive(Default)]
pub struct Fabric {
    now: Ns,
    seq: u64,
    seed: u64,
    endpoints: Vec<Endpoint>,
    switches: Vec<Switch>,
    links: Vec<Link>,
    events: BinaryHeap<Reverse<Arrival>>,
    capture: Option<Capture<Box<dyn Write + Send>>>,
    capture_error: Option<String>,
    /// The subnet manager and the switch it runs on.
    sm: Option<(SwitchId, SubnetManager)>,
    /// When following the wall clock: the instant simulated time 0 was.
    wall: Option<std::time::Instant>,
}

impl Fabric {
    /// An empty fabric whose links draw their faults from `seed`.
    pub fn new(seed: u64) -> Fabric {
        Fabric {
            seed,
            ..Default::default()
        }
    }

    pub fn now(&self) -> Ns {
        self.now
    }

    /// From now on simulated time follows the wall clock: it never runs
    /// ahead of the time elapsed since this call (plus the time already
    /// simulated), so an idle device no longer jumps it to the next
    /// deadline. For a fabric whose hosts are real kernels (UML), whose
    /// timers run on wall time: their answers come in milliseconds, and a
    /// timer of the fabric's (the SM's resends, a link's latency) must see
    /// those milliseconds pass. The SM takes opensm's timers
    /// ([`crate::sm::Timing::WALL_CLOCK`]).
    pub fn follow_wall_clock(&mut self) {
        let now = std::time::Instant::now();
        self.wall = Some(
            now.checked_sub(std::time::Duration::from_nanos(self.now))
                .unwrap_or(now),
        );
        if let Some((_, sm)) = &mut self.sm {
            sm.timing = crate::sm::Timing::WALL_CLOCK;
        }
    }

    /// Whether simulated time follows the wall clock.
    pub fn follows_wall_clock(&self) -> bool {
        self.wall.is_some()
    }

    /// The wall clock's reading in simulated time, when followed.
    fn wall_now(&self) -> Option<Ns> {
        self.wall
            .map(|w| (w.elapsed().as_nanos().min(u64::MAX as u128) as Ns).max(self.now))
    }

    /// Following the wall clock: deliver what has arrived by now.
    fn catch_up(&mut self) {
        if let Some(t) = self.wall_now() {
            self.advance(t);
        }
    }

    pub fn add_endpoint(&mut self, name: &str) -> EndpointId {
        self.endpoints.push(Endpoint {
            name: name.to_string(),
            link: None,
            up: false,
            rx: VecDeque::new(),
            stats: EndpointStats::default(),
        });
        self.endpoints.len() - 1
    }

    pub fn add_switch(&mut self, name: &str, ports: u8) -> SwitchId {
        self.switches.push(Switch::new(name, ports));
        self.switches.len() - 1
    }

    pub fn switch_mut(&mut self, s: SwitchId) -> Option<&mut Switch> {
        self.switches.get_mut(s)
    }

    /// Run a subnet manager (and its SA) on switch `s`'s management port,
    /// LID 1. It sweeps whenever a port's link trains.
    pub fn add_subnet_manager(&mut self, s: SwitchId) -> Result<(), String> {
        let sw = self.switches.get(s).ok_or(format!("no switch {s}"))?;
        if self.sm.is_some() {
            return Err("the fabric has a subnet manager".into());
        }
        let mut sm = SubnetManager::new(sw.ports);
        if self.wall.is_some() {
            sm.timing = crate::sm::Timing::WALL_CLOCK;
        }
        self.sm = Some((s, sm));
        for e in 0..self.endpoints.len() {
            if self.endpoints[e].up {
                self.tell_sm(e, true);
            }
        }
        Ok(())
    }

    pub fn subnet_manager(&self) -> Option<&SubnetManager> {
        self.sm.as_ref().map(|(_, m)| m)
    }

    pub fn subnet_manager_mut(&mut self) -> Option<&mut SubnetManager> {
        self.sm.as_mut().map(|(_, m)| m)
    }

    /// Endpoint `e`'s port trained (`up`) or lost its link; the switch
    /// port on the far end tells the subnet manager.
    pub fn set_link_up(&mut self, e: EndpointId, up: bool) {
        let Some(ep) = self.endpoints.get_mut(e) else {
            return;
        };
        if ep.up == up {
            return;
        }
        ep.up = up;
        self.tell_sm(e, up);
    }

    fn tell_sm(&mut self, e: EndpointId, up: bool) {
        let Some((link, side)) = self.endpoints[e].link else {
            return;
        };
        let far = self.links[link].ends[1 - side];
        let now = self.now;
        if let (Attach::Switch(s, p), Some((ms, sm))) = (far, self.sm.as_mut()) {
            if s == *ms {
                sm.link_changed(now, p, up, &mut self.switches[s]);
            }
        }
    }

    /// Send what the subnet manager produced from its switch.
    fn sm_transmit(&mut self, s: SwitchId, txs: Vec<Tx>) {
        for tx in txs {
            let (ports, packet) = match tx {
                Tx::Port(p, packet) => (vec![p], packet),
                Tx::Routed(packet) => (self.switches[s].forward(0, &packet), packet),
            };
            if let Some(c) = &mut self.capture {
                if let Err(err) = c.record(3, self.now, &packet) {
                    self.capture_error.get_or_insert(err.to_string());
                }
            }
            for p in ports {
                self.out_of_switch(s, p, &packet);
            }
        }
    }

    /// A packet leaves switch `s` by port `p`.
    fn out_of_switch(&mut self, s: SwitchId, p: u8, packet: &[u8]) {
        let here = Attach::Switch(s, p);
        let found = self
            .links
            .iter()
            .enumerate()
            .find_map(|(i, l)| l.ends.iter().position(|e| *e == here).map(|side| (i, side)));
        match found {
            Some((link, side)) => self.send_on(link, side, packet),
            None => {
                *self.switches[s]
                    .drops
                    .entry(SwitchDrop::NoRoute)
                    .or_default() += 1
            }
        }
    }

    /// A packet arrives at switch `s` on `port`: to the management port
    /// when it is for the SM (the permissive DLID of a directed-route
    /// SMP, or the SM's LID), forwarded otherwise.
    fn at_switch(&mut self, s: SwitchId, port: u8, packet: &[u8]) {
        let Some(lrh) = self.switches[s].link_check(packet) else {
            return;
        };
        let now = self.now;
        if let Some((ms, sm)) = self.sm.as_mut() {
            if *ms == s && (lrh.dlid == PERMISSIVE_LID || lrh.dlid == SM_LID) {
                let txs = sm.receive(now, port, packet, &mut self.switches[s]);
                self.sm_transmit(s, txs);
                return;
            }
        }
        for p in self.switches[s].route_checked(port, &lrh) {
            self.out_of_switch(s, p, packet);
        }
    }

    /// Run the subnet manager's timers due by now.
    fn sm_tick(&mut self) {
        let now = self.now;
        let Some((s, sm)) = self.sm.as_mut() else {
            return;
        };
        if sm.next_deadline().is_none_or(|t| t > now) {
            return;
        }
        let s = *s;
        let txs = sm.tick(now, &mut self.switches[s]);
        self.sm_transmit(s, txs);
    }

    fn linked(&self, a: Attach) -> bool {
        self.links.iter().any(|l| l.ends.contains(&a))
    }

    /// Join two ports with a link. Each direction's faults draw from their
    /// own stream, derived from the fabric's seed and the link's number.
    pub fn connect(&mut self, a: Attach, b: Attach, cfg: LinkConfig) -> Result<usize, String> {
        cfg.validate()?;
        for e in [a, b] {
            match e {
                Attach::Endpoint(i) if i >= self.endpoints.len() => {
                    return Err(format!("no endpoint {i}"))
                }
                Attach::Switch(s, p) => {
                    let sw = self.switches.get(s).ok_or(format!("no switch {s}"))?;
                    if p == 0 || p > sw.ports {
                        return Err(format!("{} has no port {p}", sw.name));
                    }
                }
                _ => {}
            }
            if self.linked(e) {
                return Err(format!("{e:?} already has a link"));
            }
        }
        if a == b {
            return Err("a link needs two ends".into());
        }
        let id = self.links.len();
        let seed = |d: u64| self.seed ^ (id as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ d;
        self.links.push(Link {
            ends: [a, b],
            dirs: [Direction::new(cfg, seed(0)), Direction::new(cfg, seed(1))],
        });
        for (side, e) in [a, b].into_iter().enumerate() {
            if let Attach::Endpoint(i) = e {
                self.endpoints[i].link = Some((id, side));
            }
        }
        Ok(id)
    }

    /// Change a link's faults (both directions) from now on.
    pub fn set_faults(&mut self, link: usize, f: crate::Faults) -> Result<(), String> {
        f.validate()?;
        let l = self.links.get_mut(link).ok_or(format!("no link {link}"))?;
        for d in &mut l.dirs {
            d.set_faults(f);
        }
        Ok(())
    }

    /// Record every packet an endpoint transmits into `w`.
    pub fn capture_to(&mut self, w: Box<dyn Write + Send>) -> Result<(), CaptureError> {
        self.capture = Some(Capture::new(w)?);
        Ok(())
    }

    /// Finish the capture; the packets it holds, or why writing it failed.
    pub fn finish_capture(&mut self) -> Result<u64, String> {
        if let Some(e) = self.capture_error.take() {
            return Err(e);
        }
        match self.capture.take() {
            Some(c) => {
                let n = c.packets;
                let mut w = c.into_inner();
                w.flush().map_err(|e| format!("capture file: {e}"))?;
                Ok(n)
            }
            None => Ok(0),
        }
    }

    fn send_on(&mut self, link: usize, side: usize, packet: &[u8]) {
        let l = &mut self.links[link];
        let to = l.ends[1 - side];
        for (at, p) in l.dirs[side].send(self.now, packet) {
            self.seq += 1;
            self.events.push(Reverse(Arrival {
                at,
                seq: self.seq,
                to,
                packet: p,
            }));
        }
    }

    /// Transmit a packet (LRH through VCRC) from endpoint `e` now.
    pub fn transmit(&mut self, e: EndpointId, packet: &[u8]) {
        self.catch_up();
        let Some(ep) = self.endpoints.get_mut(e) else {
            return;
        };
        ep.stats.tx_packets += 1;
        ep.stats.tx_bytes += packet.len() as u64;
        let Some((link, side)) = ep.link else {
            ep.stats.unconnected += 1;
            return;
        };
        if let Some(c) = &mut self.capture {
            if let Err(err) = c.record((e % 4) as u8, self.now, packet) {
                self.capture_error.get_or_insert(err.to_string());
            }
        }
        self.send_on(link, side, packet);
    }

    /// When the next packet in flight arrives somewhere, or the subnet
    /// manager's next timer runs out, whichever comes first.
    pub fn next_arrival(&self) -> Option<Ns> {
        let sm = self.sm.as_ref().and_then(|(_, m)| m.next_deadline());
        let packet = self.events.peek().map(|Reverse(a)| a.at);
        match (packet, sm) {
            (Some(a), Some(b)) => Some(a.min(b.max(self.now))),
            (a, b) => a.or(b.map(|t| t.max(self.now))),
        }
    }

    /// Whether any packet is still on its way.
    pub fn in_flight(&self) -> bool {
        !self.events.is_empty()
    }

    /// Move time on to `to`, delivering and forwarding every packet that
    /// arrives by then, in arrival order. Following the wall clock, time
    /// stops at the wall clock's reading if that is earlier.
    pub fn advance(&mut self, to: Ns) {
        let to = self.wall_now().map_or(to, |w| to.min(w));
        loop {
            let sm = self.sm.as_ref().and_then(|(_, m)| m.next_deadline());
            let packet = self.events.peek().map(|Reverse(a)| a.at);
            if let Some(t) = sm.filter(|t| *t <= to && packet.is_none_or(|a| *t < a)) {
                self.now = self.now.max(t);
                self.sm_tick();
                continue;
            }
            if packet.is_none_or(|a| a > to) {
                break;
            }
            let Reverse(a) = self.events.pop().expect("peeked");
            self.now = self.now.max(a.at);
            match a.to {
                Attach::Endpoint(i) => {
                    let ep = &mut self.endpoints[i];
                    ep.stats.rx_packets += 1;
                    ep.stats.rx_bytes += a.packet.len() as u64;
                    ep.rx.push_back(a.packet);
                }
                Attach::Switch(s, port) => self.at_switch(s, port, &a.packet),
            }
        }
        self.now = self.now.max(to);
    }

    /// Move time on until nothing is in flight (at most `limit` ns).
    /// Following the wall clock, time cannot be hurried: what has arrived
    /// by now is delivered and the rest waits.
    pub fn settle(&mut self, limit: Ns) {
        if self.wall.is_some() {
            self.catch_up();
            return;
        }
        let end = self.now.saturating_add(limit);
        while let Some(t) = self.next_arrival() {
            if t > end {
                break;
            }
            self.advance(t);
        }
    }

    /// Hand endpoint `e` a packet as if its link had just delivered it (a
    /// recorded or hand-made packet, `hca inject`); false for no such
    /// endpoint.
    pub fn inject(&mut self, e: EndpointId, packet: &[u8]) -> bool {
        let Some(ep) = self.endpoints.get_mut(e) else {
            return false;
        };
        ep.stats.rx_packets += 1;
        ep.stats.rx_bytes += packet.len() as u64;
        ep.rx.push_back(packet.to_vec());
        true
    }

    /// The next packet endpoint `e` received, oldest first.
    pub fn receive(&mut self, e: EndpointId) -> Option<Vec<u8>> {
        self.endpoints.get_mut(e)?.rx.pop_front()
    }

    pub fn stats(&self) -> FabricStats {
        let mut s = FabricStats {
            endpoints: self
                .endpoints
                .iter()
                .map(|e| (e.name.clone(), e.stats))
                .collect(),
            ..Default::default()
        };
        for sw in &self.switches {
            s.forwarded += sw.forwarded;
            for (why, n) in &sw.drops {
                s.switch_drops.insert((sw.name.clone(), why.name()), *n);
            }
        }
        if let Some((_, sm)) = &self.sm {
            s.sm = sm.counters.clone();
            for (k, v) in &sm.sa.counters {
                s.sm.insert(k, *v);
            }
        }
        for l in &self.links {
            for d in &l.dirs {
                let c = d.fault_counts();
                s.faults.dropped += c.dropped;
                s.faults.corrupted += c.corrupted;
                s.faults.duplicated += c.duplicated;
                s.faults.reordered += c.reordered;
            }
        }
        s
    }
}
