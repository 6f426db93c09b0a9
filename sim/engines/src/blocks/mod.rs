//! Per-block bindings: signal structs, streams and backend constructors.

pub mod atomic;
pub mod context_cache;
pub mod cq;
pub mod qpc;
pub mod tpt;
pub mod wide_adder;

use crate::stream::{Pacing, StreamBlock};
use crate::transactor::StreamTransactor;
use crate::Dut;
use hca_rtl::Transactor;
use std::path::Path;

/// A block at transaction level, on any backend.
pub type BoxedTransactor<B> =
    Box<dyn Transactor<Req = <B as StreamBlock>::Req, Resp = <B as StreamBlock>::Resp> + Send>;

/// A clocked backend of block `B` as a transactor: the waveform opened
/// first when asked for, then the clock started and reset held.
pub fn clocked<D, B>(
    mut dut: D,
    wave: Option<&Path>,
    pacing: Pacing,
    seed: u64,
) -> anyhow::Result<BoxedTransactor<B>>
where
    D: Dut<In = B::In, Out = B::Out> + Send + 'static,
    B: StreamBlock + Send + 'static,
    B::In: Send,
    B::Req: Send,
    B::Resp: Send,
    B::Env: Send,
    B::Partial: Send,
{
    if let Some(path) = wave {
        dut.open_trace(path)
            .map_err(|e| anyhow::anyhow!("cannot write waveform {}: {e}", path.display()))?;
    }
    Ok(Box::new(StreamTransactor::<D, B>::new(dut, pacing, seed)?))
}
