//! The engine the device runs: one per HCA. A QP's progress lives in its
//! context (the QPC block's words and the WQE counters in ICM); what a
//! real HCA keeps on chip beside it (RC messages not yet acknowledged, a
//! message being received, responder resources) is kept here per QP and
//! forgotten when the QP goes back to RESET.

use crate::connected::{self, Here, Inbound};
use crate::ports::Ports;
use crate::reliability::Requester;
use crate::responder::{self, Outcome};
use crate::{requester, Counters};
use hca_rtl::qpc::QpState;
use std::collections::BTreeMap;

/// What the engine keeps of one QP.
#[derive(Clone, Debug, Default)]
pub struct QpRun {
    pub req: Requester,
    pub inb: Inbound,
}

/// In [`Transport::qp_changed`]: every QP (CLOSE_HCA, a device reset).
pub const ALL_QPS: u32 = u32::MAX;

#[derive(Default)]
pub struct Transport {
    pub counters: Counters,
    qps: BTreeMap<u32, QpRun>,
}

impl Transport {
    pub fn new() -> Transport {
        Transport::default()
    }

    /// QP `qpn`'s send doorbell rang.
    pub fn doorbell(&mut self, ports: &mut dyn Ports, qpn: u32) {
        let run = self.qps.entry(qpn).or_default();
        requester::doorbell(ports, &mut self.counters, &mut run.req, qpn);
    }

    /// A command changed QP `qpn`'s state: back in RESET it is forgotten,
    /// in ERR both its queues are flushed, back in RTS its send queue is
    /// walked (WQEs posted while it was in SQD or before RTS).
    pub fn qp_changed(&mut self, ports: &mut dyn Ports, qpn: u32) {
        if qpn == ALL_QPS {
            self.qps.clear();
            return;
        }
        let Some((ctx, _)) = ports.qp(qpn) else {
            self.qps.remove(&qpn);
            return;
        };
        match QpState::from_code(ctx.state) {
            Some(QpState::Err) => {
                let run = self.qps.entry(qpn).or_default();
                run.req
                    .flush(ports, &mut self.counters, &requester::qp_info(qpn, &ctx));
                run.inb = Inbound::default();
                requester::doorbell(ports, &mut self.counters, &mut run.req, qpn);
                responder::flush_receives(ports, &mut self.counters, qpn, &ctx);
            }
            Some(QpState::Rts) => self.doorbell(ports, qpn),
            _ => {}
        }
    }

    /// A packet arrived on port `port`.
    pub fn receive(&mut self, ports: &mut dyn Ports, port: u8, packet: &[u8]) -> Outcome {
        responder::receive(ports, &mut self.counters, &mut self.qps, port, packet)
    }

    /// The end of a batch of packets: the coalesced ACKs go out.
    pub fn flush_acks(&mut self, ports: &mut dyn Ports) {
        for (&qpn, run) in self.qps.iter_mut() {
            if run.inb.ack.is_none() {
                continue;
            }
            match ports.qp(qpn) {
                Some((ctx, mlx)) => {
                    let h = Here {
                        qpn,
                        ctx: &ctx,
                        mlx: &mlx,
                    };
                    connected::flush_ack(ports, &mut self.counters, &mut run.inb, &h);
                }
                None => run.inb.ack = None,
            }
        }
    }

    /// Run the timers that are due.
    pub fn tick(&mut self, ports: &mut dyn Ports) {
        let now = ports.now();
        let due: Vec<u32> = self
            .qps
            .iter()
            .filter(|(_, r)| r.req.next_deadline().is_some_and(|t| t <= now))
            .map(|(q, _)| *q)
            .collect();
        for qpn in due {
            let Some((ctx, _)) = ports.qp(qpn) else {
                self.qps.remove(&qpn);
                continue;
            };
            let run = self.qps.entry(qpn).or_default();
            let info = requester::qp_info(qpn, &ctx);
            run.req.tick(ports, &mut self.counters, &info, now);
            requester::doorbell(ports, &mut self.counters, &mut run.req, qpn);
        }
    }

    /// When the next timer is due.
    pub fn next_deadline(&self) -> Option<u64> {
        self.qps
            .values()
            .filter_map(|r| r.req.next_deadline())
            .min()
    }
}
