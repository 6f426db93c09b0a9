//! The QP context block on every backend, with ICM behind it.

use crate::backend::rtl::RtlSim;
use crate::backend::verilator::Verilated;
use crate::backend::Backend;
use crate::icm::{IcmBeat, IcmBfm};
use crate::stream::{Pacing, StreamBlock};
use crate::verilated;
use hca_rtl::qpc::lanes::request_lanes;
use hca_rtl::qpc::layout::{QpContext, WORDS};
use hca_rtl::qpc::{QpcBuilt, QpcModel, QpcReq, QpcResp};
use hca_rtl::transactor::BlockMemory;
use std::path::Path;

crate::bind_block! {
    rtl: QpcBuilt,
    verilated: verilated::qpc::Model,
    inputs QpcIn {
        reset: bool,
        req_valid: bool,
        req_op: u64,
        req_qpn: u64,
        req_attr_mask: u64,
        req_attr0: u64,
        req_attr1: u64,
        req_attr2: u64,
        req_attr3: u64,
        req_attr4: u64,
        req_attr5: u64,
        req_attr6: u64,
        req_arg: u64,
        req_last: bool,
        req_rnr: bool,
        resp_ready: bool,
        icm_req_ready: bool,
        icm_rsp_valid: bool,
        icm_rsp_data: u64,
    }
    outputs QpcOut {
        req_ready: bool,
        resp_valid: bool,
        resp_status: u64,
        resp_class: u64,
        resp_arg: u64,
        resp_ctx0: u64,
        resp_ctx1: u64,
        resp_ctx2: u64,
        resp_ctx3: u64,
        resp_ctx4: u64,
        resp_ctx5: u64,
        resp_ctx6: u64,
        icm_req_valid: bool,
        icm_req_write: bool,
        icm_req_entry: u64,
        icm_req_beat: u64,
        icm_req_data: u64,
    }
}

/// Where the QPC's streams and ICM port sit in its ports.
pub struct QpcStreams;

impl StreamBlock for QpcStreams {
    type In = QpcIn;
    type Out = QpcOut;
    type Req = QpcReq;
    type Resp = QpcResp;
    type Env = IcmBfm;
    type Partial = ();

    fn env(seed: u64) -> IcmBfm {
        IcmBfm::new(seed)
    }

    fn env_drive(env: &mut IcmBfm, i: &mut QpcIn) {
        let d = env.drive();
        i.icm_req_ready = d.req_ready;
        i.icm_rsp_valid = d.rsp.is_some();
        i.icm_rsp_data = d.rsp.unwrap_or(0);
    }

    fn env_observe(env: &mut IcmBfm, o: &QpcOut, mem: &mut dyn BlockMemory) {
        env.observe(
            o.icm_req_valid.then_some(IcmBeat {
                write: o.icm_req_write,
                table: hca_rtl::qpc::QPC_TABLE,
                entry: o.icm_req_entry as u32,
                beat: o.icm_req_beat as u8,
                data: o.icm_req_data,
            }),
            mem,
        );
    }

    const NAME: &'static str = "QPC";

    /// A miss writes a dirty line back and fills the new one, 8 beats each,
    /// around 3 cycles of lookup (`docs/blocks/qpc.md`, "Cycle bound"; 15
    /// seen at most, ICM waits not counted).
    fn cycle_bound(_req: &QpcReq) -> u64 {
        64
    }

    fn env_holding(env: &IcmBfm) -> bool {
        env.holding()
    }

    fn env_abort(env: &mut IcmBfm) {
        env.abort();
    }

    fn set_reset(i: &mut QpcIn, on: bool) {
        i.reset = on;
    }

    fn put_req(i: &mut QpcIn, req: Option<&QpcReq>) {
        i.req_valid = req.is_some();
        let Some(r) = req else { return };
        let l = request_lanes(r);
        (i.req_op, i.req_qpn, i.req_attr_mask) = (l.op, l.qpn, l.attr_mask);
        [
            i.req_attr0,
            i.req_attr1,
            i.req_attr2,
            i.req_attr3,
            i.req_attr4,
            i.req_attr5,
            i.req_attr6,
        ] = l.attrs;
        (i.req_arg, i.req_last, i.req_rnr) = (l.arg, l.last, l.rnr);
    }

    fn req_ready(o: &QpcOut) -> bool {
        o.req_ready
    }

    fn set_resp_ready(i: &mut QpcIn, ready: bool) {
        i.resp_ready = ready;
    }

    fn resp_valid(o: &QpcOut) -> bool {
        o.resp_valid
    }

    fn take_beat(o: &QpcOut, _: &mut (), _env: &mut Self::Env) -> Option<QpcResp> {
        let mut w = [0u64; WORDS];
        w[..7].copy_from_slice(&[
            o.resp_ctx0,
            o.resp_ctx1,
            o.resp_ctx2,
            o.resp_ctx3,
            o.resp_ctx4,
            o.resp_ctx5,
            o.resp_ctx6,
        ]);
        o.resp_valid.then(|| QpcResp {
            status: o.resp_status as u8,
            ctx: QpContext::unpack(&w),
            psn: o.resp_arg as u32,
            class: o.resp_class as u8,
        })
    }
}

/// The block at transaction level, on any backend.
pub type QpcTransactor = super::BoxedTransactor<QpcStreams>;

/// Open the block on `backend`. A clocked backend records a waveform to
/// `wave` when given; `pacing` and `pacing_seed` set its random handshakes.
pub fn open(
    backend: Backend,
    wave: Option<&Path>,
    pacing: Pacing,
    pacing_seed: u64,
) -> anyhow::Result<QpcTransactor> {
    match backend {
        Backend::Model => Ok(Box::new(QpcModel::new())),
        Backend::Rtl => super::clocked::<_, QpcStreams>(
            RtlSim::<QpcBuilt>::default(),
            wave,
            pacing,
            pacing_seed,
        ),
        Backend::Verilator => super::clocked::<_, QpcStreams>(
            Verilated::<verilated::qpc::Model>::default(),
            wave,
            pacing,
            pacing_seed,
        ),
    }
}
