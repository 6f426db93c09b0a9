//! A link between two ports: for each direction, the time a packet takes
//! to cross (serialisation at the link's data rate, then the propagation
//! latency), packets leaving one after another at that rate, and the
//! direction's fault injector.

use crate::faults::{Fate, Faults, Injector};

/// Simulated time, in nanoseconds.
pub type Ns = u64;

/// How a link is built.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkConfig {
    /// Propagation latency, ns.
    pub latency_ns: u64,
    /// Data rate, Gb/s (4X QDR carries 32 Gb/s of data).
    pub gbps: f64,
    pub faults: Faults,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency_ns: 100,
            gbps: 32.0,
            faults: Faults::NONE,
        }
    }
}

impl LinkConfig {
    pub fn validate(&self) -> Result<(), String> {
        self.faults.validate()?;
        if !(self.gbps.is_finite() && self.gbps > 0.0) {
            return Err(format!("link rate {} Gb/s is not positive", self.gbps));
        }
        Ok(())
    }
}

/// Extra delay of a packet the reorder fault holds back: long enough for
/// the packets sent just after it to overtake it.
pub const HOLD_NS: Ns = 2_000;

/// One direction of a link.
#[derive(Clone, Debug)]
pub struct Direction {
    pub cfg: LinkConfig,
    injector: Injector,
    /// When the last packet finishes leaving.
    busy_until: Ns,
    pub packets: u64,
    pub bytes: u64,
}

impl Direction {
    pub fn new(cfg: LinkConfig, seed: u64) -> Direction {
        Direction {
            cfg,
            injector: Injector::new(cfg.faults, seed),
            busy_until: 0,
            packets: 0,
            bytes: 0,
        }
    }

    fn serialisation(&self, bytes: usize) -> Ns {
        ((bytes as f64 * 8.0) / self.cfg.gbps).ceil() as Ns
    }

    /// Send `packet` at `now`: the copies that arrive and when (none if
    /// the link dropped it).
    pub fn send(&mut self, now: Ns, packet: &[u8]) -> Vec<(Ns, Vec<u8>)> {
        let depart = now.max(self.busy_until);
        let ser = self.serialisation(packet.len());
        self.busy_until = depart + ser;
        self.packets += 1;
        self.bytes += packet.len() as u64;
        let arrive = depart + ser + self.cfg.latency_ns;
        match self.injector.apply(packet) {
            Fate::Dropped => Vec::new(),
            Fate::Sent { copies, held, .. } => {
                let at = if held { arrive + HOLD_NS } else { arrive };
                copies
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| (at + i as Ns, c))
                    .collect()
            }
        }
    }

    /// Change the faults from now on (the draws go on from the same
    /// stream).
    pub fn set_faults(&mut self, f: Faults) {
        self.cfg.faults = f;
        self.injector.set_faults(f);
    }

    pub fn fault_counts(&self) -> crate::faults::FaultCounts {
        self.injector.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_queue_behind_each_other_at_the_link_rate() {
        let mut d = Direction::new(
            LinkConfig {
                latency_ns: 100,
                gbps: 8.0,
                faults: Faults::NONE,
            },
            0,
        );
        // 100 bytes at 8 Gb/s: 100 ns on the wire, then 100 ns of flight.
        assert_eq!(d.send(0, &[0; 100])[0].0, 200);
        assert_eq!(d.send(0, &[0; 100])[0].0, 300, "waits for the first");
        assert_eq!(d.send(1_000, &[0; 100])[0].0, 1_200, "an idle link");
    }

    #[test]
    fn a_held_packet_is_overtaken_by_the_next() {
        let mut d = Direction::new(
            LinkConfig {
                faults: Faults {
                    reorder: 1.0,
                    ..Faults::NONE
                },
                ..Default::default()
            },
            0,
        );
        let first = d.send(0, &[1; 64])[0].0;
        d.set_faults(Faults::NONE);
        let second = d.send(10, &[2; 64])[0].0;
        assert!(second < first);
    }
}
