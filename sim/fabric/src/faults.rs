//! Seeded fault injection on a link: each packet crossing it may be
//! dropped, corrupted (one bit flipped, so the VCRC catches it at the next
//! hop), duplicated or held back behind the next one (reordered). The
//! draws come from the link's own ChaCha stream, so a seed replays a run
//! exactly.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Probabilities, each in 0..=1, of what may happen to one packet.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    pub drop: f64,
    pub corrupt: f64,
    pub duplicate: f64,
    pub reorder: f64,
}

impl Faults {
    pub const NONE: Faults = Faults {
        drop: 0.0,
        corrupt: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
    };

    /// Only drops.
    pub fn loss(p: f64) -> Faults {
        Faults {
            drop: p,
            ..Faults::NONE
        }
    }

    /// Refuse a probability outside 0..=1.
    pub fn validate(&self) -> Result<(), String> {
        for (name, p) in [
            ("drop", self.drop),
            ("corrupt", self.corrupt),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} probability {p} is not in 0..=1"));
            }
        }
        Ok(())
    }

    pub fn is_none(&self) -> bool {
        *self == Faults::NONE
    }
}

/// What the faults made of one packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    Dropped,
    /// Sent on, possibly altered, possibly more than once, possibly held
    /// back behind the next packet.
    Sent {
        copies: Vec<Vec<u8>>,
        corrupted: bool,
        held: bool,
    },
}

/// Counts of what the faults did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub dropped: u64,
    pub corrupted: u64,
    pub duplicated: u64,
    pub reordered: u64,
}

/// One link direction's fault injector.
#[derive(Clone, Debug)]
pub struct Injector {
    pub faults: Faults,
    rng: ChaCha8Rng,
    pub counts: FaultCounts,
}

impl Injector {
    /// An injector drawing from `seed`. Probabilities outside 0..=1 are
    /// clamped into it (callers refuse them first, [`Faults::validate`]).
    pub fn new(faults: Faults, seed: u64) -> Injector {
        let unit = |p: f64| if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        let faults = Faults {
            drop: unit(faults.drop),
            corrupt: unit(faults.corrupt),
            duplicate: unit(faults.duplicate),
            reorder: unit(faults.reorder),
        };
        Injector {
            faults,
            rng: ChaCha8Rng::seed_from_u64(seed),
            counts: FaultCounts::default(),
        }
    }

    /// Change the probabilities; the stream of draws goes on.
    pub fn set_faults(&mut self, f: Faults) {
        let counts = self.counts;
        let rng = self.rng.clone();
        *self = Injector::new(f, 0);
        self.rng = rng;
        self.counts = counts;
    }

    /// Decide one packet's fate.
    pub fn apply(&mut self, packet: &[u8]) -> Fate {
        if self.faults.is_none() {
            return Fate::Sent {
                copies: vec![packet.to_vec()],
                corrupted: false,
                held: false,
            };
        }
        let f = self.faults;
        if self.rng.gen_bool(f.drop) {
            self.counts.dropped += 1;
            return Fate::Dropped;
        }
        let mut p = packet.to_vec();
        let corrupted = !p.is_empty() && self.rng.gen_bool(f.corrupt);
        if corrupted {
            let bit = self.rng.gen_range(0..p.len() * 8);
            p[bit / 8] ^= 1 << (bit % 8);
            self.counts.corrupted += 1;
        }
        let mut copies = vec![p];
        if self.rng.gen_bool(f.duplicate) {
            copies.push(copies[0].clone());
            self.counts.duplicated += 1;
        }
        let held = self.rng.gen_bool(f.reorder);
        if held {
            self.counts.reordered += 1;
        }
        Fate::Sent {
            copies,
            corrupted,
            held,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_faults_pass_everything_untouched() {
        let mut i = Injector::new(Faults::NONE, 1);
        for n in 0..100u8 {
            assert_eq!(
                i.apply(&[n; 10]),
                Fate::Sent {
                    copies: vec![vec![n; 10]],
                    corrupted: false,
                    held: false
                }
            );
        }
    }

    #[test]
    fn rates_come_out_near_their_probability_and_replay_by_seed() {
        let f = Faults {
            drop: 0.1,
            corrupt: 0.05,
            duplicate: 0.02,
            reorder: 0.03,
        };
        let run = |seed| {
            let mut i = Injector::new(f, seed);
            let fates: Vec<Fate> = (0..20_000).map(|_| i.apply(&[0u8; 64])).collect();
            (fates, i.counts)
        };
        let (a, c) = run(7);
        assert_eq!(run(7).0, a, "the same seed, the same fates");
        assert_ne!(run(8).0, a);
        let near = |n: u64, p: f64, of: f64| ((n as f64) - p * of).abs() < 5.0 * (p * of).sqrt();
        assert!(near(c.dropped, 0.1, 20_000.0), "{c:?}");
        let sent = 20_000.0 - c.dropped as f64;
        assert!(near(c.corrupted, 0.05, sent), "{c:?}");
        assert!(near(c.duplicated, 0.02, sent), "{c:?}");
        assert!(near(c.reordered, 0.03, sent), "{c:?}");
        for fate in &a {
            if let Fate::Sent {
                copies,
                corrupted: true,
                ..
            } = fate
            {
                let ones: u32 = copies[0].iter().map(|b| b.count_ones()).sum();
                assert_eq!(ones, 1, "one bit flipped");
            }
        }
    }

    #[test]
    fn probabilities_outside_the_unit_interval_are_refused() {
        assert!(Faults::loss(1.5).validate().is_err());
        assert!(Faults::loss(-0.1).validate().is_err());
        assert!(Faults::loss(0.01).validate().is_ok());
    }
}
