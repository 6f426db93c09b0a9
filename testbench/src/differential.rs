//! The differential loop every block's random test runs: requests from a
//! generator that also knows the model's answer, sent to the design in
//! randomly sized back-to-back batches, every response checked in order.

use crate::scoreboard::{Mismatch, Scoreboard};
use hca_abi::memory::{BlockMemory, SparseIcm};
use hca_rtl::Transactor;
use rand::Rng;
use std::fmt::Debug;

/// A model with the memory its block's ports reach (ICM, DMA): the
/// reference side of a differential run. The design under test has a
/// memory of its own.
#[derive(Clone, Debug, Default)]
pub struct Golden<M> {
    pub model: M,
    pub icm: SparseIcm,
}

impl<M> Golden<M> {
    pub fn new(model: M) -> Self {
        Self::with_memory(model, SparseIcm::new())
    }

    pub fn with_memory(model: M, icm: SparseIcm) -> Self {
        Golden { model, icm }
    }
}

/// Send `n` requests from `next` (which returns each request with the
/// model's response to it) through `dut`, whose ports reach `mem`, in
/// batches of 1 to 256, and compare every response. `progress` gets the running total after each
/// batch; `done` is the number checked before this call (for messages).
pub fn run_batches<T, R>(
    dut: &mut T,
    mem: &mut dyn BlockMemory,
    rng: &mut R,
    n: u64,
    done: u64,
    mut next: impl FnMut(&mut R) -> (T::Req, T::Resp),
    mut progress: impl FnMut(u64),
) -> Result<(), String>
where
    T: Transactor + ?Sized,
    T::Req: Clone + Debug,
    T::Resp: Clone + Debug + PartialEq,
    R: Rng,
{
    let mut board: Scoreboard<T::Req, T::Resp> = Scoreboard::default();
    let mut sent = 0;
    while sent < n {
        let len = rng.gen_range(1..=256).min(n - sent);
        let mut batch = Vec::with_capacity(len as usize);
        for _ in 0..len {
            let (req, resp) = next(rng);
            board.expect(req.clone(), resp);
            batch.push(req);
        }
        let got = dut
            .transact(&batch, mem)
            .map_err(|e| format!("after {} checked transactions: {e}", done + board.checked()))?;
        for r in got {
            board
                .observe(r, dut.cycles())
                .map_err(|mut m: Box<Mismatch<_, _>>| {
                    m.index += done;
                    m.to_string()
                })?;
        }
        sent += len;
        progress(done + sent);
    }
    Ok(())
}

/// A block's random stimulus and the bookkeeping of a differential run:
/// what to send next, and what the model answers (with any checker run on
/// the way).
pub trait Stimulus {
    type Model;
    type Req: Clone + Debug;
    type Resp: Clone + Debug + PartialEq;
    type Stats: Clone + Default;

    /// The next requests: usually one, or a few that belong together.
    fn next<R: Rng>(&mut self, rng: &mut R, model: &Self::Model) -> Vec<Self::Req>;

    /// Apply `req` to the model and tally it; with the model's response, a
    /// checker's complaint about it, if any.
    fn expect(
        &mut self,
        model: &mut Self::Model,
        req: &Self::Req,
        stats: &mut Self::Stats,
    ) -> (Self::Resp, Option<String>);

    /// Record the cycles the design has run so far.
    fn finish(stats: &mut Self::Stats, cycles: u64);

    /// The memory both the model and the design start from (what the host
    /// set up before the run: an MTT, say).
    fn initial_memory() -> SparseIcm {
        SparseIcm::new()
    }

    /// The model's memory, if the design's ICM must equal it at the end of
    /// every run (a block whose writes reach ICM when the model's do: one
    /// without a write-back cache).
    fn memory(_model: &Self::Model) -> Option<&SparseIcm> {
        None
    }
}

/// A differential run that can be continued: the model, the stimulus and
/// the tallies persist between calls, as the design's state does.
pub struct Differential<S: Stimulus> {
    model: S::Model,
    /// What the design's ports reach.
    dut_mem: SparseIcm,
    stim: S,
    stats: S::Stats,
    queue: Vec<S::Req>,
    sent: u64,
    complaint: Option<String>,
}

impl<S: Stimulus> Differential<S> {
    pub fn new(model: S::Model, stim: S) -> Self {
        Differential {
            model,
            dut_mem: S::initial_memory(),
            stim,
            stats: S::Stats::default(),
            queue: Vec::new(),
            sent: 0,
            complaint: None,
        }
    }

    /// Send `n` more requests through `dut` and compare every response
    /// with the model's; fails on the first difference or complaint.
    pub fn run<T, R>(
        &mut self,
        dut: &mut T,
        rng: &mut R,
        n: u64,
        progress: impl FnMut(u64),
    ) -> Result<(), String>
    where
        T: Transactor<Req = S::Req, Resp = S::Resp> + ?Sized,
        R: Rng,
    {
        let (model, stim, stats, queue, complaint) = (
            &mut self.model,
            &mut self.stim,
            &mut self.stats,
            &mut self.queue,
            &mut self.complaint,
        );
        let dut_mem = &mut self.dut_mem;
        run_batches(
            dut,
            dut_mem,
            rng,
            n,
            self.sent,
            |rng| {
                if queue.is_empty() {
                    *queue = stim.next(rng, model);
                    queue.reverse();
                }
                let req = queue.pop().expect("a stimulus gives at least one request");
                let (resp, objection) = stim.expect(model, &req, stats);
                if let Some(o) = objection {
                    complaint.get_or_insert(o);
                }
                (req, resp)
            },
            progress,
        )?;
        self.sent += n;
        if let Some(c) = &self.complaint {
            return Err(format!("checker: {c}"));
        }
        if let Some((t, e, w, want, got)) =
            S::memory(&self.model).and_then(|m| m.first_difference(&self.dut_mem))
        {
            return Err(format!(
                "after {} requests ICM differs: table {t} entry {e:#x} word {w}: \
                 the model wrote {want:#x}, the design {got:#x}",
                self.sent
            ));
        }
        S::finish(&mut self.stats, dut.cycles());
        Ok(())
    }

    pub fn stats(&self) -> &S::Stats {
        &self.stats
    }
}
