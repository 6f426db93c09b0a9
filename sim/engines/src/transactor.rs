//! Any DUT with a request and a response stream, as a [`Transactor`].

use crate::clock::{reset, Clock};
use crate::dut::Dut;
use crate::stream::{Pacing, StreamBlock, StreamDriver, StreamMonitor};
use hca_rtl::transactor::BlockMemory;
use hca_rtl::{Transactor, TransactorError};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::marker::PhantomData;

/// Cycles without any handshake before a transaction is declared lost.
pub const IDLE_TIMEOUT_CYCLES: u64 = 10_000;

/// Drives a block's streams clock by clock: requests go in as fast as the
/// pacing allows, responses are collected in order.
pub struct StreamTransactor<D: Dut, B: StreamBlock> {
    dut: D,
    clock: Clock,
    inputs: D::In,
    pacing: Pacing,
    rng: ChaCha8Rng,
    monitor: StreamMonitor,
    env: B::Env,
    partial: B::Partial,
    took_beat: bool,
    /// Whether the response stream was ready in the last cycle.
    resp_ready: bool,
    pacing_seed: u64,
    /// A cycle bound that replaces every request's own (`--max-cycles`).
    cycle_limit: Option<u64>,
    _block: PhantomData<B>,
}

impl<D, B> StreamTransactor<D, B>
where
    D: Dut,
    B: StreamBlock<In = D::In, Out = D::Out>,
{
    /// Start the clock and hold reset for four cycles. `pacing_seed` drives
    /// the random gaps and back-pressure.
    pub fn new(mut dut: D, pacing: Pacing, pacing_seed: u64) -> Result<Self, TransactorError> {
        let mut clock = Clock::default();
        let unsettled = |_| TransactorError::NoConvergence { cycle: 0 };
        clock.start(&mut dut).map_err(unsettled)?;
        reset(&mut dut, &mut clock, 4, B::set_reset).map_err(unsettled)?;
        Ok(StreamTransactor {
            dut,
            clock,
            inputs: D::In::default(),
            pacing,
            rng: ChaCha8Rng::seed_from_u64(pacing_seed),
            monitor: StreamMonitor::default(),
            env: B::env(pacing_seed ^ 0x9e37_79b9_7f4a_7c15),
            partial: B::Partial::default(),
            took_beat: false,
            resp_ready: true,
            pacing_seed,
            cycle_limit: None,
            _block: PhantomData,
        })
    }

    pub fn dut_mut(&mut self) -> &mut D {
        &mut self.dut
    }

    /// The block's environment (for checks on what it holds).
    pub fn env(&self) -> &B::Env {
        &self.env
    }

    /// The block's environment, to set its pacing.
    pub fn env_mut(&mut self) -> &mut B::Env {
        &mut self.env
    }

    /// The cycles `req` may take.
    pub fn bound(&self, req: &B::Req) -> u64 {
        self.cycle_limit.unwrap_or_else(|| B::cycle_bound(req))
    }

    pub fn pacing(&self) -> Pacing {
        self.pacing
    }

    pub fn set_pacing(&mut self, pacing: Pacing) {
        self.pacing = pacing;
    }

    /// Cycles in which back-pressure held the response stream.
    pub fn stalled_cycles(&self) -> u64 {
        self.monitor.stalled_cycles()
    }

    /// Run one clock with `req` presented (or nothing); return whether it
    /// was accepted and the response taken in that cycle, if any.
    fn step(
        &mut self,
        req: Option<&B::Req>,
        mem: &mut dyn BlockMemory,
    ) -> Result<(bool, Option<B::Resp>), TransactorError> {
        let cycle = self.clock.cycles();
        let ready = self.monitor.ready(&mut self.rng, self.pacing.stall_pct);
        self.resp_ready = ready;
        B::put_req(&mut self.inputs, req);
        B::set_resp_ready(&mut self.inputs, ready);
        B::env_drive(&mut self.env, &mut self.inputs);
        self.dut.drive(&self.inputs);
        let out = self
            .dut
            .sample()
            .map_err(|_| TransactorError::NoConvergence { cycle })?;
        B::env_observe(&mut self.env, &out, mem);
        let accepted = req.is_some() && B::req_ready(&out);
        self.took_beat = self.monitor.takes(B::resp_valid(&out));
        let taken = if self.took_beat {
            B::take_beat(&out, &mut self.partial, &mut self.env)
        } else {
            None
        };
        self.clock
            .cycle(&mut self.dut)
            .map_err(|_| TransactorError::NoConvergence { cycle })?;
        Ok((accepted, taken))
    }
}

impl<D, B> StreamTransactor<D, B>
where
    D: Dut,
    B: StreamBlock<In = D::In, Out = D::Out>,
{
    /// Send block requests back to back and collect their responses. A
    /// timeout or an overrun resets the block before it is reported, so
    /// the transactor can go on with the next requests.
    fn run(
        &mut self,
        reqs: &[B::Req],
        mem: &mut dyn BlockMemory,
    ) -> Result<Vec<B::Resp>, TransactorError> {
        let r = self.run_unguarded(reqs, mem);
        if let Err(e) = &r {
            if e.recoverable() {
                self.recover()?;
            }
        }
        r
    }

    /// Reset the block after it wedged: reset held for four cycles, what it
    /// had asked of the environment and any response half taken dropped.
    fn recover(&mut self) -> Result<(), TransactorError> {
        let cycle = self.clock.cycles();
        self.inputs = D::In::default();
        B::env_abort(&mut self.env);
        self.partial = B::Partial::default();
        reset(&mut self.dut, &mut self.clock, 4, B::set_reset)
            .map_err(|_| TransactorError::NoConvergence { cycle })
    }

    fn run_unguarded(
        &mut self,
        reqs: &[B::Req],
        mem: &mut dyn BlockMemory,
    ) -> Result<Vec<B::Resp>, TransactorError> {
        let mut driver = StreamDriver::default();
        for r in reqs {
            driver.push(r.clone());
        }
        let mut out = Vec::with_capacity(reqs.len());
        let mut idle = 0u64;
        // The cycles charged to the oldest request not yet answered, and
        // its bound (worked out once per request).
        let mut charged = 0u64;
        let mut bound = None;
        while out.len() < reqs.len() {
            let req = driver.present(&mut self.rng, self.pacing.idle_pct).cloned();
            // The oldest request not yet answered is being worked on once it
            // is presented (a block may work on it before it takes it).
            let was_outstanding = (out.len() as u64) < driver.sent() + req.is_some() as u64;
            let (accepted, resp) = self.step(req.as_ref(), mem)?;
            driver.edge(accepted);
            if was_outstanding && self.resp_ready && !B::env_holding(&self.env) {
                charged += 1;
            }
            // A beat counts as progress even when it completes no response.
            let progressed = accepted || self.took_beat;
            if let Some(r) = resp {
                if out.len() as u64 >= driver.sent() {
                    return Err(TransactorError::Spurious {
                        cycle: self.clock.cycles(),
                    });
                }
                self.monitor.record();
                out.push(r);
                charged = 0;
                bound = None;
            } else if was_outstanding {
                let head = &reqs[out.len()];
                let bound = *bound.get_or_insert_with(|| self.bound(head));
                if charged > bound {
                    return Err(TransactorError::Overrun {
                        block: B::NAME,
                        request: format!("{head:?}"),
                        cycles: charged,
                        bound,
                        seed: self.pacing_seed,
                    });
                }
            }
            idle = if progressed { 0 } else { idle + 1 };
            if idle > IDLE_TIMEOUT_CYCLES {
                return Err(TransactorError::Timeout {
                    cycles: self.clock.cycles(),
                    outstanding: reqs.len() - out.len(),
                });
            }
        }
        Ok(out)
    }
}

impl<D, B> Transactor for StreamTransactor<D, B>
where
    D: Dut,
    B: StreamBlock<In = D::In, Out = D::Out>,
{
    type Req = B::Req;
    type Resp = B::Resp;

    fn transact(
        &mut self,
        reqs: &[B::Req],
        mem: &mut dyn BlockMemory,
    ) -> Result<Vec<B::Resp>, TransactorError> {
        let mut out = Vec::with_capacity(reqs.len());
        let mut rest = reqs;
        while !rest.is_empty() {
            let n = rest
                .iter()
                .position(B::is_env_request)
                .unwrap_or(rest.len());
            out.extend(self.run(&rest[..n], mem)?);
            if let Some(r) = rest.get(n) {
                let cycle = self.clock.cycles();
                out.push(
                    B::env_request(&mut self.env, r, mem)
                        .ok_or(TransactorError::Spurious { cycle })?,
                );
            }
            rest = &rest[(n + 1).min(rest.len())..];
        }
        Ok(out)
    }

    fn backend(&self) -> &'static str {
        self.dut.backend()
    }

    fn cycles(&self) -> u64 {
        self.clock.cycles()
    }

    fn set_cycle_limit(&mut self, limit: Option<u64>) {
        self.cycle_limit = limit;
    }

    /// Reset held for four cycles, as after an overrun.
    fn reset(&mut self) -> Result<(), TransactorError> {
        self.recover()
    }
}
