//! The subnet manager, embedded in a switch at its management port (port
//! 0, LID 1), bringing the subnet up over the wire the way opensm does:
//! for every switch port whose link trained, directed-route SMPs to the
//! port's QP0 (SubnGet NodeInfo, SubnGet PortInfo, SubnSet PortInfo with
//! the LID, the master SM and the subnet prefix), the switch's linear
//! forwarding table programmed, and, once no port is still being
//! discovered, each port taken to ARMED and then ACTIVE with two more
//! SubnSets. The HCA's agent answers each SMP (the Rust driver's MAD agent
//! or, under UML, Linux's MAD layer, both through the firmware's SMA). An
//! SMP with no answer is sent again after [`SMP_TIMEOUT`]; after
//! [`SMP_TRIES`] the port is given up until a sweep [`RESWEEP`] later. A
//! port keeps its LID (by port GUID) across link changes. Those are the
//! timers of a fabric in simulated time ([`Timing::SIMULATED`]); a fabric
//! that follows the wall clock, with UML kernels answering, takes
//! opensm's ([`Timing::WALL_CLOCK`]).
//!
//! The SA ([`crate::sa`]) answers GMPs to the SM's LID; its multicast
//! groups become the switch's multicast forwarding table.
//!
//! Not modelled: more than one switch (a switch behind a switch port is
//! refused), the switch's own SMA (the SM programs its switch directly,
//! as an SM on a managed switch reaches its local SMA), M_Keys, LMC > 0,
//! SM failover and SMInfo, traps (a link change reaches the SM as the
//! switch's PortStateChange trap would, after [`TRAP_DELAY`]).

use crate::link::Ns;
use crate::mgmt;
use crate::sa::{Directory, SubnetAdmin};
use crate::switch::Switch;
use hca_abi::cmd::mad::{
    MadHeader, NodeInfo, PortInfo, ATTR_NODE_INFO, ATTR_PORT_INFO, CLASS_SUBN_DIRECTED_ROUTE,
    MAD_BYTES, METHOD_GET, METHOD_SET, SMP_DATA, STATUS_DIRECTION,
};
use hca_abi::ib::headers::PERMISSIVE_LID;
use hca_abi::ib::sa::CLASS_SUBN_ADM;
use hca_abi::ib::smp::{Route, Smp};
use std::collections::BTreeMap;

/// The SM's (and its switch's) LID.
pub const SM_LID: u16 = 1;
/// The subnet prefix the SM gives every port (the default, fe80::/64).
pub const SUBNET_PREFIX: u64 = 0xfe80_0000_0000_0000;
/// How long an SMP waits for its answer before it is sent again.
pub const SMP_TIMEOUT: Ns = 1_000_000;
/// Sends of one SMP before the port is given up for this sweep.
pub const SMP_TRIES: u32 = 6;
/// When a sweep follows one that gave a port up.
pub const RESWEEP: Ns = 20_000_000;
/// From a link change to the sweep that finds it.
pub const TRAP_DELAY: Ns = 10_000;
/// The SM's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How long an SMP waits for its answer before it is sent again.
    pub smp_timeout: Ns,
    /// Sends of one SMP before the port is given up for this sweep.
    pub tries: u32,
    /// When a sweep follows one that gave a port up.
    pub resweep: Ns,
    /// From a link change to the sweep that finds it.
    pub trap_delay: Ns,
}

impl Timing {
    /// For a fabric in simulated time, whose agents answer within
    /// microseconds of simulated time.
    pub const SIMULATED: Timing = Timing {
        smp_timeout: SMP_TIMEOUT,
        tries: SMP_TRIES,
        resweep: RESWEEP,
        trap_delay: TRAP_DELAY,
    };
    /// For a fabric that follows the wall clock, whose agents are kernels
    /// answering in milliseconds: opensm's transaction timeout (200 ms)
    /// and retries (3 resends), a resweep 1 s after a port gave no answer
    /// (opensm sweeps every 10 s), and a trap's 10 ms.
    pub const WALL_CLOCK: Timing = Timing {
        smp_timeout: 200_000_000,
        tries: 4,
        resweep: 1_000_000_000,
        trap_delay: 10_000_000,
    };
}

/// PortInfo's SubnetTimeout the SM sets (opensm's default, 18).
const SUBNET_TIMEOUT: u8 = 18;

/// Where a port is on its way to ACTIVE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// No trained link.
    Down,
    /// Trained; the next sweep will find it.
    Found,
    NodeInfo,
    PortInfo,
    SetLid,
    /// LID set and routed; waiting for discovery to finish elsewhere.
    LidSet,
    SetArmed,
    SetActive,
    Active,
    /// Gave no answer (or a bad one); retried at the next sweep.
    Failed,
}

impl Phase {
    fn discovering(self) -> bool {
        matches!(
            self,
            Phase::Found | Phase::NodeInfo | Phase::PortInfo | Phase::SetLid
        )
    }
}

/// One switch port as the SM sees it.
#[derive(Clone, Debug)]
struct PortRec {
    up: bool,
    phase: Phase,
    guid: u64,
    lid: u16,
    mtu: u8,
    /// The outstanding SMP: its TID, the packet (for a resend), the
    /// deadline and the sends so far.
    tid: u64,
    packet: Vec<u8>,
    deadline: Option<Ns>,
    tries: u32,
}

impl Default for PortRec {
    fn default() -> Self {
        PortRec {
            up: false,
            phase: Phase::Down,
            guid: 0,
            lid: 0,
            mtu: 5,
            tid: 0,
            packet: Vec::new(),
            deadline: None,
            tries: 0,
        }
    }
}

/// What the SM sends: out of a switch port (directed route), or routed by
/// the switch's tables (LID-routed answers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tx {
    Port(u8, Vec<u8>),
    Routed(Vec<u8>),
}

/// What the SM knows of the subnet: the switch's ports and the LIDs.
#[derive(Debug, Default)]
pub struct Subnet {
    ports: Vec<PortRec>,
    lids: BTreeMap<u64, u16>,
    next_lid: u16,
}

impl Directory for Subnet {
    fn prefix(&self) -> u64 {
        SUBNET_PREFIX
    }

    fn lid_of(&self, guid: u64) -> Option<u16> {
        self.ports
            .iter()
            .find(|r| r.up && r.guid == guid && r.phase >= Phase::LidSet && r.lid != 0)
            .map(|r| r.lid)
    }

    fn switch_port_of(&self, lid: u16) -> Option<u8> {
        self.ports
            .iter()
            .position(|r| r.up && r.lid == lid && r.phase >= Phase::LidSet)
            .map(|p| p as u8)
    }

    fn mtu_of(&self, lid: u16) -> Option<u8> {
        let p = self.switch_port_of(lid)?;
        Some(self.ports[p as usize].mtu)
    }
}

/// The subnet manager and its SA.
#[derive(Debug)]
pub struct SubnetManager {
    subnet: Subnet,
    sweep_at: Option<Ns>,
    /// The timers ([`Timing::SIMULATED`] unless told otherwise).
    pub timing: Timing,
    tid: u64,
    psn: u32,
    pub sa: SubnetAdmin,
    pub counters: BTreeMap<&'static str, u64>,
}

impl SubnetManager {
    /// An SM for a switch of `ports` ports.
    pub fn new(ports: u8) -> SubnetManager {
        SubnetManager {
            subnet: Subnet {
                ports: vec![PortRec::default(); ports as usize + 1],
                lids: BTreeMap::new(),
                next_lid: SM_LID + 1,
            },
            sweep_at: None,
            timing: Timing::SIMULATED,
            tid: 0,
            psn: 0,
            sa: SubnetAdmin::new(),
            counters: BTreeMap::new(),
        }
    }

    fn count(&mut self, what: &'static str) {
        *self.counters.entry(what).or_default() += 1;
    }

    /// Each switch port's phase and LID (index = port; 0 is unused).
    pub fn ports(&self) -> Vec<(Phase, u16)> {
        self.subnet.ports.iter().map(|r| (r.phase, r.lid)).collect()
    }

    /// The LID the SM gave the port with GUID `guid`.
    pub fn lid_of(&self, guid: u64) -> Option<u16> {
        self.subnet.lids.get(&guid).copied()
    }

    fn sweep_soon(&mut self, at: Ns) {
        self.sweep_at = Some(self.sweep_at.map_or(at, |t| t.min(at)));
    }

    /// Switch port `port`'s link trained (or went down) at `now`.
    pub fn link_changed(&mut self, now: Ns, port: u8, up: bool, sw: &mut Switch) {
        let Some(r) = self.subnet.ports.get_mut(port as usize) else {
            return;
        };
        if r.up == up {
            return;
        }
        r.up = up;
        r.deadline = None;
        if up {
            r.phase = Phase::Found;
            self.sweep_soon(now + self.timing.trap_delay);
        } else {
            r.phase = Phase::Down;
            if r.lid != 0 {
                let _ = sw.set_route(r.lid, 0);
            }
            self.program_mft(sw);
        }
    }

    /// When the SM next has something to do.
    pub fn next_deadline(&self) -> Option<Ns> {
        let ports = self.subnet.ports.iter().filter_map(|r| r.deadline);
        ports.chain(self.sweep_at).min()
    }

    /// Run the timers due at `now`: a sweep, resends, ports given up.
    pub fn tick(&mut self, now: Ns, sw: &mut Switch) -> Vec<Tx> {
        let mut out = Vec::new();
        if self.sweep_at.is_some_and(|t| t <= now) {
            self.sweep_at = None;
            self.count("sm_sweeps");
            for p in 1..self.subnet.ports.len() {
                let r = &self.subnet.ports[p];
                if r.up && matches!(r.phase, Phase::Found | Phase::Failed) {
                    out.push(self.ask_node_info(now, p as u8));
                }
            }
        }
        for p in 1..self.subnet.ports.len() {
            let r = &mut self.subnet.ports[p];
            if r.deadline.is_none_or(|t| t > now) {
                continue;
            }
            if r.tries >= self.timing.tries {
                r.deadline = None;
                r.phase = Phase::Failed;
                self.count("sm_port_gave_no_answer");
                self.sweep_soon(now + self.timing.resweep);
                continue;
            }
            r.tries += 1;
            r.deadline = Some(now + self.timing.smp_timeout);
            out.push(Tx::Port(p as u8, r.packet.clone()));
            self.count("sm_smp_resent");
        }
        out.extend(self.arm(now, sw));
        out
    }

    /// A directed-route request to switch port `p`'s far end.
    fn request(&mut self, now: Ns, p: u8, method: u8, attr: u16, attr_mod: u32, data: &[u8]) -> Tx {
        self.tid += 1;
        self.psn = self.psn.wrapping_add(1);
        let h = MadHeader {
            base_version: 1,
            mgmt_class: CLASS_SUBN_DIRECTED_ROUTE,
            class_version: 1,
            method,
            tid: self.tid,
            attr_id: attr,
            attr_mod,
            ..Default::default()
        };
        let mut mad = vec![0u8; MAD_BYTES];
        mad[..MadHeader::SIZE].copy_from_slice(&h.encode());
        mad[SMP_DATA..SMP_DATA + data.len().min(64)].copy_from_slice(&data[..data.len().min(64)]);
        let mut smp = Smp::request(mad, &[p]);
        let _ = smp.send();
        let packet = mgmt::packet(PERMISSIVE_LID, PERMISSIVE_LID, 0, 0, self.psn, &smp.0);
        let r = &mut self.subnet.ports[p as usize];
        r.tid = self.tid;
        r.packet = packet.clone();
        r.deadline = Some(now + self.timing.smp_timeout);
        r.tries = 1;
        self.count("sm_smp_sent");
        Tx::Port(p, packet)
    }

    fn ask_node_info(&mut self, now: Ns, p: u8) -> Tx {
        self.subnet.ports[p as usize].phase = Phase::NodeInfo;
        self.request(now, p, METHOD_GET, ATTR_NODE_INFO, 0, &[])
    }

    fn set_port_info(&mut self, now: Ns, p: u8, state: u8) -> Tx {
        let r = &self.subnet.ports[p as usize];
        let pi = PortInfo {
            gid_prefix: SUBNET_PREFIX,
            lid: r.lid,
            master_sm_lid: SM_LID,
            port_state: state,
            neighbor_mtu: r.mtu,
            subnet_timeout: SUBNET_TIMEOUT,
            ..Default::default()
        };
        self.request(now, p, METHOD_SET, ATTR_PORT_INFO, 0, &pi.encode())
    }

    /// Once no port is being discovered, take each port with its LID to
    /// ARMED.
    fn arm(&mut self, now: Ns, _sw: &mut Switch) -> Vec<Tx> {
        let ports = &self.subnet.ports;
        if ports.iter().any(|r| r.up && r.phase.discovering()) {
            return Vec::new();
        }
        let ready: Vec<u8> = (1..ports.len())
            .filter(|&p| ports[p].up && ports[p].phase == Phase::LidSet)
            .map(|p| p as u8)
            .collect();
        ready
            .into_iter()
            .map(|p| {
                self.subnet.ports[p as usize].phase = Phase::SetArmed;
                self.set_port_info(now, p, 3)
            })
            .collect()
    }

    fn give_up(&mut self, now: Ns, p: u8, why: &'static str) {
        let r = &mut self.subnet.ports[p as usize];
        r.phase = Phase::Failed;
        r.deadline = None;
        self.count(why);
        self.sweep_soon(now + self.timing.resweep);
    }

    /// The answer to switch port `p`'s outstanding SMP.
    fn answered(&mut self, now: Ns, p: u8, smp: &Smp, sw: &mut Switch) -> Vec<Tx> {
        let r = &mut self.subnet.ports[p as usize];
        r.deadline = None;
        if smp.status() & !STATUS_DIRECTION != 0 {
            self.give_up(now, p, "sm_smp_error_status");
            return Vec::new();
        }
        let data = &smp.0[SMP_DATA..SMP_DATA + 64];
        let mut out = Vec::new();
        match r.phase {
            Phase::NodeInfo => {
                let ni = NodeInfo::decode(data);
                if ni.node_type != 1 {
                    // A switch behind a switch port: one switch is modelled.
                    self.give_up(now, p, "sm_not_a_channel_adapter");
                    return out;
                }
                r.guid = ni.port_guid;
                r.phase = Phase::PortInfo;
                let local = ni.local_port_num as u32;
                out.push(self.request(now, p, METHOD_GET, ATTR_PORT_INFO, local, &[]));
            }
            Phase::PortInfo => {
                let pi = PortInfo::decode(data);
                r.mtu = pi.mtu_cap.clamp(1, 5);
                let guid = r.guid;
                let lid = match self.subnet.lids.get(&guid) {
                    Some(l) => *l,
                    None => {
                        let l = self.subnet.next_lid;
                        self.subnet.next_lid += 1;
                        self.subnet.lids.insert(guid, l);
                        l
                    }
                };
                let r = &mut self.subnet.ports[p as usize];
                r.lid = lid;
                if pi.lid == lid && pi.master_sm_lid == SM_LID && pi.port_state == 4 {
                    // Already up from an earlier sweep.
                    r.phase = Phase::Active;
                    let _ = sw.set_route(lid, p);
                    self.program_mft(sw);
                } else {
                    r.phase = Phase::SetLid;
                    out.push(self.set_port_info(now, p, 0));
                }
            }
            Phase::SetLid => {
                let pi = PortInfo::decode(data);
                if pi.lid != r.lid {
                    self.give_up(now, p, "sm_lid_not_taken");
                    return out;
                }
                r.phase = Phase::LidSet;
                let lid = r.lid;
                let _ = sw.set_route(lid, p);
                self.program_mft(sw);
                self.count("sm_lid_assigned");
            }
            Phase::SetArmed => {
                if PortInfo::decode(data).port_state != 3 {
                    self.give_up(now, p, "sm_port_not_armed");
                    return out;
                }
                r.phase = Phase::SetActive;
                out.push(self.set_port_info(now, p, 4));
            }
            Phase::SetActive => {
                if PortInfo::decode(data).port_state != 4 {
                    self.give_up(now, p, "sm_port_not_active");
                    return out;
                }
                r.phase = Phase::Active;
                self.count("sm_port_active");
            }
            _ => self.count("sm_smp_unexpected"),
        }
        out.extend(self.arm(now, sw));
        out
    }

    /// The groups' member ports into the switch's multicast table.
    fn program_mft(&mut self, sw: &mut Switch) {
        let issued = self.sa.mlids_issued();
        let mft = self.sa.mft(&self.subnet);
        for mlid in issued {
            let mask = mft.iter().find(|(m, _)| *m == mlid).map_or(0, |(_, k)| *k);
            let _ = sw.set_multicast(mlid, mask);
        }
    }

    /// A packet for the management port (the permissive DLID or the SM's
    /// LID), arrived on switch port `ingress`, its link checks passed.
    pub fn receive(&mut self, now: Ns, ingress: u8, packet: &[u8], sw: &mut Switch) -> Vec<Tx> {
        let m = match mgmt::parse(packet) {
            Ok(m) => m,
            Err(why) => {
                self.count(why);
                return Vec::new();
            }
        };
        if m.dest_qp == 1 {
            return self.gmp(m, sw);
        }
        let mut smp = Smp::new(m.bytes);
        if !smp.is_directed() {
            self.count("sm_lid_routed_smp_not_modelled");
            return Vec::new();
        }
        match smp.arrive(true, ingress, sw.ports) {
            Route::Local if smp.returning() => {
                let tid = u64::from_be_bytes(smp.0[8..16].try_into().expect("8 bytes"));
                let found = (1..self.subnet.ports.len()).find(|&p| {
                    let r = &self.subnet.ports[p];
                    r.deadline.is_some() && r.tid == tid
                });
                match found {
                    Some(p) if p as u8 == ingress => self.answered(now, p as u8, &smp, sw),
                    _ => {
                        // A late answer to an SMP already resent and answered.
                        self.count("sm_smp_answer_unmatched");
                        Vec::new()
                    }
                }
            }
            Route::Local => {
                self.count("switch_sma_not_modelled");
                Vec::new()
            }
            Route::Out(p) => {
                // Another SM's SMP crossing this switch.
                self.count("sm_dr_forwarded");
                vec![Tx::Port(
                    p,
                    mgmt::packet(m.dlid, m.slid, m.sl, 0, 0, &smp.0),
                )]
            }
            Route::Discard => {
                self.count("sm_dr_discarded");
                Vec::new()
            }
        }
    }

    fn gmp(&mut self, m: mgmt::Mad, sw: &mut Switch) -> Vec<Tx> {
        if m.dlid != SM_LID {
            self.count("sa_not_to_sm_lid");
            return Vec::new();
        }
        if m.bytes[1] != CLASS_SUBN_ADM {
            self.count("gmp_class_not_served");
            return Vec::new();
        }
        let Some(answer) = self.sa.handle(&self.subnet, &m.bytes) else {
            return Vec::new();
        };
        self.program_mft(sw);
        self.psn = self.psn.wrapping_add(1);
        let p = mgmt::packet(m.slid, SM_LID, m.sl, m.src_qp, self.psn, &answer);
        vec![Tx::Routed(p)]
    }
}
