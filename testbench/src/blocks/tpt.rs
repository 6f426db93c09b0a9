//! Constrained-random stimulus, the protection-invariant checker and the
//! differential check for the TPT.

use crate::differential::{Differential, Golden, Stimulus};
use hca_rtl::tpt::layout::{MptEntry, WORDS};
use hca_rtl::tpt::{
    key_index, key_tag, status, MptKind, MptState, TptModel, TptOp, TptReq, TptResp, MPT_TABLE,
};
use hca_rtl::tpt::{LINES, MAX_LOG_PAGE, MIN_LOG_PAGE, NUM_MPTS, NUM_MTTS};
use hca_rtl::Transactor;
use rand::seq::SliceRandom;
use rand::Rng;
use std::collections::HashSet;

/// MTT entries set aside per region: a region spans at most this many pages.
pub const MTT_PER_REGION: u32 = 16;
const PDS: [u32; 3] = [1, 2, 0xabcdef];

/// Random requests over a pool of MPT indices that share cache lines:
/// registrations and deregistrations, MTT writes, lookups with mostly
/// right and sometimes wrong tags, PDs, ranges and access, local and remote
/// invalidations, fast-registers, FMR maps and unmaps written straight to
/// ICM, and SYNC_TPTs to make the HCA see them.
pub struct TptStimulus {
    indices: Vec<u32>,
    checker: ProtectionChecker,
}

impl TptStimulus {
    pub fn new(rng: &mut impl Rng) -> Self {
        // 40 indices on 6 of the cache's lines, plus a few anywhere.
        let lines = LINES as u32;
        let mut indices: Vec<u32> = (0..40)
            .map(|i| (rng.gen_range(1..(NUM_MPTS / lines) / MTT_PER_REGION) * lines) | (i % 6))
            .collect();
        indices.extend((0..4).map(|_| rng.gen_range(0..NUM_MPTS / MTT_PER_REGION)));
        TptStimulus {
            indices,
            checker: ProtectionChecker::default(),
        }
    }

    fn index(&self, rng: &mut impl Rng) -> u32 {
        match rng.gen_range(0..100) {
            0 => rng.gen_range(NUM_MPTS..=u32::MAX >> 8),
            _ => *self.indices.choose(rng).expect("index pool"),
        }
    }

    /// A region's MTT range is fixed by its index, so regions never share.
    fn mtt_base(index: u32) -> u32 {
        (index * MTT_PER_REGION) % NUM_MTTS
    }

    fn entry(rng: &mut impl Rng, index: u32) -> MptEntry {
        let log_page = if rng.gen_range(0..30) == 0 {
            rng.gen_range(0..64)
        } else {
            rng.gen_range(MIN_LOG_PAGE..=14)
        };
        let page = 1u64 << log_page.clamp(MIN_LOG_PAGE, MAX_LOG_PAGE);
        let kind = *[
            MptKind::Mr,
            MptKind::Fmr,
            MptKind::FastReg,
            MptKind::Physical,
        ]
        .choose(rng)
        .expect("kinds");
        let (va, len) = Self::range(rng, page);
        MptEntry {
            state: if kind == MptKind::FastReg && rng.gen_bool(0.5) || rng.gen_range(0..20) == 0 {
                MptState::Invalid as u8
            } else if rng.gen_range(0..40) == 0 {
                rng.gen_range(0..4)
            } else {
                MptState::Valid as u8
            },
            tag: rng.gen(),
            access: rng.gen_range(0..32),
            remote_inv: rng.gen(),
            kind: kind as u8,
            log_page,
            pd: *PDS.choose(rng).expect("pds"),
            va,
            len,
            mtt_base: Self::mtt_base(index),
        }
    }

    /// A region that fits its MTT range: starts anywhere in its first page.
    /// One in 25 sits at the top of the address space instead: it ends one
    /// byte below 2^64, exactly at it, or one or two bytes past it (a
    /// range that wraps, which registration refuses).
    fn range(rng: &mut impl Rng, page: u64) -> (u64, u64) {
        if rng.gen_range(0..25) == 0 {
            let len = rng.gen_range(0..=(MTT_PER_REGION as u64 - 1) * page);
            let past = rng.gen_range(0..4u64);
            return (
                0u64.wrapping_sub(len).wrapping_add(past).wrapping_sub(1),
                len,
            );
        }
        let va = rng.gen_range(0..1u64 << 40) & !(page - 1) | rng.gen_range(0..page);
        let room = MTT_PER_REGION as u64 * page - (va & (page - 1));
        (va, rng.gen_range(0..=room))
    }

    fn lookup(&self, rng: &mut impl Rng, index: u32, e: &MptEntry) -> TptReq {
        let tag = if rng.gen_bool(0.85) { e.tag } else { rng.gen() };
        let key = index << 8 | tag as u32;
        let pd = if rng.gen_bool(0.85) {
            e.pd
        } else {
            *PDS.choose(rng).expect("pds")
        };
        let (va, len) = if rng.gen_bool(0.85) && e.len > 0 {
            let start = rng.gen_range(0..e.len);
            let max = (e.len - start)
                .min(3 << e.log_page.clamp(MIN_LOG_PAGE, MAX_LOG_PAGE))
                .min(u32::MAX as u64);
            (e.va.wrapping_add(start), rng.gen_range(0..=max) as u32)
        } else {
            (
                e.va.wrapping_add(rng.gen_range(0..2 * e.len + 2))
                    .wrapping_sub(rng.gen_range(0..8)),
                rng.gen_range(0..1 << 16),
            )
        };
        let need = if rng.gen_bool(0.7) {
            e.access & rng.gen::<u8>()
        } else {
            rng.gen_range(0..32)
        };
        TptReq::lookup(key, pd, va, len, need)
    }

    /// An index whose entry in ICM satisfies `want`, if a few tries find one.
    fn pick(
        &self,
        rng: &mut impl Rng,
        model: &Golden<TptModel>,
        want: impl Fn(&MptEntry) -> bool,
    ) -> u32 {
        let mut index = self.index(rng);
        for _ in 0..6 {
            if want(&icm_entry(model, index)) {
                break;
            }
            index = self.index(rng);
        }
        index
    }

    /// The next request; `model` holds ICM as the host sees it.
    pub fn requests(&mut self, rng: &mut impl Rng, model: &Golden<TptModel>) -> Vec<TptReq> {
        let roll = rng.gen_range(0..100);
        let valid = |e: &MptEntry| e.state == MptState::Valid as u8;
        let index = match roll {
            // Registrations look for free entries, fast-registers and FMR
            // maps for their own kind, lookups and invalidations for live keys.
            35..=42 => self.pick(rng, model, |e| e.state == MptState::Free as u8),
            74..=81 => self.pick(rng, model, |e| {
                e.kind == MptKind::FastReg as u8 && e.state == MptState::Invalid as u8
            }),
            82..=93 => self.pick(rng, model, |e| {
                e.kind == MptKind::Fmr as u8 && e.state != MptState::Free as u8
            }),
            _ => self.pick(rng, model, valid),
        };
        let e = icm_entry(model, index);
        let key = index << 8 | e.tag as u32;
        let pd = if rng.gen_bool(0.85) {
            e.pd
        } else {
            *PDS.choose(rng).expect("pds")
        };
        let wrong_tag = |rng: &mut dyn rand::RngCore| {
            index << 8 | (e.tag.wrapping_add(rng.gen_range(1..=255))) as u32
        };
        vec![match roll {
            0..=34 => self.lookup(rng, index, &e),
            35..=42 => TptReq::sw2hw(
                if rng.gen_range(0..20) == 0 {
                    index << 8
                } else {
                    index
                },
                Self::entry(rng, index),
            ),
            43..=44 => TptReq::hw2sw(index),
            45..=46 => self.lookup(rng, index, &e),
            47..=49 => TptReq::query(index),
            50..=59 => {
                let mtt = if rng.gen_range(0..50) == 0 {
                    rng.gen_range(NUM_MTTS..=u32::MAX)
                } else {
                    Self::mtt_base(index) + rng.gen_range(0..MTT_PER_REGION)
                };
                TptReq::write_mtt(mtt, rng.gen::<u64>() & !0xfff)
            }
            60..=65 => TptReq::local_inv(
                if rng.gen_bool(0.9) {
                    key
                } else {
                    wrong_tag(rng)
                },
                pd,
            ),
            66..=73 => TptReq::remote_inv(
                if rng.gen_bool(0.9) {
                    key
                } else {
                    wrong_tag(rng)
                },
                pd,
            ),
            74..=81 => {
                let new_tag = e.tag.wrapping_add(1);
                let page = 1u64 << e.log_page.clamp(MIN_LOG_PAGE, MAX_LOG_PAGE);
                let (va, len) = Self::range(rng, page);
                let log_page = if rng.gen_range(0..20) == 0 {
                    rng.gen_range(0..64)
                } else {
                    e.log_page
                };
                TptReq::fast_reg(
                    index << 8 | new_tag as u32,
                    pd,
                    va,
                    len,
                    rng.gen_range(0..32),
                    log_page,
                )
            }
            82..=87 => {
                // FMR map: new pages and a new tag, straight into ICM.
                let mut reqs: Vec<TptReq> = (0..rng.gen_range(0..3))
                    .map(|_| {
                        let mtt = Self::mtt_base(index) + rng.gen_range(0..MTT_PER_REGION);
                        TptReq::host_write_mtt(mtt, rng.gen::<u64>() & !0xfff)
                    })
                    .collect();
                // Now and then at a new address (an FMR map may move the
                // region), which may wrap: nothing checks what the host
                // writes into ICM.
                let page = 1u64 << e.log_page.clamp(MIN_LOG_PAGE, MAX_LOG_PAGE);
                let (va, len) = if rng.gen_range(0..8) == 0 {
                    Self::range(rng, page)
                } else {
                    (e.va, e.len)
                };
                let mapped = MptEntry {
                    state: MptState::Valid as u8,
                    tag: e.tag.wrapping_add(1),
                    va,
                    len,
                    ..e
                };
                reqs.push(TptReq::host_write_mpt(index, mapped));
                return reqs;
            }
            88..=93 => TptReq::host_write_mpt(
                index,
                MptEntry {
                    state: MptState::Invalid as u8,
                    ..e
                },
            ), // FMR unmap
            94..=97 => TptReq::sync_tpt(),
            _ => TptReq {
                op: rng.gen_range(11..16),
                key,
                ..TptReq::default()
            },
        }]
    }
}

/// Watches every request and response for the protection invariant: once
/// an invalidation has taken effect no lookup with that key succeeds, and
/// no lookup ever reaches outside its region or another PD's.
#[derive(Default)]
pub struct ProtectionChecker {
    dead: HashSet<u32>,
    /// FMR unmaps written to ICM, dead once a SYNC_TPT completes.
    unmapped: HashSet<u32>,
    pub lookups_checked: u64,
    pub dead_keys_refused: u64,
}

impl ProtectionChecker {
    pub fn observe(&mut self, req: &TptReq, resp: &TptResp) -> Result<(), String> {
        let op = TptOp::from_code(req.op);
        let index = key_index(req.key);
        let revive = |set: &mut HashSet<u32>, i: u32| set.retain(|k| key_index(*k) != i);
        match (op, resp.status) {
            (Some(TptOp::Lookup), s) => {
                if self.dead.contains(&req.key) {
                    if s == status::OK {
                        return Err(format!("lookup with dead key {:#x} succeeded", req.key));
                    }
                    self.dead_keys_refused += 1;
                }
                if s == status::OK {
                    self.lookups_checked += 1;
                    check_inside(req, resp)?;
                }
            }
            (Some(TptOp::LocalInv | TptOp::RemoteInv), status::OK) => {
                self.dead.insert(req.key);
            }
            (Some(TptOp::Hw2Sw), status::OK) => {
                self.dead.insert(req.key << 8 | resp.entry.tag as u32);
            }
            (Some(TptOp::Sw2Hw), status::OK) => {
                revive(&mut self.dead, req.key);
                revive(&mut self.unmapped, req.key);
            }
            (Some(TptOp::FastReg), status::OK) => {
                revive(&mut self.dead, index);
                revive(&mut self.unmapped, index);
            }
            (Some(TptOp::HostWriteMpt), _) => {
                let i = req.key & 0xff_ffff;
                revive(&mut self.dead, i);
                revive(&mut self.unmapped, i);
                if req.entry.state != MptState::Valid as u8 {
                    self.unmapped.insert(i << 8 | req.entry.tag as u32);
                }
            }
            (Some(TptOp::SyncTpt), status::OK) => {
                self.dead.extend(self.unmapped.drain());
            }
            _ => {}
        }
        Ok(())
    }
}

/// An OK lookup stays inside the region the response says it used, and
/// below the top of the address space.
fn check_inside(req: &TptReq, resp: &TptResp) -> Result<(), String> {
    let e = &resp.entry;
    let end = req.va as u128 + req.len as u128;
    if req.va < e.va || end > e.va as u128 + e.len as u128 {
        return Err(format!("lookup {req:x?} reached outside its region {e:x?}"));
    }
    if end > 1u128 << 64 {
        return Err(format!(
            "lookup {req:x?} crossed the top of the address space"
        ));
    }
    if e.pd != req.pd & 0xff_ffff || e.tag != key_tag(req.key) || e.state != MptState::Valid as u8 {
        return Err(format!(
            "lookup {req:x?} succeeded on a region it does not own: {e:x?}"
        ));
    }
    let page = 1u128 << e.log_page;
    let base = e.va as u128 & !(page - 1);
    let pages = if req.len == 0 {
        0
    } else {
        ((end - 1 - base) / page - (req.va as u128 - base) / page + 1) as usize
    };
    if resp.pages.len() != pages {
        return Err(format!(
            "lookup {req:x?} gave {} pages for a span of {pages}",
            resp.pages.len()
        ));
    }
    Ok(())
}

/// What a differential run covered.
#[derive(Clone, Debug, Default)]
pub struct TptStats {
    pub ops: u64,
    pub ok: [u64; 11],
    pub statuses: std::collections::BTreeMap<u8, u64>,
    pub pages: u64,
    pub lookups_checked: u64,
    pub dead_keys_refused: u64,
    pub cycles: u64,
}

impl TptStats {
    pub fn summary(&self) -> String {
        let ok: Vec<String> = TptOp::ALL
            .iter()
            .map(|op| format!("{} {}", op.name(), self.ok[*op as usize]))
            .collect();
        let refused: Vec<String> = self
            .statuses
            .iter()
            .filter(|(s, _)| **s != status::OK)
            .map(|(s, n)| format!("{} {n}", status::name(*s)))
            .collect();
        format!(
            "{} requests (ok: {}; refused: {}); {} pages translated; invariant: {} lookups inside their regions, {} dead keys refused",
            self.ops,
            ok.join(", "),
            if refused.is_empty() { "none".to_string() } else { refused.join(", ") },
            self.pages,
            self.lookups_checked,
            self.dead_keys_refused
        )
    }
}

/// MPT entry `index` as the model's ICM holds it.
fn icm_entry(g: &Golden<TptModel>, index: u32) -> MptEntry {
    MptEntry::unpack(&g.icm.entry::<WORDS>(MPT_TABLE, index))
}

impl Stimulus for TptStimulus {
    type Model = Golden<TptModel>;
    type Req = TptReq;
    type Resp = TptResp;
    type Stats = TptStats;

    fn next<R: Rng>(&mut self, rng: &mut R, model: &Golden<TptModel>) -> Vec<TptReq> {
        self.requests(rng, model)
    }

    fn expect(
        &mut self,
        g: &mut Golden<TptModel>,
        req: &TptReq,
        stats: &mut TptStats,
    ) -> (TptResp, Option<String>) {
        let resp = g.model.execute(req, &mut g.icm);
        stats.ops += 1;
        *stats.statuses.entry(resp.status).or_default() += 1;
        if resp.status == status::OK {
            if let Some(op) = TptOp::from_code(req.op) {
                stats.ok[op as usize] += 1;
            }
        }
        stats.pages += resp.pages.len() as u64;
        let objection = self
            .checker
            .observe(req, &resp)
            .err()
            .map(|e| format!("protection invariant broken: {e}"));
        stats.lookups_checked = self.checker.lookups_checked;
        stats.dead_keys_refused = self.checker.dead_keys_refused;
        (resp, objection)
    }

    fn finish(stats: &mut TptStats, cycles: u64) {
        stats.cycles = cycles;
    }

    /// The TPT writes its entries through to ICM: the design's ICM must
    /// be the model's, word for word.
    fn memory(g: &Golden<TptModel>) -> Option<&hca_abi::SparseIcm> {
        Some(&g.icm)
    }
}

/// A fresh differential run of `n` requests against a design with `lines`
/// MPT cache lines.
pub fn differential<T>(
    dut: &mut T,
    rng: &mut impl Rng,
    lines: usize,
    n: u64,
    progress: impl FnMut(u64),
) -> Result<TptStats, String>
where
    T: Transactor<Req = TptReq, Resp = TptResp> + ?Sized,
{
    let mut diff = Differential::new(Golden::new(TptModel::new(lines)), TptStimulus::new(rng));
    diff.run(dut, rng, n, progress)?;
    Ok(diff.stats().clone())
}
