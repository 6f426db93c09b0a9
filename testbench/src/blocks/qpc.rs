//! Constrained-random stimulus and the differential check for the QP
//! context block.

use crate::differential::{Differential, Golden, Stimulus};
use hca_rtl::qpc::layout::WORDS;
use hca_rtl::qpc::table::rule;
use hca_rtl::qpc::{
    attr, limits, status, QpAttrs, QpContext, QpState, QpType, QpcModel, QpcOp, QpcReq, QpcResp,
    LINES, MASK24, QPC_TABLE,
};
use hca_rtl::Transactor;
use rand::seq::SliceRandom;
use rand::Rng;

/// Random requests that walk QPs through their whole life: mostly legal
/// transitions with the required attributes and some optional ones, and
/// now and then a missing or forbidden attribute, an illegal target or a
/// value out of range; PSNs near the 24-bit wrap; data-path operations in
/// the states that allow them and in those that do not; and far more QPNs
/// than the cache has lines, many of them sharing a line.
pub struct QpcStimulus {
    qpns: Vec<u32>,
}

impl QpcStimulus {
    pub fn new(rng: &mut impl Rng) -> Self {
        // 48 QPNs over 8 line indices, plus a few anywhere.
        let lines = LINES as u32;
        let mut qpns: Vec<u32> = (0..48)
            .map(|i| (rng.gen_range(0..(MASK24 + 1) / lines) * lines) | (i % 8))
            .collect();
        qpns.extend((0..8).map(|_| rng.gen_range(0..=MASK24)));
        QpcStimulus { qpns }
    }

    fn qpn(&self, rng: &mut impl Rng) -> u32 {
        if rng.gen_range(0..100) < 2 {
            rng.gen_range(0..=MASK24)
        } else {
            *self.qpns.choose(rng).expect("QPN pool is not empty")
        }
    }

    fn psn(rng: &mut impl Rng) -> u32 {
        match rng.gen_range(0..4) {
            0 => MASK24 - rng.gen_range(0..8),
            1 => rng.gen_range(0..8),
            _ => rng.gen_range(0..=MASK24),
        }
    }

    fn attrs(rng: &mut impl Rng, valid: bool) -> QpAttrs {
        let t = *[QpType::Rc, QpType::Uc, QpType::Ud]
            .choose(rng)
            .expect("types");
        let mut a = QpAttrs {
            qp_type: t as u8,
            pd: rng.gen_range(0..=MASK24),
            send_cqn: rng.gen_range(0..=MASK24),
            recv_cqn: rng.gen_range(0..=MASK24),
            srqn: rng.gen_range(0..=MASK24),
            srq: rng.gen(),
            access: rng.gen_range(0..8),
            pkey_index: rng.gen_range(0..limits::PKEY_TABLE),
            port: rng.gen_range(1..=limits::PORTS),
            qkey: rng.gen(),
            dlid: rng.gen(),
            sl: rng.gen_range(0..16),
            path_mtu: rng.gen_range(1..=5),
            timeout: rng.gen_range(0..32),
            retry_cnt: rng.gen_range(0..8),
            rnr_retry: rng.gen_range(0..8),
            rq_psn: Self::psn(rng),
            max_rd_atomic: rng.gen_range(0..=limits::MAX_RD_ATOMIC),
            min_rnr_timer: rng.gen_range(0..32),
            sq_psn: Self::psn(rng),
            max_dest_rd_atomic: rng.gen_range(0..=limits::MAX_RD_ATOMIC),
            dest_qpn: rng.gen_range(0..=MASK24),
            sqd_notify: rng.gen(),
        };
        if !valid {
            match rng.gen_range(0..6) {
                0 => a.port = *[0, 3, 255].choose(rng).expect("ports"),
                1 => a.pkey_index = rng.gen_range(limits::PKEY_TABLE..=u16::MAX),
                2 => a.path_mtu = *[0, 6, 7].choose(rng).expect("mtus"),
                3 => a.max_rd_atomic = rng.gen_range(limits::MAX_RD_ATOMIC + 1..=u8::MAX),
                4 => a.max_dest_rd_atomic = rng.gen_range(limits::MAX_RD_ATOMIC + 1..=u8::MAX),
                _ => a.qp_type = *[2, 4, 5, 6, 7].choose(rng).expect("bad types"),
            }
        }
        a
    }

    fn modify(&self, rng: &mut impl Rng, qpn: u32, model: &Golden<QpcModel>) -> QpcReq {
        let ctx = context(model, qpn);
        let from = QpState::from_code(ctx.state).unwrap_or(QpState::Reset);
        let valid = rng.gen_range(0..100) >= 5;
        let mut attrs = Self::attrs(rng, valid);
        let qp_type = if from == QpState::Reset {
            QpType::from_code(attrs.qp_type).unwrap_or(QpType::Rc)
        } else {
            attrs.qp_type = ctx.qp_type;
            QpType::from_code(ctx.qp_type).unwrap_or(QpType::Rc)
        };
        let legal: Vec<QpState> = QpState::ALL
            .into_iter()
            .filter(|to| rule(from, *to, qp_type).is_some())
            .collect();
        // Favour moving forward; RESET and ERR are always there to return to.
        let to = match rng.gen_range(0..100) {
            0..=79 => {
                let forward: Vec<QpState> = legal
                    .iter()
                    .copied()
                    .filter(|s| !matches!(s, QpState::Reset | QpState::Err))
                    .collect();
                *forward
                    .choose(rng)
                    .or(legal.choose(rng))
                    .expect("RESET is always legal")
            }
            80..=89 => *legal.choose(rng).expect("RESET is always legal"),
            _ => QpState::from_code(rng.gen_range(0..8)).unwrap_or(QpState::Rts),
        };
        let mut mask = attr::STATE;
        if let Some(r) = rule(from, to, qp_type) {
            mask |= r.required;
            for bit in 0..attr::BITS {
                if r.optional & (1 << bit) != 0 && rng.gen_bool(0.5) {
                    mask |= 1 << bit;
                }
            }
            match rng.gen_range(0..100) {
                0..=3 if r.required != 0 => {
                    // Drop one required attribute.
                    let bits: Vec<u32> = (0..attr::BITS as u32)
                        .filter(|b| r.required & (1 << b) != 0)
                        .collect();
                    mask &= !(1 << bits.choose(rng).expect("required bits"));
                }
                4..=7 => mask |= 1 << rng.gen_range(0..attr::BITS), // maybe forbidden
                _ => {}
            }
        } else {
            mask |= rng.gen_range(0..1u32 << attr::BITS);
        }
        QpcReq::modify(qpn, to, mask, attrs)
    }

    /// The next request; `model` holds the state it will meet.
    pub fn request(&mut self, rng: &mut impl Rng, model: &Golden<QpcModel>) -> QpcReq {
        let qpn = self.qpn(rng);
        let ctx = context(model, qpn);
        match rng.gen_range(0..100) {
            0..=29 => self.modify(rng, qpn, model),
            30..=37 => QpcReq::query(qpn),
            38..=52 => {
                let count = match rng.gen_range(0..40) {
                    0 => 0,
                    1 => limits::MAX_PSN_COUNT + 1,
                    2 => limits::MAX_PSN_COUNT,
                    _ => rng.gen_range(1..=8),
                };
                QpcReq::send_psn(qpn, count)
            }
            53..=77 => {
                let e = ctx.expected_psn;
                let span = 1u32 << rng.gen_range(1..24);
                let psn = match rng.gen_range(0..10) {
                    0..=4 => e,
                    5..=6 => e.wrapping_sub(rng.gen_range(1..span)) & MASK24,
                    7..=8 => e.wrapping_add(rng.gen_range(1..span)) & MASK24,
                    _ if rng.gen_bool(0.3) => rng.gen_range(MASK24 + 1..=u32::MAX),
                    _ => rng.gen_range(0..=MASK24),
                };
                QpcReq::recv_psn(qpn, psn, rng.gen_bool(0.5))
            }
            78..=89 => QpcReq::retry(qpn, rng.gen()),
            90..=94 => QpcReq::ack(qpn),
            95..=98 => QpcReq::send_error(qpn),
            _ => QpcReq {
                op: 7,
                ..QpcReq::query(qpn)
            },
        }
    }
}

/// What a differential run covered.
#[derive(Clone, Debug, Default)]
pub struct QpcStats {
    pub ops: u64,
    /// Requests answered OK, per op.
    pub ok: [u64; 7],
    /// Answers per status: bad_op, bad_param, bad_qp_state.
    pub refused: [u64; 3],
    /// QPs seen entering each state.
    pub entered: [u64; 7],
    /// PSNs that wrapped past 2^24 - 1 (sent or received).
    pub psn_wraps: u64,
    pub cycles: u64,
    pub icm_reads: u64,
    pub icm_writes: u64,
}

impl QpcStats {
    pub fn summary(&self) -> String {
        let ok: Vec<String> = QpcOp::ALL
            .iter()
            .map(|op| format!("{} {}", op.name(), self.ok[*op as usize]))
            .collect();
        let states: Vec<String> = QpState::ALL
            .iter()
            .map(|s| format!("{} {}", s.name(), self.entered[*s as usize]))
            .collect();
        format!(
            "{} ops (ok: {}; refused: bad_op {}, bad_param {}, bad_qp_state {}); states entered: {}; {} PSN wraps",
            self.ops,
            ok.join(", "),
            self.refused[0],
            self.refused[1],
            self.refused[2],
            states.join(", "),
            self.psn_wraps
        )
    }

    fn tally(&mut self, req: &QpcReq, before: u8, resp: &QpcResp) {
        self.ops += 1;
        match resp.status {
            status::OK => {
                if let Some(op) = QpcOp::from_code(req.op) {
                    self.ok[op as usize] += 1;
                }
                if resp.ctx.state != before {
                    self.entered[(resp.ctx.state & 7).min(6) as usize] += 1;
                }
            }
            status::BAD_OP => self.refused[0] += 1,
            status::BAD_PARAM => self.refused[1] += 1,
            _ => self.refused[2] += 1,
        }
    }
}

/// QP `qpn`'s context as the model's ICM holds it.
fn context(g: &Golden<QpcModel>, qpn: u32) -> QpContext {
    QpContext::unpack(&g.icm.entry::<WORDS>(QPC_TABLE, qpn & MASK24))
}

impl Stimulus for QpcStimulus {
    type Model = Golden<QpcModel>;
    type Req = QpcReq;
    type Resp = QpcResp;
    type Stats = QpcStats;

    fn next<R: Rng>(&mut self, rng: &mut R, model: &Golden<QpcModel>) -> Vec<QpcReq> {
        vec![self.request(rng, model)]
    }

    fn expect(
        &mut self,
        g: &mut Golden<QpcModel>,
        req: &QpcReq,
        stats: &mut QpcStats,
    ) -> (QpcResp, Option<String>) {
        let before = context(g, req.qpn);
        let resp = g.model.execute(req, &mut g.icm);
        let wrapped = match QpcOp::from_code(req.op) {
            Some(QpcOp::SendPsn) => resp.ctx.next_send_psn < before.next_send_psn,
            Some(QpcOp::RecvPsn) => resp.ctx.expected_psn < before.expected_psn,
            _ => false,
        };
        if resp.status == status::OK && wrapped {
            stats.psn_wraps += 1;
        }
        stats.tally(req, before.state, &resp);
        (resp, None)
    }

    fn finish(stats: &mut QpcStats, cycles: u64) {
        stats.cycles = cycles;
    }
}

/// A fresh differential run of `n` requests against `dut`.
pub fn differential<T>(
    dut: &mut T,
    rng: &mut impl Rng,
    n: u64,
    progress: impl FnMut(u64),
) -> Result<QpcStats, String>
where
    T: Transactor<Req = QpcReq, Resp = QpcResp> + ?Sized,
{
    let mut diff = Differential::new(Golden::new(QpcModel::new()), QpcStimulus::new(rng));
    diff.run(dut, rng, n, progress)?;
    Ok(diff.stats().clone())
}
