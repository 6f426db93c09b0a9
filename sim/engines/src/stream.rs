//! Valid/ready streams: where they sit in a block's ports, a driver for the
//! request side and a monitor for the response side.

use hca_rtl::transactor::BlockMemory;
use rand::Rng;
use std::collections::VecDeque;

/// Where a block's request and response streams sit in its signal structs.
/// One impl per block; every test and backend uses it.
pub trait StreamBlock {
    type In: Clone + Default + std::fmt::Debug;
    type Out: Clone + std::fmt::Debug;
    type Req: Clone + std::fmt::Debug;
    type Resp: Clone + std::fmt::Debug + PartialEq;

    /// What the block talks to besides its streams: bus-functional models
    /// of its ICM and DMA ports (their timing; what they reach is the
    /// memory given to each transaction), driven every cycle. `()` for
    /// none.
    type Env;

    /// The environment, with its own random pacing from `seed`.
    fn env(seed: u64) -> Self::Env;

    /// Drive the environment's inputs for this cycle (before sampling).
    fn env_drive(_env: &mut Self::Env, _i: &mut Self::In) {}

    /// Let the environment see this cycle's outputs (before the edge); the
    /// ICM and DMA accesses it takes reach `mem`.
    fn env_observe(_env: &mut Self::Env, _o: &Self::Out, _mem: &mut dyn BlockMemory) {}

    /// Whether a request is carried out by the environment rather than
    /// the block (the host writing ICM, say). It takes effect after every
    /// earlier request has completed, and before any later one starts.
    fn is_env_request(_req: &Self::Req) -> bool {
        false
    }

    /// Carry out an environment request on `mem`.
    fn env_request(
        _env: &mut Self::Env,
        _req: &Self::Req,
        _mem: &mut dyn BlockMemory,
    ) -> Option<Self::Resp> {
        None
    }

    /// The block's name, for errors.
    const NAME: &'static str;

    /// The most clock cycles the block may spend on `req` on its own
    /// account: counted while `req` is the oldest request not yet answered
    /// and has been presented (accepted or not: a block may work on a
    /// request before it takes it), not
    /// counting cycles in which the environment holds the block
    /// ([`StreamBlock::env_holding`]) or the response stream is not ready.
    /// The block's worst case, with margin; each block documents its own
    /// (`docs/blocks/<block>.md`, "Cycle bound"). A request that takes
    /// longer is an overrun: the transactor reports it and resets the block.
    fn cycle_bound(req: &Self::Req) -> u64;

    /// Whether the environment holds the block this cycle (a read it has
    /// not answered yet, a request beat it refused): such cycles are the
    /// environment's, not charged to the request.
    fn env_holding(_env: &Self::Env) -> bool {
        false
    }

    /// Forget what the block had asked of the environment (reads in
    /// flight, writes gathered for a response): the block was reset.
    fn env_abort(_env: &mut Self::Env) {}

    /// A response in the making, for blocks that answer in several beats.
    type Partial: Default;

    fn set_reset(i: &mut Self::In, on: bool);
    /// Present `req` (valid high with its payload) or nothing (valid low).
    fn put_req(i: &mut Self::In, req: Option<&Self::Req>);
    fn req_ready(o: &Self::Out) -> bool;
    fn set_resp_ready(i: &mut Self::In, ready: bool);
    /// Whether a response beat is on the outputs.
    fn resp_valid(o: &Self::Out) -> bool;

    /// Take the beat on the outputs; the response when it was the last
    /// (with whatever the environment gathered for it, DMA writes say).
    fn take_beat(
        o: &Self::Out,
        partial: &mut Self::Partial,
        env: &mut Self::Env,
    ) -> Option<Self::Resp>;
}

/// Timing knobs for constrained-random handshakes, in percent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pacing {
    /// Chance that the driver leaves valid low in a cycle it could send.
    pub idle_pct: u8,
    /// Chance that the monitor holds ready low in a cycle.
    pub stall_pct: u8,
}

impl Pacing {
    /// Back to back, never stalled: the throughput case.
    pub const FULL_SPEED: Pacing = Pacing {
        idle_pct: 0,
        stall_pct: 0,
    };
    /// Random gaps and back-pressure on both sides.
    pub const RANDOM: Pacing = Pacing {
        idle_pct: 20,
        stall_pct: 25,
    };
}

/// Drives requests onto a valid/ready input, in order, one per accepted
/// handshake. Holds the payload stable while ready is low, as the protocol
/// requires.
#[derive(Debug)]
pub struct StreamDriver<R> {
    queue: VecDeque<R>,
    presenting: bool,
    sent: u64,
}

impl<R> Default for StreamDriver<R> {
    fn default() -> Self {
        StreamDriver {
            queue: VecDeque::new(),
            presenting: false,
            sent: 0,
        }
    }
}

impl<R> StreamDriver<R> {
    pub fn push(&mut self, r: R) {
        self.queue.push_back(r);
    }

    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// The request to present this cycle, if any. Once presented, a request
    /// stays until it is accepted.
    pub fn present(&mut self, rng: &mut impl Rng, idle_pct: u8) -> Option<&R> {
        if !self.presenting && !self.queue.is_empty() {
            self.presenting = idle_pct == 0 || rng.gen_range(0..100) >= idle_pct;
        }
        if self.presenting {
            self.queue.front()
        } else {
            None
        }
    }

    /// Call after the clock edge with whether the handshake happened.
    pub fn edge(&mut self, accepted: bool) -> Option<R> {
        if self.presenting && accepted {
            self.presenting = false;
            self.sent += 1;
            self.queue.pop_front()
        } else {
            None
        }
    }
}

/// Takes responses from a valid/ready output, with random back-pressure.
#[derive(Debug, Default)]
pub struct StreamMonitor {
    ready: bool,
    received: u64,
    stalled_cycles: u64,
}

impl StreamMonitor {
    /// Decide this cycle's ready.
    pub fn ready(&mut self, rng: &mut impl Rng, stall_pct: u8) -> bool {
        self.ready = stall_pct == 0 || rng.gen_range(0..100) >= stall_pct;
        if !self.ready {
            self.stalled_cycles += 1;
        }
        self.ready
    }

    /// Whether a response shown this cycle is taken at the edge.
    pub fn takes(&self, valid: bool) -> bool {
        valid && self.ready
    }

    pub fn record(&mut self) {
        self.received += 1;
    }

    pub fn received(&self) -> u64 {
        self.received
    }

    pub fn stalled_cycles(&self) -> u64 {
        self.stalled_cycles
    }
}
