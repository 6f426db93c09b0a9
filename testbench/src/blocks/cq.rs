//! Constrained-random stimulus for the CQ and EQ engine, and the polling
//! consumer that checks every CQE posted is seen exactly once, in order,
//! across resizes.

use crate::differential::{Differential, Golden, Stimulus};
use hca_abi::SparseIcm;
use hca_rtl::cq::layout::WORDS;
use hca_rtl::cq::model::owner_bit;
use hca_rtl::cq::{
    event, status, through_mtt, Arm, CqModel, CqReq, CqResp, Cqc, Cqe, Eqe, CQC_TABLE,
    CQE_OPCODE_RESIZE, MASK24, MAX_LOG_PAGE, MTT_TABLE, NUM_CQS, NUM_EQS,
};
use hca_rtl::Transactor;
use rand::seq::SliceRandom;
use rand::Rng;
use std::collections::{BTreeMap, HashMap, VecDeque};

const EQS: u16 = 4;
const ASYNC_TYPES: [u8; 9] = [
    event::PATH_MIG,
    event::COMM_EST,
    event::SQ_DRAINED,
    event::CQ_ERROR,
    event::WQ_CATAS_ERROR,
    event::PORT_CHANGE,
    event::CMD,
    event::EQ_OVERFLOW,
    event::SRQ_QP_LAST_WQE,
];

/// MTT entries the stimulus hands out, each mapping one page of up to
/// 4 KiB << MAX_LOG_PAGE; a queue's buffer takes [`MTT_PER_QUEUE`].
const MTT_ENTRIES: u32 = 1 << 20;
const MTT_PER_QUEUE: u32 = 4;

/// The MTT the host filled before the run: entry `i` maps a 1 MiB-aligned
/// page, consecutive entries far apart (an odd multiplier permutes the
/// entries), present bit set.
pub fn mtt_page(i: u32) -> u64 {
    let slot = (i as u64).wrapping_mul(0x9e37_79b1) & (MTT_ENTRIES as u64 - 1);
    (0x40_0000_0000 + (slot << 20)) | 1
}

/// A queue's buffer: its first MTT entry and page size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Buffer {
    mtt: u32,
    log_page: u8,
}

impl Buffer {
    /// The bus address of entry `slot`.
    fn entry(&self, slot: u32) -> u64 {
        let off = slot as u64 * 32;
        let page = (off >> (12 + self.log_page as u32)) as u32;
        through_mtt(mtt_page(self.mtt + page), self.log_page, off)
    }
}

/// What software expects to find next in a CQ.
#[derive(Clone, Debug)]
enum Expect {
    Cqe(Cqe),
    /// The resize CQE; after it, the CQ continues in this buffer.
    Resize {
        buf: Buffer,
        log_size: u8,
    },
}

/// Software's side of one CQ: where it reads and what it must find.
#[derive(Clone, Debug)]
struct Consumer {
    ci: u32,
    buf: Buffer,
    log_size: u8,
    expected: VecDeque<Expect>,
    sn: u8,
}

/// Host memory as the engine's DMA writes left it, and the consumers.
pub struct CqStimulus {
    cqns: Vec<u32>,
    next_mtt: u32,
    mem: HashMap<u64, u64>,
    consumers: HashMap<u32, Consumer>,
    complaint: Option<String>,
    /// CQEs checked by the consumer.
    pub polled: u64,
    started: bool,
}

impl CqStimulus {
    pub fn new(rng: &mut impl Rng) -> Self {
        let mut cqns: Vec<u32> = (0..10).map(|_| rng.gen_range(0..NUM_CQS)).collect();
        cqns.sort();
        cqns.dedup();
        CqStimulus {
            cqns,
            next_mtt: EQS as u32 * MTT_PER_QUEUE,
            mem: HashMap::new(),
            consumers: HashMap::new(),
            complaint: None,
            polled: 0,
            started: false,
        }
    }

    /// MTT entries for a new buffer, not handed out for a long while (so
    /// no CQE of an older queue is where the consumer looks), with pages of
    /// 4 to 16 KiB.
    fn fresh_buf(&mut self, rng: &mut impl Rng) -> Buffer {
        self.next_mtt = (self.next_mtt + MTT_PER_QUEUE) % MTT_ENTRIES;
        Buffer {
            mtt: self.next_mtt,
            log_page: rng.gen_range(0..=2),
        }
    }

    /// Read the CQE at `index` of a consumer's buffer, if software owns it.
    fn peek(&self, c: &Consumer) -> Option<Cqe> {
        let size = 1u32 << c.log_size;
        let base = c.buf.entry(c.ci & (size - 1));
        let words = [0, 8, 16, 24].map(|o| self.mem.get(&(base + o)).copied().unwrap_or(0));
        let cqe = Cqe::unpack(&words);
        let written = self.mem.contains_key(&base);
        (written && cqe.owner == owner_bit(c.ci, size)).then_some(cqe)
    }

    /// Poll up to `n` CQEs of `cqn`, checking each against what was posted;
    /// returns the doorbell software would ring.
    fn poll(&mut self, rng: &mut impl Rng, cqn: u32, n: u32) -> Option<CqReq> {
        let mut c = self.consumers.get(&cqn)?.clone();
        for _ in 0..n {
            let Some(cqe) = self.peek(&c) else {
                if let Some(e) = c.expected.front() {
                    self.complaint.get_or_insert(format!(
                        "CQ {cqn:#x} index {}: expected {e:?}, found none",
                        c.ci
                    ));
                }
                break;
            };
            match c.expected.pop_front() {
                None => {
                    self.complaint.get_or_insert(format!(
                        "CQ {cqn:#x} index {}: a CQE nobody posted: {cqe:?}",
                        c.ci
                    ));
                    break;
                }
                Some(Expect::Resize { buf, log_size }) => {
                    if cqe.opcode != CQE_OPCODE_RESIZE {
                        self.complaint.get_or_insert(format!(
                            "CQ {cqn:#x}: expected the resize CQE, found {cqe:?}"
                        ));
                    }
                    c.buf = buf;
                    c.log_size = log_size;
                }
                Some(Expect::Cqe(want)) => {
                    if (Cqe {
                        owner: false,
                        ..cqe
                    }) != want
                    {
                        self.complaint.get_or_insert(format!(
                            "CQ {cqn:#x} index {}: expected {want:?}, found {cqe:?}",
                            c.ci
                        ));
                    }
                }
            }
            self.polled += 1;
            c.ci = (c.ci + 1) & MASK24;
        }
        let ci = c.ci;
        let req = if rng.gen_bool(0.5) {
            c.sn = c.sn.wrapping_add(1) & 3;
            let arm = if rng.gen_bool(0.5) {
                Arm::Next
            } else {
                Arm::Solicited
            };
            CqReq::ArmCq {
                cqn,
                arm: arm as u8,
                sn: c.sn,
                ci,
            }
        } else {
            CqReq::SetCi { cqn, ci }
        };
        self.consumers.insert(cqn, c);
        Some(req)
    }

    fn cqe(rng: &mut impl Rng) -> Cqe {
        Cqe {
            my_qpn: rng.gen_range(0..=MASK24),
            immed: rng.gen(),
            rqpn: rng.gen_range(0..=MASK24),
            g_mlpath: rng.gen(),
            sl_vid: rng.gen(),
            rlid: rng.gen(),
            status: rng.gen(),
            byte_cnt: rng.gen(),
            wqe_index: rng.gen(),
            vendor_err: rng.gen(),
            syndrome: rng.gen(),
            opcode: *[0x00, 0x01, 0x02, 0x0a, 0x08, 0x10, 0x1e]
                .choose(rng)
                .expect("opcodes"),
            is_send: rng.gen(),
            owner: false,
        }
    }

    pub fn request(&mut self, rng: &mut impl Rng, model: &Golden<CqModel>) -> Vec<CqReq> {
        if !self.started {
            // EQ 0 takes the asynchronous events; EQs 1-3 completions.
            self.started = true;
            let mut v = Vec::new();
            for eqn in 0..EQS {
                let log_size = if eqn == 3 { 2 } else { 6 };
                v.push(CqReq::Sw2HwEq {
                    eqn,
                    mtt: eqn as u32 * MTT_PER_QUEUE,
                    log_page: 0,
                    log_size,
                    vector: eqn as u8 * 3,
                });
                v.push(CqReq::EqDoorbell {
                    eqn,
                    ci: 0,
                    arm: true,
                });
            }
            let mask = ASYNC_TYPES.iter().fold(0u64, |m, t| m | 1 << t);
            v.push(CqReq::MapEq {
                eqn: 0,
                mask,
                unmap: false,
            });
            return v;
        }
        let cqn = *self.cqns.choose(rng).expect("CQ pool");
        let c = Cqc::unpack(&model.icm.entry::<WORDS>(CQC_TABLE, cqn));
        if c.state == hca_rtl::cq::CqState::Error as u8 && rng.gen_bool(0.3) {
            // Software destroys a CQ that overran, and makes it again.
            return vec![CqReq::Hw2SwCq { cqn }];
        }
        vec![match rng.gen_range(0..100) {
            0..=5 => {
                let mut buf = self.fresh_buf(rng);
                if rng.gen_range(0..30) == 0 {
                    // Pages larger than a queue may have.
                    buf.log_page = rng.gen_range(MAX_LOG_PAGE + 1..=15);
                }
                let eqn = if rng.gen_range(0..30) == 0 {
                    NUM_EQS as u16 + 3
                } else {
                    rng.gen_range(1..EQS)
                };
                CqReq::Sw2HwCq {
                    cqn,
                    mtt: buf.mtt,
                    log_page: buf.log_page,
                    // Now and then a queue over more than one page.
                    log_size: if rng.gen_range(0..8) == 0 {
                        rng.gen_range(7..=9)
                    } else {
                        rng.gen_range(1..=5)
                    },
                    eqn,
                }
            }
            6 => CqReq::Hw2SwCq { cqn },
            7..=44 => CqReq::Complete {
                cqn,
                cqe: Self::cqe(rng),
                solicited: rng.gen(),
            },
            45..=66 => {
                let n = rng.gen_range(1..8);
                match self.poll(rng, cqn, n) {
                    Some(r) => r,
                    None => CqReq::SetCi {
                        cqn,
                        ci: rng.gen_range(0..=MASK24),
                    },
                }
            }
            67..=71 => {
                let buf = self.fresh_buf(rng);
                CqReq::Resize {
                    cqn,
                    mtt: buf.mtt,
                    log_page: buf.log_page,
                    log_size: rng.gen_range(1..=6),
                }
            }
            72..=75 => CqReq::Moderate {
                cqn,
                count: rng.gen_range(0..4),
                period: rng.gen_range(0..6),
            },
            76..=82 => CqReq::Tick {
                cqn,
                ticks: rng.gen_range(1..4),
            },
            83..=89 => {
                let eqn = rng.gen_range(0..EQS);
                let e = model.model.eq(eqn);
                // Mostly consume everything; sometimes lag, to overrun EQ 3.
                let ci = if rng.gen_bool(0.8) { e.pi } else { e.ci };
                CqReq::EqDoorbell {
                    eqn,
                    ci,
                    arm: rng.gen_bool(0.8),
                }
            }
            90..=96 => {
                let t = *ASYNC_TYPES.choose(rng).expect("types");
                let t = if rng.gen_range(0..10) == 0 {
                    0x20 + rng.gen_range(0..8)
                } else {
                    t
                };
                CqReq::Event {
                    eqe: Eqe {
                        event_type: t,
                        subtype: rng.gen(),
                        d0: rng.gen(),
                        d1: rng.gen(),
                        d2: rng.gen(),
                        d3: rng.gen(),
                        owner: false,
                    },
                }
            }
            97 => CqReq::Complete {
                cqn: rng.gen_range(NUM_CQS..=u32::MAX),
                cqe: Cqe::default(),
                solicited: false,
            },
            98 => CqReq::ArmCq {
                cqn,
                arm: rng.gen_range(0..4),
                sn: rng.gen(),
                ci: c.ci,
            },
            _ => CqReq::MapEq {
                eqn: rng.gen_range(0..=NUM_EQS as u16),
                mask: rng.gen(),
                unmap: rng.gen(),
            },
        }]
    }
}

/// What a differential run covered.
#[derive(Clone, Debug, Default)]
pub struct CqStats {
    pub ops: u64,
    pub statuses: BTreeMap<u8, u64>,
    pub cqes: u64,
    pub eqes: u64,
    pub irqs: u64,
    pub resizes: u64,
    pub polled: u64,
    pub cycles: u64,
}

impl CqStats {
    pub fn summary(&self) -> String {
        let st: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{} {n}", status::name(*s)))
            .collect();
        format!(
            "{} requests ({}); {} CQEs and {} EQEs written, {} interrupts, {} resizes; the consumer polled {} CQEs",
            self.ops,
            st.join(", "),
            self.cqes,
            self.eqes,
            self.irqs,
            self.resizes,
            self.polled
        )
    }
}

impl Stimulus for CqStimulus {
    type Model = Golden<CqModel>;
    type Req = CqReq;
    type Resp = CqResp;
    type Stats = CqStats;

    fn next<R: Rng>(&mut self, rng: &mut R, model: &Golden<CqModel>) -> Vec<CqReq> {
        self.request(rng, model)
    }

    fn expect(
        &mut self,
        g: &mut Golden<CqModel>,
        req: &CqReq,
        stats: &mut CqStats,
    ) -> (CqResp, Option<String>) {
        let resp = g.model.execute(req, &mut g.icm);
        stats.ops += 1;
        *stats.statuses.entry(resp.status).or_default() += 1;
        for w in &resp.dma {
            self.mem.insert(w.addr, w.data);
        }
        let entries = resp.dma.len() as u64 / 4;
        stats.irqs += resp.irqs.len() as u64;
        let ok = resp.status == status::OK;
        match *req {
            CqReq::Sw2HwCq {
                cqn,
                mtt,
                log_page,
                log_size,
                ..
            } if ok => {
                let buf = Buffer { mtt, log_page };
                self.consumers.insert(
                    cqn,
                    Consumer {
                        ci: 0,
                        buf,
                        log_size,
                        expected: VecDeque::new(),
                        sn: 0,
                    },
                );
            }
            CqReq::Hw2SwCq { cqn } if ok => {
                self.consumers.remove(&cqn);
            }
            CqReq::Complete { cqn, cqe, .. } if ok => {
                if let Some(c) = self.consumers.get_mut(&cqn) {
                    c.expected.push_back(Expect::Cqe(cqe));
                }
                stats.cqes += 1;
            }
            CqReq::Resize {
                cqn,
                mtt,
                log_page,
                log_size,
            } if ok => {
                let buf = Buffer { mtt, log_page };
                if let Some(c) = self.consumers.get_mut(&cqn) {
                    c.expected.push_back(Expect::Resize { buf, log_size });
                }
                stats.resizes += 1;
            }
            _ => {}
        }
        let cqes_here = matches!(*req, CqReq::Complete { .. } | CqReq::Resize { .. }) && ok;
        stats.eqes += entries - cqes_here as u64;
        stats.polled = self.polled;
        (resp, self.complaint.take())
    }

    fn finish(stats: &mut CqStats, cycles: u64) {
        stats.cycles = cycles;
    }

    fn initial_memory() -> SparseIcm {
        SparseIcm::with_mtt(MTT_TABLE, mtt_page)
    }
}

/// A fresh differential run of `n` requests against `dut`.
pub fn differential<T>(
    dut: &mut T,
    rng: &mut impl Rng,
    n: u64,
    progress: impl FnMut(u64),
) -> Result<CqStats, String>
where
    T: Transactor<Req = CqReq, Resp = CqResp> + ?Sized,
{
    let model = Golden::with_memory(CqModel::new(), CqStimulus::initial_memory());
    let mut diff = Differential::new(model, CqStimulus::new(rng));
    diff.run(dut, rng, n, progress)?;
    Ok(diff.stats().clone())
}
