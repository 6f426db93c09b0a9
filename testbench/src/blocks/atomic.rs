//! Constrained-random stimulus and the differential check for the atomic unit.

use crate::differential::{Differential, Stimulus};
use hca_rtl::atomic::{AtomicModel, AtomicOp, AtomicReq, AtomicResp, AtomicStatus, MEM_BYTES};
use hca_rtl::Transactor;
use rand::seq::SliceRandom;
use rand::Rng;

/// No-carry masks that split a word into independent 8, 16 and 32-bit
/// fields (the top bit of each field stops its carry), and the empty and
/// full masks.
pub const NOCARRY_MASKS: [u64; 5] = [
    0,
    !0,
    0x8080_8080_8080_8080,
    0x8000_8000_8000_8000,
    0x8000_0000_8000_0000,
];

/// Compare and swap masks on 8, 16 and 32-bit field boundaries.
pub const FIELD_MASKS: [u64; 10] = [
    0,
    !0,
    0x0000_0000_0000_00ff,
    0x0000_0000_0000_ff00,
    0x00ff_00ff_00ff_00ff,
    0x0000_0000_0000_ffff,
    0xffff_0000_ffff_0000,
    0x0000_0000_ffff_ffff,
    0xffff_ffff_0000_0000,
    0xff00_0000_0000_0000,
];

/// Random atomic requests, biased towards what breaks pipelines: a few
/// hot words hit back to back, compares that match the current word, masks
/// on field boundaries, and a sprinkling of bad addresses and opcodes.
pub struct AtomicStimulus {
    hot: Vec<u64>,
}

impl AtomicStimulus {
    pub fn new(rng: &mut impl Rng) -> Self {
        let hot = (0..6)
            .map(|_| rng.gen_range(0..MEM_BYTES / 8) * 8)
            .collect();
        AtomicStimulus { hot }
    }

    fn addr(&self, rng: &mut impl Rng) -> u64 {
        match rng.gen_range(0..100) {
            0..=59 => *self.hot.choose(rng).expect("hot set is not empty"),
            60..=94 => rng.gen_range(0..MEM_BYTES / 8) * 8,
            95..=97 => rng.gen_range(0..MEM_BYTES) | rng.gen_range(1..8), // misaligned
            _ => match rng.gen_range(0..3) {
                0 => MEM_BYTES,
                1 => rng.gen_range(MEM_BYTES / 8..u64::MAX / 8) * 8,
                _ => 1 << rng.gen_range(12..64),
            },
        }
    }

    fn mask(rng: &mut impl Rng, table: &[u64]) -> u64 {
        if rng.gen_bool(0.6) {
            *table.choose(rng).expect("mask table is not empty")
        } else {
            rng.gen()
        }
    }

    /// The next request; `model` is the state it will be applied to, so
    /// compares can be made to match.
    pub fn request(&mut self, rng: &mut impl Rng, model: &AtomicModel) -> AtomicReq {
        let addr = self.addr(rng);
        let current = model.peek(addr).unwrap_or(0);
        let value = |rng: &mut dyn rand::RngCore| -> u64 {
            match rng.gen_range(0..4) {
                0 => rng.gen_range(0..4),
                1 => u64::MAX - rng.gen_range(0..4),
                _ => rng.gen(),
            }
        };
        let compare = if rng.gen_bool(0.5) {
            current
        } else {
            current ^ (1 << rng.gen_range(0..64))
        };
        let op = rng.gen_range(0..100);
        let mut req = match op {
            0..=9 => AtomicReq::read(addr),
            10..=19 => AtomicReq::write(addr, value(rng)),
            20..=34 => AtomicReq::cas(addr, compare, value(rng)),
            35..=54 => AtomicReq::fadd(addr, value(rng)),
            55..=76 => {
                let cm = Self::mask(rng, &FIELD_MASKS);
                let sm = Self::mask(rng, &FIELD_MASKS);
                AtomicReq::masked_cas(addr, compare, value(rng), cm, sm)
            }
            _ => AtomicReq::masked_fadd(addr, value(rng), Self::mask(rng, &NOCARRY_MASKS)),
        };
        // Operands the op ignores carry noise, so a design that looks at
        // them anyway is caught.
        let (swap_add, compare, swap_add_mask, compare_mask) = match req.atomic_op() {
            Some(AtomicOp::Read) => (true, true, true, true),
            Some(AtomicOp::Write | AtomicOp::Fadd) => (false, true, true, true),
            Some(AtomicOp::Cas | AtomicOp::MaskedFadd) => (false, false, true, true),
            _ => (false, false, false, false),
        };
        if swap_add {
            req.swap_add = rng.gen();
        }
        if compare {
            req.compare = rng.gen();
        }
        if swap_add_mask {
            req.swap_add_mask = rng.gen();
        }
        if compare_mask {
            req.compare_mask = rng.gen();
        }
        if rng.gen_range(0..200) == 0 {
            req.op = rng.gen_range(6..8); // undefined opcode
        }
        req
    }
}

/// What a differential run covered.
#[derive(Clone, Debug, Default)]
pub struct DiffStats {
    pub ops: u64,
    pub per_op: [u64; 6],
    pub errors: u64,
    pub cycles: u64,
}

impl DiffStats {
    pub fn summary(&self) -> String {
        let ops: Vec<String> = AtomicOp::ALL
            .iter()
            .map(|op| format!("{} {}", op.name(), self.per_op[op.code() as usize]))
            .collect();
        format!(
            "{} ops ({}; {} rejected)",
            self.ops,
            ops.join(", "),
            self.errors
        )
    }
}

impl Stimulus for AtomicStimulus {
    type Model = AtomicModel;
    type Req = AtomicReq;
    type Resp = AtomicResp;
    type Stats = DiffStats;

    fn next<R: Rng>(&mut self, rng: &mut R, model: &AtomicModel) -> Vec<AtomicReq> {
        vec![self.request(rng, model)]
    }

    fn expect(
        &mut self,
        model: &mut AtomicModel,
        req: &AtomicReq,
        stats: &mut DiffStats,
    ) -> (AtomicResp, Option<String>) {
        let resp = model.execute(req);
        match req.atomic_op() {
            Some(op) if resp.status == AtomicStatus::Ok => stats.per_op[op.code() as usize] += 1,
            _ => stats.errors += 1,
        }
        stats.ops += 1;
        (resp, None)
    }

    fn finish(stats: &mut DiffStats, cycles: u64) {
        stats.cycles = cycles;
    }
}

/// A fresh differential run of `n` requests against `dut`.
pub fn differential<T>(
    dut: &mut T,
    rng: &mut impl Rng,
    n: u64,
    progress: impl FnMut(u64),
) -> Result<DiffStats, String>
where
    T: Transactor<Req = AtomicReq, Resp = AtomicResp> + ?Sized,
{
    let mut diff = Differential::new(AtomicModel::new(), AtomicStimulus::new(rng));
    diff.run(dut, rng, n, progress)?;
    Ok(diff.stats().clone())
}
