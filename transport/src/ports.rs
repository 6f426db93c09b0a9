//! What the transport engine reaches in the rest of the HCA, and nothing
//! else: the blocks' request ports (the QPC for PSNs and state, the TPT
//! for every key, the CQ/EQ engine for completions and events), each QP's
//! context in ICM, the MTT entries its queues are found through, host
//! memory by DMA, the ports' subnet state, and the wire. The device
//! (`hca-device`) implements it over the firmware and the driver's memory.

use hca_abi::cmd::qp::MlxQpMailbox;
use hca_rtl::atomic::{AtomicReq, AtomicResp};
use hca_rtl::cq::{Cqe, Eqe};
use hca_rtl::qpc::{layout::QpContext, QpcReq, QpcResp};
use hca_rtl::tpt::{TptReq, TptResp};

/// A port's state as the transport needs it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortView {
    pub lid: u16,
    pub lmc: u8,
    /// Data packets may flow (the subnet manager took the port to ACTIVE).
    pub active: bool,
    /// The link is up (SMPs may flow).
    pub trained: bool,
    /// GID index 0: the subnet prefix and the port GUID.
    pub gid_prefix: u64,
    pub guid: u64,
}

impl PortView {
    /// GID index 0.
    pub fn gid(&self) -> [u8; 16] {
        let mut g = [0u8; 16];
        g[..8].copy_from_slice(&self.gid_prefix.to_be_bytes());
        g[8..].copy_from_slice(&self.guid.to_be_bytes());
        g
    }

    /// Whether `dlid` is one of this port's LIDs.
    pub fn owns(&self, dlid: u16) -> bool {
        self.lid != 0 && dlid >> self.lmc == self.lid >> self.lmc
    }
}

/// A port of the device failed to carry a request out (a block that
/// hung, ICM that is not mapped): the engine counts it and gives up on the
/// packet or WQE, never the device.
pub type PortResult<T> = Result<T, String>;

pub trait Ports {
    /// QP `qpn`'s context: the QPC block's and mlx4's (`None` in RESET or
    /// not in the table).
    fn qp(&mut self, qpn: u32) -> Option<(QpContext, MlxQpMailbox)>;
    /// A data-path request to the QPC block.
    fn qpc(&mut self, req: QpcReq) -> PortResult<QpcResp>;
    /// A request to the TPT.
    fn tpt(&mut self, req: TptReq) -> PortResult<TptResp>;
    /// MTT entry `index`.
    fn mtt(&mut self, index: u32) -> PortResult<u64>;
    /// Keep the QP's WQE counters in its context.
    fn set_wqe_counters(&mut self, qpn: u32, sq: Option<u16>, rq: Option<u16>) -> PortResult<()>;
    /// One request to the atomic unit (it holds the word it works on).
    fn atomic(&mut self, req: AtomicReq) -> PortResult<AtomicResp>;
    /// A completion into CQ `cqn`; the CQ/EQ engine's status.
    fn complete(&mut self, cqn: u32, cqe: Cqe, solicited: bool) -> PortResult<u8>;
    /// An asynchronous event.
    fn event(&mut self, eqe: Eqe) -> PortResult<()>;
    fn dma_read(&mut self, addr: u64, buf: &mut [u8]) -> PortResult<()>;
    fn dma_write(&mut self, addr: u64, data: &[u8]) -> PortResult<()>;
    /// Port `n` (1-based).
    fn port(&self, n: u8) -> PortView;
    /// The QPs attached to multicast group `gid`, each with its
    /// block-loopback bit.
    fn mcg_members(&mut self, gid: &[u8; 16]) -> Vec<(u32, bool)>;
    /// CONF_SPECIAL_QP's base (0: none).
    fn special_qp_base(&self) -> u32;
    /// The fabric's time, ns (the transport timers run on it).
    fn now(&self) -> u64;
    /// Put a packet (LRH through VCRC) on port `n`'s link.
    fn transmit(&mut self, n: u8, packet: Vec<u8>);
}
