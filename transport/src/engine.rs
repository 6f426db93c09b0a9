//! The engine the device runs: one per HCA, holding its counters; the
//! QPs' progress lives in their contexts (the QPC block's words and the
//! WQE counters in ICM), so the engine keeps nothing a reset must clear.

use crate::ports::Ports;
use crate::responder::Outcome;
use crate::{requester, responder, Counters};

#[derive(Default)]
pub struct Transport {
    pub counters: Counters,
}

impl Transport {
    pub fn new() -> Transport {
        Transport::default()
    }

    /// QP `qpn`'s send doorbell rang.
    pub fn doorbell(&mut self, ports: &mut dyn Ports, qpn: u32) {
        requester::doorbell(ports, &mut self.counters, qpn);
    }

    /// A packet arrived on port `port`.
    pub fn receive(&mut self, ports: &mut dyn Ports, port: u8, packet: &[u8]) -> Outcome {
        responder::receive(ports, &mut self.counters, port, packet)
    }
}
