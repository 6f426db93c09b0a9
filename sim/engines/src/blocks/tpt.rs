//! The TPT on every backend, with ICM (MPT table 0, MTT table 1) behind it.

use crate::backend::rtl::RtlSim;
use crate::backend::verilator::Verilated;
use crate::backend::Backend;
use crate::icm::{IcmBeat, IcmBfm};
use crate::stream::{Pacing, StreamBlock};
use crate::verilated;
use hca_rtl::tpt::lanes::request_lanes;
use hca_rtl::tpt::layout::MptEntry;
use hca_rtl::tpt::{TptBuilt, TptModel, TptOp, TptReq, TptResp};
use hca_rtl::transactor::BlockMemory;
use std::path::Path;

/// Lines in the RTL's MPT cache; the model mirrors them.
pub use hca_rtl::tpt::LINES as CACHE_LINES;

crate::bind_block! {
    rtl: TptBuilt,
    verilated: verilated::tpt::Model,
    inputs TptIn {
        reset: bool,
        req_valid: bool,
        req_op: u64,
        req_key: u64,
        req_pd: u64,
        req_va: u64,
        req_len: u64,
        req_access: u64,
        req_entry0: u64,
        req_entry1: u64,
        req_entry2: u64,
        req_entry3: u64,
        req_mtt: u64,
        req_addr: u64,
        resp_ready: bool,
        icm_req_ready: bool,
        icm_rsp_valid: bool,
        icm_rsp_data: u64,
    }
    outputs TptOut {
        req_ready: bool,
        resp_valid: bool,
        resp_last: bool,
        resp_page: bool,
        resp_addr: u64,
        resp_status: u64,
        resp_entry0: u64,
        resp_entry1: u64,
        resp_entry2: u64,
        resp_entry3: u64,
        icm_req_valid: bool,
        icm_req_write: bool,
        icm_req_table: bool,
        icm_req_entry: u64,
        icm_req_beat: u64,
        icm_req_data: u64,
    }
}

/// Where the TPT's streams and ICM port sit in its ports.
pub struct TptStreams;

impl StreamBlock for TptStreams {
    type In = TptIn;
    type Out = TptOut;
    type Req = TptReq;
    type Resp = TptResp;
    type Env = IcmBfm;
    /// Pages gathered so far.
    type Partial = Vec<u64>;

    fn env(seed: u64) -> IcmBfm {
        IcmBfm::new(seed)
    }

    fn env_drive(env: &mut IcmBfm, i: &mut TptIn) {
        let d = env.drive();
        i.icm_req_ready = d.req_ready;
        i.icm_rsp_valid = d.rsp.is_some();
        i.icm_rsp_data = d.rsp.unwrap_or(0);
    }

    fn env_observe(env: &mut IcmBfm, o: &TptOut, mem: &mut dyn BlockMemory) {
        env.observe(
            o.icm_req_valid.then_some(IcmBeat {
                write: o.icm_req_write,
                table: o.icm_req_table as u8,
                entry: o.icm_req_entry as u32,
                beat: o.icm_req_beat as u8,
                data: o.icm_req_data,
            }),
            mem,
        );
    }

    fn is_env_request(req: &TptReq) -> bool {
        TptOp::from_code(req.op).is_some_and(TptOp::is_host_write)
    }

    /// The host writes ICM itself, bypassing the block's port.
    fn env_request(_env: &mut IcmBfm, r: &TptReq, mem: &mut dyn BlockMemory) -> Option<TptResp> {
        hca_rtl::tpt::model::host_write(r, mem).then(TptResp::default)
    }

    const NAME: &'static str = "TPT";

    /// A fill of the MPT line and the checks, then for a lookup one MTT
    /// read and one beat per page, and an access touches at most
    /// `len / 4096 + 2` pages (`docs/blocks/tpt.md`, "Cycle bound"; 11 seen
    /// at most for a command, 24 for a lookup of 13 pages, ICM waits not
    /// counted).
    fn cycle_bound(req: &TptReq) -> u64 {
        let pages = if req.op == TptOp::Lookup as u8 {
            req.len as u64 / 4096 + 2
        } else {
            0
        };
        32 + 4 * pages
    }

    fn env_holding(env: &IcmBfm) -> bool {
        env.holding()
    }

    fn env_abort(env: &mut IcmBfm) {
        env.abort();
    }

    fn set_reset(i: &mut TptIn, on: bool) {
        i.reset = on;
    }

    fn put_req(i: &mut TptIn, req: Option<&TptReq>) {
        i.req_valid = req.is_some();
        let Some(r) = req else { return };
        let l = request_lanes(r);
        (i.req_op, i.req_key, i.req_pd, i.req_va) = (l.op, l.key, l.pd, l.va);
        (i.req_len, i.req_access, i.req_mtt, i.req_addr) = (l.len, l.access, l.mtt, l.addr);
        [i.req_entry0, i.req_entry1, i.req_entry2, i.req_entry3] = l.entry;
    }

    fn req_ready(o: &TptOut) -> bool {
        o.req_ready
    }

    fn set_resp_ready(i: &mut TptIn, ready: bool) {
        i.resp_ready = ready;
    }

    fn resp_valid(o: &TptOut) -> bool {
        o.resp_valid
    }

    fn take_beat(o: &TptOut, pages: &mut Vec<u64>, _env: &mut Self::Env) -> Option<TptResp> {
        if o.resp_page {
            pages.push(o.resp_addr);
        }
        o.resp_last.then(|| TptResp {
            status: o.resp_status as u8,
            pages: std::mem::take(pages),
            entry: MptEntry::unpack(&[o.resp_entry0, o.resp_entry1, o.resp_entry2, o.resp_entry3]),
        })
    }
}

/// The block at transaction level, on any backend.
pub type TptTransactor = super::BoxedTransactor<TptStreams>;

/// Open the block on `backend`. A clocked backend records a waveform to
/// `wave` when given; `pacing` and `pacing_seed` set its random handshakes.
pub fn open(
    backend: Backend,
    wave: Option<&Path>,
    pacing: Pacing,
    pacing_seed: u64,
) -> anyhow::Result<TptTransactor> {
    match backend {
        Backend::Model => Ok(Box::new(TptModel::new(CACHE_LINES))),
        Backend::Rtl => super::clocked::<_, TptStreams>(
            RtlSim::<TptBuilt>::default(),
            wave,
            pacing,
            pacing_seed,
        ),
        Backend::Verilator => super::clocked::<_, TptStreams>(
            Verilated::<verilated::tpt::Model>::default(),
            wave,
            pacing,
            pacing_seed,
        ),
    }
}
