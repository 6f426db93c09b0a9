//! The engine's counters: packets and bytes each way, completions, and
//! every packet dropped or WQE failed, by reason (the reasons a packet's
//! parse gives, `hca_abi::ib::Malformed::name`, and the transport's own).

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub tx_packets: u64,
    pub tx_bytes: u64,
    pub rx_packets: u64,
    pub rx_bytes: u64,
    /// Packets a QP took (delivered, answered, or a response consumed),
    /// and packets dropped (each also counted under its reason):
    /// `rx_packets` is their sum.
    pub taken: u64,
    pub dropped: u64,
    /// Messages delivered into a receive queue.
    pub delivered: u64,
    pub completions: u64,
    pub error_completions: u64,
    /// By reason: drops, refusals, error syndromes.
    pub events: BTreeMap<&'static str, u64>,
}

impl Counters {
    pub fn count(&mut self, why: &'static str) {
        *self.events.entry(why).or_default() += 1;
    }

    pub fn get(&self, why: &str) -> u64 {
        self.events.get(why).copied().unwrap_or(0)
    }
}
