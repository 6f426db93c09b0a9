//! The atomic unit on every backend.

use crate::backend::rtl::RtlSim;
use crate::backend::verilator::Verilated;
use crate::backend::Backend;
use crate::stream::{Pacing, StreamBlock};
use crate::verilated;
use hca_rtl::atomic::{AtomicModel, AtomicReq, AtomicResp, AtomicStatus, AtomicUnit};
use std::path::Path;

crate::bind_block! {
    rtl: AtomicUnit,
    verilated: verilated::atomic::Model,
    inputs AtomicIn {
        reset: bool,
        req_valid: bool,
        req_op: u64,
        req_addr: u64,
        req_swap_add: u64,
        req_compare: u64,
        req_swap_add_mask: u64,
        req_compare_mask: u64,
        resp_ready: bool,
    }
    outputs AtomicOut {
        req_ready: bool,
        resp_valid: bool,
        resp_status: u64,
        resp_original: u64,
    }
}

/// Where the request and response streams sit in the unit's ports.
pub struct AtomicStreams;

impl StreamBlock for AtomicStreams {
    type In = AtomicIn;
    type Out = AtomicOut;
    type Req = AtomicReq;
    type Resp = AtomicResp;
    type Env = ();
    type Partial = ();

    fn env(_seed: u64) {}

    const NAME: &'static str = "atomic";

    /// Two pipeline stages: an answer two cycles after the request is
    /// taken (`docs/blocks/atomic.md`, "Cycle bound"; 3 seen at most).
    fn cycle_bound(_req: &AtomicReq) -> u64 {
        8
    }

    fn set_reset(i: &mut AtomicIn, on: bool) {
        i.reset = on;
    }

    fn put_req(i: &mut AtomicIn, req: Option<&AtomicReq>) {
        i.req_valid = req.is_some();
        if let Some(r) = req {
            i.req_op = r.op as u64;
            i.req_addr = r.addr;
            i.req_swap_add = r.swap_add;
            i.req_compare = r.compare;
            i.req_swap_add_mask = r.swap_add_mask;
            i.req_compare_mask = r.compare_mask;
        }
    }

    fn req_ready(o: &AtomicOut) -> bool {
        o.req_ready
    }

    fn set_resp_ready(i: &mut AtomicIn, ready: bool) {
        i.resp_ready = ready;
    }

    fn resp_valid(o: &AtomicOut) -> bool {
        o.resp_valid
    }

    fn take_beat(o: &AtomicOut, _: &mut (), _env: &mut Self::Env) -> Option<AtomicResp> {
        o.resp_valid.then(|| AtomicResp {
            // A 2-bit port: every value is a status.
            status: AtomicStatus::from_code(o.resp_status as u8).unwrap_or(AtomicStatus::BadOpcode),
            original: o.resp_original,
        })
    }
}

/// The unit at transaction level, on any backend.
pub type AtomicTransactor = super::BoxedTransactor<AtomicStreams>;

/// Open the unit on `backend`. A clocked backend records a waveform to
/// `wave` when given; `pacing` and `pacing_seed` set its random handshakes.
pub fn open(
    backend: Backend,
    wave: Option<&Path>,
    pacing: Pacing,
    pacing_seed: u64,
) -> anyhow::Result<AtomicTransactor> {
    match backend {
        Backend::Model => Ok(Box::new(AtomicModel::new())),
        Backend::Rtl => super::clocked::<_, AtomicStreams>(
            RtlSim::<AtomicUnit>::default(),
            wave,
            pacing,
            pacing_seed,
        ),
        Backend::Verilator => super::clocked::<_, AtomicStreams>(
            Verilated::<verilated::atomic::Model>::default(),
            wave,
            pacing,
            pacing_seed,
        ),
    }
}
