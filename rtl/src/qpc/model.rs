//! The behavioral model of the QP context block: every context in ICM,
//! reached through the block's memory (the on-chip cache is invisible at
//! this level: nothing else writes QP contexts), each request applied in
//! order.

use super::attr;
use super::layout::QpContext;
use super::status::*;
use super::table::{attr_fields, rule, CREATION_FIELDS};
use super::{
    limits, PsnClass, QpAttrs, QpState, QpType, QpcOp, QpcReq, QpcResp, MASK24, QPC_TABLE,
};
use crate::{Transactor, TransactorError};
use hca_abi::memory::{read_entry, write_entry, BlockMemory};

/// The model keeps nothing of its own: the contexts are in ICM.
#[derive(Clone, Debug, Default)]
pub struct QpcModel;

/// The attributes as context fields: what a modify writes into the fields
/// its mask selects. Setting the retry counts refills the counters left.
pub fn attrs_as_context(a: &QpAttrs) -> QpContext {
    QpContext {
        qp_type: a.qp_type,
        pd: a.pd,
        send_cqn: a.send_cqn,
        recv_cqn: a.recv_cqn,
        srqn: a.srqn,
        srq: a.srq,
        access: a.access,
        pkey_index: a.pkey_index,
        port: a.port,
        qkey: a.qkey,
        dlid: a.dlid,
        sl: a.sl,
        path_mtu: a.path_mtu,
        timeout: a.timeout,
        retry_cnt: a.retry_cnt,
        retry_left: a.retry_cnt,
        rnr_retry: a.rnr_retry,
        rnr_left: a.rnr_retry,
        expected_psn: a.rq_psn,
        max_rd_atomic: a.max_rd_atomic,
        min_rnr_timer: a.min_rnr_timer,
        next_send_psn: a.sq_psn,
        max_dest_rd_atomic: a.max_dest_rd_atomic,
        dest_qpn: a.dest_qpn,
        sqd_notify: a.sqd_notify,
        ..QpContext::default()
    }
}

/// Copy the named fields from `src` into `dst` (through the ICM layout, so
/// the model and the RTL agree on what a field is).
fn copy_fields(dst: &mut QpContext, src: &QpContext, names: &[&str]) {
    let (mut d, s) = (dst.pack(), src.pack());
    for f in names.iter().map(|n| super::layout::field(n)) {
        d[f.word] = (d[f.word] & !f.mask()) | (s[f.word] & f.mask());
    }
    *dst = QpContext::unpack(&d);
}

/// Whether the attribute values the mask selects are in range.
fn values_ok(mask: u32, a: &QpContext) -> bool {
    let has = |bit: u32| mask & bit != 0;
    !(has(attr::PORT) && !(1..=limits::PORTS).contains(&a.port)
        || has(attr::PKEY_INDEX) && a.pkey_index >= limits::PKEY_TABLE
        || has(attr::PATH_MTU) && !(1..=5).contains(&a.path_mtu)
        || has(attr::MAX_QP_RD_ATOMIC) && a.max_rd_atomic > limits::MAX_RD_ATOMIC
        || has(attr::MAX_DEST_RD_ATOMIC) && a.max_dest_rd_atomic > limits::MAX_RD_ATOMIC)
}

impl QpcModel {
    pub fn new() -> Self {
        QpcModel
    }

    pub fn execute(&mut self, req: &QpcReq, mem: &mut dyn BlockMemory) -> QpcResp {
        let qpn = req.qpn & MASK24;
        let before = context(mem, qpn);
        let mut ctx = before;
        let mut psn = 0;
        let mut class = 0;
        let status = self.apply(req, &mut ctx, &mut psn, &mut class);
        let ctx = if status == OK { ctx } else { before };
        if ctx != before {
            write_entry(mem, QPC_TABLE, qpn, &ctx.pack());
        }
        QpcResp {
            status,
            ctx,
            psn,
            class,
        }
    }

    fn apply(&self, req: &QpcReq, ctx: &mut QpContext, psn: &mut u32, class: &mut u8) -> u8 {
        let Some(op) = QpcOp::from_code(req.op) else {
            return BAD_OP;
        };
        let state = QpState::from_code(ctx.state).unwrap_or(QpState::Err);
        let qp_type = QpType::from_code(ctx.qp_type).unwrap_or(QpType::Rc);
        match op {
            QpcOp::Modify => return modify(req, ctx, state, qp_type),
            QpcOp::Query => {}
            QpcOp::SendPsn => {
                if state != QpState::Rts {
                    return BAD_QP_STATE;
                }
                if req.count == 0 || req.count > limits::MAX_PSN_COUNT {
                    return BAD_PARAM;
                }
                *psn = ctx.next_send_psn;
                ctx.next_send_psn = (ctx.next_send_psn + req.count as u32) & MASK24;
            }
            QpcOp::RecvPsn => {
                if !matches!(
                    state,
                    QpState::Rtr | QpState::Rts | QpState::Sqd | QpState::Sqe
                ) {
                    return BAD_QP_STATE;
                }
                if req.psn > MASK24 {
                    return BAD_PARAM;
                }
                let delta = req.psn.wrapping_sub(ctx.expected_psn) & MASK24;
                let c = match qp_type {
                    QpType::Ud => PsnClass::InSequence,
                    _ if delta == 0 => PsnClass::InSequence,
                    // IBTA 9.7.5.1.2: the 2^23 PSNs behind the expected one
                    // are duplicates (RC only; UC has no duplicates).
                    QpType::Rc if delta >= 1 << 23 => PsnClass::Duplicate,
                    _ => PsnClass::OutOfSequence,
                };
                *class = c as u8;
                match (qp_type, c) {
                    (QpType::Ud, _) => {}
                    (_, PsnClass::InSequence) => {
                        ctx.expected_psn = (ctx.expected_psn + 1) & MASK24;
                        if req.last {
                            ctx.msn = (ctx.msn + 1) & MASK24;
                        }
                    }
                    // UC drops the message in progress and follows the
                    // sender from the packet it got.
                    (QpType::Uc, _) => ctx.expected_psn = (req.psn + 1) & MASK24,
                    _ => {}
                }
            }
            QpcOp::Retry | QpcOp::Ack => {
                if !matches!(state, QpState::Rts | QpState::Sqd) {
                    return BAD_QP_STATE;
                }
                if qp_type != QpType::Rc {
                    return BAD_PARAM;
                }
                if op == QpcOp::Ack {
                    ctx.retry_left = ctx.retry_cnt;
                    ctx.rnr_left = ctx.rnr_retry;
                } else if req.rnr {
                    // An RNR retry count of 7 means retry for ever.
                    if ctx.rnr_retry != 7 {
                        if ctx.rnr_left == 0 {
                            ctx.state = QpState::Err as u8;
                        } else {
                            ctx.rnr_left -= 1;
                        }
                    }
                } else if ctx.retry_left == 0 {
                    ctx.state = QpState::Err as u8;
                } else {
                    ctx.retry_left -= 1;
                }
            }
            QpcOp::SendError => match state {
                QpState::Rts if qp_type == QpType::Rc => ctx.state = QpState::Err as u8,
                QpState::Rts => ctx.state = QpState::Sqe as u8,
                QpState::Sqd => ctx.state = QpState::Err as u8,
                QpState::Sqe | QpState::Err => {}
                _ => return BAD_QP_STATE,
            },
        }
        OK
    }
}

/// The context of a QPN as ICM holds it (all zero, RESET, if never
/// touched).
pub fn context(mem: &mut dyn BlockMemory, qpn: u32) -> QpContext {
    QpContext::unpack(&read_entry(mem, QPC_TABLE, qpn & MASK24))
}

fn modify(req: &QpcReq, ctx: &mut QpContext, from: QpState, ctx_type: QpType) -> u8 {
    let Some(to) = QpState::from_code(req.to) else {
        return BAD_QP_STATE;
    };
    if !QpType::ALL.iter().any(|t| rule(from, to, *t).is_some()) {
        return BAD_QP_STATE;
    }
    // The attributes as the block sees them: each truncated to its field.
    let src = QpContext::unpack(&attrs_as_context(&req.attrs).pack());
    let creating = from == QpState::Reset && to == QpState::Init;
    let qp_type = if creating {
        match QpType::from_code(src.qp_type) {
            Some(t) => t,
            None => return BAD_PARAM,
        }
    } else {
        ctx_type
    };
    let r = rule(from, to, qp_type).expect("legal for some type is legal for every type");
    let mask = req.attr_mask & ((1 << attr::BITS) - 1);
    if mask & r.required != r.required || mask & !(r.required | r.optional | attr::STATE) != 0 {
        return BAD_PARAM;
    }
    if !values_ok(mask, &src) {
        return BAD_PARAM;
    }
    if to == QpState::Reset {
        *ctx = QpContext::default();
        return OK;
    }
    if creating {
        copy_fields(ctx, &src, CREATION_FIELDS);
    }
    for bit in 0..attr::BITS {
        if mask & (1 << bit) != 0 {
            copy_fields(ctx, &src, attr_fields(1 << bit));
        }
    }
    ctx.state = to as u8;
    OK
}

impl Transactor for QpcModel {
    type Req = QpcReq;
    type Resp = QpcResp;

    fn transact(
        &mut self,
        reqs: &[QpcReq],
        mem: &mut dyn BlockMemory,
    ) -> Result<Vec<QpcResp>, TransactorError> {
        Ok(reqs.iter().map(|r| self.execute(r, mem)).collect())
    }

    fn backend(&self) -> &'static str {
        "model"
    }

    fn cycles(&self) -> u64 {
        0
    }

    /// Nothing on chip at this level.
    fn reset(&mut self) -> Result<(), TransactorError> {
        Ok(())
    }
}
