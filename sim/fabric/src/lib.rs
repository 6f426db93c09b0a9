//! The simulated InfiniBand fabric between HCAs: links with latency, a
//! data rate and seeded faults (drop, corrupt, duplicate, reorder), a
//! switch forwarding by DLID with linear and multicast forwarding tables,
//! endpoints for the HCAs' ports, simulated time, counters of every drop
//! by reason, and captures in the pcap/ERF form Wireshark reads.
//!
//! Packets are bytes in native IB framing, LRH through VCRC
//! (`hca_abi::ib`): the fabric checks only what a link and a switch check
//! (length, VCRC, a route for the DLID); the transport is the HCAs'.
//! See `docs/fabric.md`.

pub mod capture;
pub mod fabric;
pub mod faults;
pub mod link;
pub mod mgmt;
pub mod sa;
pub mod sm;
pub mod switch;

pub use capture::{Capture, CaptureError, Captured};
pub use fabric::{Attach, EndpointId, EndpointStats, Fabric, FabricStats, SwitchId};
pub use faults::{FaultCounts, Faults};
pub use link::{LinkConfig, Ns};
pub use sm::{Phase, SubnetManager};
pub use switch::{Switch, SwitchDrop};
