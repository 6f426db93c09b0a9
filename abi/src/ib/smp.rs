//! Directed-route subnet management packets (IBTA vol. 1, 14.2.2): the
//! fields a directed-route SMP carries beyond the common MAD header (hop
//! pointer and count, DrSLID and DrDLID, the initial and return paths) and
//! the rules by which each node on the way moves the hop pointer. The
//! fabric's switch and subnet manager and the driver's MAD agent all
//! follow these; the mlx4 firmware's agent answers the attribute.
//!
//! An SMP starts at hop pointer 0. Outbound (direction bit clear), the
//! sender steps it to 1 and sends out of `initial_path[1]`; every switch
//! on the way records the port it came in by in `return_path[hop]`, steps
//! the pointer and sends out of `initial_path[hop]`; at `hop == hop_count`
//! the SMP has arrived. The answer (direction bit set) walks the return
//! path back, the pointer stepping down, until it reaches 0 at the node
//! that sent the request. A node that finds the pointer where no rule
//! allows it discards the SMP (C14-9, C14-13).

use crate::cmd::mad::{CLASS_SUBN_DIRECTED_ROUTE, MAD_BYTES, STATUS_DIRECTION};

/// The permissive LID: a directed-route part of a path has no LID.
pub const PERMISSIVE: u16 = 0xffff;
/// Hop counts run 0..=63 (C14-6).
pub const MAX_HOPS: u8 = 63;

const HOP_PTR: usize = 6;
const HOP_CNT: usize = 7;
const DR_SLID: usize = 32;
const DR_DLID: usize = 34;
const INITIAL_PATH: usize = 128;
const RETURN_PATH: usize = 192;

/// A 256-byte SMP, read and written in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smp(pub Vec<u8>);

/// What a node does with a directed-route SMP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Hand it to this node's SMA (a request) or SM (an answer).
    Local,
    /// Send it out of this port.
    Out(u8),
    /// Drop it: the hop pointer or a path entry breaks a rule.
    Discard,
}

impl Smp {
    /// An SMP from MAD bytes (padded or cut to 256).
    pub fn new(mut bytes: Vec<u8>) -> Smp {
        bytes.resize(MAD_BYTES, 0);
        Smp(bytes)
    }

    pub fn is_directed(&self) -> bool {
        self.0[1] == CLASS_SUBN_DIRECTED_ROUTE
    }

    /// The direction bit: set on an answer returning to its requester.
    pub fn returning(&self) -> bool {
        self.status() & STATUS_DIRECTION != 0
    }

    pub fn status(&self) -> u16 {
        u16::from_be_bytes([self.0[4], self.0[5]])
    }

    pub fn set_status(&mut self, s: u16) {
        self.0[4..6].copy_from_slice(&s.to_be_bytes());
    }

    pub fn hop_ptr(&self) -> u8 {
        self.0[HOP_PTR]
    }

    pub fn set_hop_ptr(&mut self, h: u8) {
        self.0[HOP_PTR] = h;
    }

    pub fn hop_cnt(&self) -> u8 {
        self.0[HOP_CNT]
    }

    pub fn dr_slid(&self) -> u16 {
        u16::from_be_bytes([self.0[DR_SLID], self.0[DR_SLID + 1]])
    }

    pub fn dr_dlid(&self) -> u16 {
        u16::from_be_bytes([self.0[DR_DLID], self.0[DR_DLID + 1]])
    }

    /// The port to leave hop `i` by, outbound.
    pub fn initial(&self, i: u8) -> u8 {
        self.0[INITIAL_PATH + (i as usize & 63)]
    }

    /// The port hop `i` was entered by, recorded on the way out.
    pub fn back(&self, i: u8) -> u8 {
        self.0[RETURN_PATH + (i as usize & 63)]
    }

    fn set_back(&mut self, i: u8, port: u8) {
        self.0[RETURN_PATH + (i as usize & 63)] = port;
    }

    /// A directed-route request from its originator: `path[k]` is the port
    /// hop k+1 leaves by (empty for the originator's own node).
    pub fn request(mut mad: Vec<u8>, path: &[u8]) -> Smp {
        mad.resize(MAD_BYTES, 0);
        let mut s = Smp(mad);
        s.0[1] = CLASS_SUBN_DIRECTED_ROUTE;
        s.set_status(s.status() & !STATUS_DIRECTION);
        s.0[HOP_PTR] = 0;
        s.0[HOP_CNT] = path.len().min(MAX_HOPS as usize) as u8;
        s.0[DR_SLID..DR_SLID + 2].copy_from_slice(&PERMISSIVE.to_be_bytes());
        s.0[DR_DLID..DR_DLID + 2].copy_from_slice(&PERMISSIVE.to_be_bytes());
        s.0[INITIAL_PATH..].fill(0);
        for (k, p) in path.iter().take(MAX_HOPS as usize).enumerate() {
            s.0[INITIAL_PATH + k + 1] = *p;
        }
        s
    }

    /// Turn a request that arrived into its answer's direction (the
    /// agent fills the method, status and data).
    pub fn turn_around(&mut self) {
        let s = self.status() | STATUS_DIRECTION;
        self.set_status(s);
    }

    /// The originator sends its request, or the agent at the end of the
    /// path its answer: the hop pointer steps and the port it leaves by,
    /// or `Local` when the SMP never leaves the node (hop count 0).
    pub fn send(&mut self) -> Route {
        let (h, n) = (self.hop_ptr(), self.hop_cnt());
        if n > MAX_HOPS {
            return Route::Discard;
        }
        if !self.returning() {
            return match h {
                0 if n == 0 => Route::Local,
                0 => {
                    self.set_hop_ptr(1);
                    out(self.initial(1))
                }
                _ => Route::Discard,
            };
        }
        // An answer leaves by the port its request came in by, the pointer
        // at the hop count: the agent may have stepped it past the end
        // (IBTA's SMA does; Linux's MAD layer leaves it).
        match h {
            _ if n == 0 => Route::Local,
            h if h == n + 1 || h == n => {
                self.set_hop_ptr(n);
                out(self.back(n))
            }
            _ => Route::Discard,
        }
    }

    /// A directed-route SMP arrived on `port` of a node with `ports`
    /// ports: where it goes next.
    pub fn arrive(&mut self, is_switch: bool, port: u8, ports: u8) -> Route {
        let (h, n) = (self.hop_ptr(), self.hop_cnt());
        if n > MAX_HOPS {
            return Route::Discard;
        }
        if !self.returning() {
            if h == 0 || h > n {
                // The sender never stepped it, or it ran past the end.
                return if h == n + 1 && h != 0 {
                    Route::Local
                } else {
                    Route::Discard
                };
            }
            self.set_back(h, port);
            if h < n {
                if !is_switch {
                    return Route::Discard;
                }
                let next = self.initial(h + 1);
                if next == 0 || next > ports {
                    return Route::Discard;
                }
                self.set_hop_ptr(h + 1);
                return Route::Out(next);
            }
            // The end of the directed part: this node's agent answers.
            return if is_switch || self.dr_dlid() == PERMISSIVE {
                Route::Local
            } else {
                Route::Discard
            };
        }
        match h {
            0 => Route::Local,
            1 if self.dr_slid() == PERMISSIVE => {
                self.set_hop_ptr(0);
                Route::Local
            }
            h if h >= 2 && h <= n => {
                if !is_switch {
                    return Route::Discard;
                }
                let prev = self.back(h - 1);
                if prev > ports {
                    return Route::Discard;
                }
                self.set_hop_ptr(h - 1);
                Route::Out(prev)
            }
            _ => Route::Discard,
        }
    }
}

fn out(port: u8) -> Route {
    if port == 0 {
        Route::Discard
    } else {
        Route::Out(port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get() -> Vec<u8> {
        let mut m = vec![0u8; MAD_BYTES];
        m[0] = 1;
        m[2] = 1;
        m[3] = 1;
        m
    }

    #[test]
    fn a_request_two_switches_away_and_its_answer_walk_the_paths() {
        // SM on switch A's port 0; A port 3 -> switch B port 1; B port 5
        // -> the CA's port 1.
        let mut s = Smp::request(get(), &[3, 5]);
        assert_eq!(s.send(), Route::Out(3));
        assert_eq!(s.arrive(true, 1, 8), Route::Out(5), "B forwards");
        assert_eq!(s.arrive(false, 1, 1), Route::Local, "the CA's agent");
        assert_eq!((s.back(1), s.back(2)), (1, 1));
        s.turn_around();
        // The CA's firmware stepped past the end, as an SMA does.
        s.set_hop_ptr(3);
        assert_eq!(s.send(), Route::Out(1));
        assert_eq!(s.arrive(true, 5, 8), Route::Out(1), "B back to A");
        assert_eq!(s.arrive(true, 3, 8), Route::Local, "A's SM");
        assert_eq!(s.hop_ptr(), 0);
    }

    #[test]
    fn one_hop_answers_arrive_whether_or_not_the_agent_stepped() {
        for stepped in [false, true] {
            let mut s = Smp::request(get(), &[2]);
            assert_eq!(s.send(), Route::Out(2));
            assert_eq!(s.arrive(false, 1, 1), Route::Local);
            s.turn_around();
            if stepped {
                s.set_hop_ptr(2);
            }
            assert_eq!(s.send(), Route::Out(1), "stepped {stepped}");
            assert_eq!(s.arrive(true, 2, 4), Route::Local);
        }
    }

    #[test]
    fn broken_pointers_and_paths_are_discarded() {
        let mut s = Smp::request(get(), &[2, 9]);
        s.send();
        assert_eq!(s.clone().arrive(true, 1, 8), Route::Discard, "no port 9");
        assert_eq!(
            s.clone().arrive(false, 1, 1),
            Route::Discard,
            "a CA mid-path"
        );
        let mut z = Smp::request(get(), &[2]);
        assert_eq!(
            z.arrive(false, 1, 1),
            Route::Discard,
            "pointer never stepped"
        );
        let mut big = Smp::request(get(), &[1]);
        big.0[HOP_CNT] = 64;
        assert_eq!(big.send(), Route::Discard);
        assert_eq!(Smp::request(get(), &[]).send(), Route::Local);
    }
}
