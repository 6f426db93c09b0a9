//! A bus-functional model of a block's ICM port: 64-bit beats of
//! fixed-size context entries, reads answered in order after a random
//! latency, random back-pressure on requests. It is the port's timing
//! only: each beat it takes reaches the block's memory
//! ([`BlockMemory`]), the testbench's map or the ICM the driver mapped.

use hca_rtl::transactor::BlockMemory;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// One request beat, as sampled on the block's ICM port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmBeat {
    pub write: bool,
    /// Which table of ICM (each block numbers its own: the TPT's MPT is 0,
    /// its MTT 1).
    pub table: u8,
    pub entry: u32,
    pub beat: u8,
    pub data: u64,
}

/// What the BFM drives this cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IcmDrive {
    pub req_ready: bool,
    pub rsp: Option<u64>,
}

pub struct IcmBfm {
    pending: VecDeque<(u64, u64)>,
    cycle: u64,
    rng: ChaCha8Rng,
    drive: IcmDrive,
    /// Shortest and longest read latency, in cycles (at least 1).
    pub min_latency: u64,
    pub max_latency: u64,
    /// Chance in percent that a request is not accepted in a cycle.
    pub stall_pct: u8,
    reads: u64,
    writes: u64,
    /// The block waits on this model: a read in flight, or a request beat
    /// refused this cycle.
    holding: bool,
}

impl IcmBfm {
    pub fn new(seed: u64) -> Self {
        IcmBfm {
            pending: VecDeque::new(),
            cycle: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            drive: IcmDrive::default(),
            min_latency: 1,
            max_latency: 4,
            stall_pct: 20,
            reads: 0,
            writes: 0,
            holding: false,
        }
    }

    /// Decide this cycle's ready and read response.
    pub fn drive(&mut self) -> IcmDrive {
        let rsp = match self.pending.front() {
            Some(&(due, data)) if due <= self.cycle => {
                self.pending.pop_front();
                Some(data)
            }
            _ => None,
        };
        let req_ready = self.stall_pct == 0 || self.rng.gen_range(0..100) >= self.stall_pct;
        self.drive = IcmDrive { req_ready, rsp };
        self.drive
    }

    /// See the request the block presents this cycle (if any); it is taken
    /// when this cycle's ready is high, and reaches `mem` then (a read's
    /// data is what `mem` holds when the read is taken). Ends the cycle.
    pub fn observe(&mut self, req: Option<IcmBeat>, mem: &mut dyn BlockMemory) {
        if let (Some(r), true) = (req, self.drive.req_ready) {
            if r.write {
                self.writes += 1;
                mem.icm_write(r.table, r.entry, r.beat, r.data);
            } else {
                self.reads += 1;
                let data = mem.icm_read(r.table, r.entry, r.beat);
                let lo = self.min_latency.max(1);
                let latency = self.rng.gen_range(lo..=self.max_latency.max(lo));
                let due = (self.cycle + latency).max(self.pending.back().map_or(0, |p| p.0 + 1));
                self.pending.push_back((due, data));
            }
        }
        self.holding = !self.pending.is_empty() || (req.is_some() && !self.drive.req_ready);
        self.cycle += 1;
    }

    /// Whether the block waited on ICM in the cycle last observed.
    pub fn holding(&self) -> bool {
        self.holding
    }

    /// Drop the reads in flight (the block was reset and will not take
    /// them). What ICM holds stays.
    pub fn abort(&mut self) {
        self.pending.clear();
        self.holding = false;
    }

    /// Beats read and written so far.
    pub fn traffic(&self) -> (u64, u64) {
        (self.reads, self.writes)
    }
}
