//! The CQ and EQ engine on every backend, with ICM behind it and host
//! memory and MSI-X in front.

use crate::backend::rtl::RtlSim;
use crate::backend::verilator::Verilated;
use crate::backend::Backend;
use crate::icm::{IcmBeat, IcmBfm};
use crate::stream::{Pacing, StreamBlock};
use crate::verilated;
use hca_rtl::cq::lanes::request_lanes;
use hca_rtl::cq::unit::kind;
use hca_rtl::cq::{CqBuilt, CqModel, CqReq, CqResp, Cqc, DmaWrite, Eqc};
use hca_rtl::transactor::BlockMemory;
use std::path::Path;

crate::bind_block! {
    rtl: CqBuilt,
    verilated: verilated::cq::Model,
    inputs CqIn {
        reset: bool,
        req_valid: bool,
        req_op: u64,
        req_a: u64,
        req_b: u64,
        req_c: u64,
        req_d: u64,
        req_e0: u64,
        req_e1: u64,
        req_e2: u64,
        req_e3: u64,
        resp_ready: bool,
        icm_req_ready: bool,
        icm_rsp_valid: bool,
        icm_rsp_data: u64,
    }
    outputs CqOut {
        req_ready: bool,
        resp_valid: bool,
        resp_status: u64,
        resp_kind: u64,
        resp_ctx0: u64,
        resp_ctx1: u64,
        resp_ctx2: u64,
        resp_ctx3: u64,
        dma_valid: bool,
        dma_addr: u64,
        dma_data: u64,
        irq_valid: bool,
        irq_vector: u64,
        icm_req_valid: bool,
        icm_req_table: bool,
        icm_req_write: bool,
        icm_req_entry: u64,
        icm_req_beat: u64,
        icm_req_data: u64,
    }
}

/// What the engine talks to: ICM for CQ contexts and the MTT, and the
/// record of what it wrote to host memory (the writes themselves go to the
/// memory at once) and the MSI-X vectors it raised since the last
/// response.
pub struct CqEnv {
    pub icm: IcmBfm,
    dma: Vec<DmaWrite>,
    irqs: Vec<u8>,
}

/// Where the engine's streams and side ports sit in its ports.
pub struct CqStreams;

impl StreamBlock for CqStreams {
    type In = CqIn;
    type Out = CqOut;
    type Req = CqReq;
    type Resp = CqResp;
    type Env = CqEnv;
    type Partial = ();

    fn env(seed: u64) -> CqEnv {
        CqEnv {
            icm: IcmBfm::new(seed),
            dma: Vec::new(),
            irqs: Vec::new(),
        }
    }

    fn env_drive(env: &mut CqEnv, i: &mut CqIn) {
        let d = env.icm.drive();
        i.icm_req_ready = d.req_ready;
        i.icm_rsp_valid = d.rsp.is_some();
        i.icm_rsp_data = d.rsp.unwrap_or(0);
    }

    fn env_observe(env: &mut CqEnv, o: &CqOut, mem: &mut dyn BlockMemory) {
        env.icm.observe(
            o.icm_req_valid.then_some(IcmBeat {
                write: o.icm_req_write,
                table: if o.icm_req_table {
                    hca_rtl::cq::MTT_TABLE
                } else {
                    hca_rtl::cq::CQC_TABLE
                },
                entry: o.icm_req_entry as u32,
                beat: o.icm_req_beat as u8,
                data: o.icm_req_data,
            }),
            mem,
        );
        if o.dma_valid {
            mem.dma_write(o.dma_addr, o.dma_data);
            env.dma.push(DmaWrite {
                addr: o.dma_addr,
                data: o.dma_data,
            });
        }
        if o.irq_valid {
            env.irqs.push(o.irq_vector as u8);
        }
    }

    const NAME: &'static str = "CQ/EQ engine";

    /// The CQ context's line filled (and a dirty one written back), the CQE
    /// and an EQE written in four beats each, an interrupt
    /// (`docs/blocks/cq.md`, "Cycle bound"; 21 seen at most, ICM waits not
    /// counted).
    fn cycle_bound(_req: &CqReq) -> u64 {
        64
    }

    fn env_holding(env: &CqEnv) -> bool {
        env.icm.holding()
    }

    fn env_abort(env: &mut CqEnv) {
        env.icm.abort();
        env.dma.clear();
        env.irqs.clear();
    }

    fn set_reset(i: &mut CqIn, on: bool) {
        i.reset = on;
    }

    fn put_req(i: &mut CqIn, req: Option<&CqReq>) {
        i.req_valid = req.is_some();
        let Some(r) = req else { return };
        let l = request_lanes(r);
        let ([a, b, c, d], [e0, e1, e2, e3]) = (l.args, l.entry);
        (i.req_op, i.req_a, i.req_b, i.req_c, i.req_d) = (l.op, a, b, c, d);
        (i.req_e0, i.req_e1, i.req_e2, i.req_e3) = (e0, e1, e2, e3);
    }

    fn req_ready(o: &CqOut) -> bool {
        o.req_ready
    }

    fn set_resp_ready(i: &mut CqIn, ready: bool) {
        i.resp_ready = ready;
    }

    fn resp_valid(o: &CqOut) -> bool {
        o.resp_valid
    }

    fn take_beat(o: &CqOut, _: &mut (), env: &mut CqEnv) -> Option<CqResp> {
        let words = [o.resp_ctx0, o.resp_ctx1, o.resp_ctx2, o.resp_ctx3];
        Some(CqResp {
            status: o.resp_status as u8,
            dma: std::mem::take(&mut env.dma),
            irqs: std::mem::take(&mut env.irqs),
            cq: if o.resp_kind == kind::CQ {
                Cqc::unpack(&words)
            } else {
                Cqc::default()
            },
            eq: if o.resp_kind == kind::EQ {
                Eqc::unpack(&words)
            } else {
                Eqc::default()
            },
        })
    }
}

/// The engine at transaction level, on any backend.
pub type CqTransactor = super::BoxedTransactor<CqStreams>;

/// Open the engine on `backend`; see [`crate::blocks::atomic::open`].
pub fn open(
    backend: Backend,
    wave: Option<&Path>,
    pacing: Pacing,
    pacing_seed: u64,
) -> anyhow::Result<CqTransactor> {
    match backend {
        Backend::Model => Ok(Box::new(CqModel::new())),
        Backend::Rtl => {
            super::clocked::<_, CqStreams>(RtlSim::<CqBuilt>::default(), wave, pacing, pacing_seed)
        }
        Backend::Verilator => super::clocked::<_, CqStreams>(
            Verilated::<verilated::cq::Model>::default(),
            wave,
            pacing,
            pacing_seed,
        ),
    }
}
