//! The device's data path: the transport engine beside the firmware, its
//! ports onto the firmware's blocks and the driver's memory, and the
//! HCA's ports on the fabric. A send doorbell runs the requester at once;
//! packets that arrived are taken in when the device is given time
//! ([`hca_abi::pci::PciFunction::run`]).

use hca_abi::cmd::qp::MlxQpMailbox;
use hca_fabric::{EndpointId, Fabric};
use hca_firmware::{Firmware, HostMemory};
use hca_rtl::atomic::{AtomicReq, AtomicResp};
use hca_rtl::cq::{Cqe, Eqe};
use hca_rtl::qpc::{layout::QpContext, QpcReq, QpcResp};
use hca_rtl::tpt::{TptReq, TptResp};
use hca_rtl::transactor::Transactor;
use hca_transport::{PortResult, PortView, Ports};

/// The atomic unit, on whichever backend runs it.
pub type AtomicBackend = Box<dyn Transactor<Req = AtomicReq, Resp = AtomicResp> + Send>;
use std::sync::{Arc, Mutex};

/// One HCA port's place on a fabric.
#[derive(Clone)]
pub struct FabricPort {
    pub fabric: Arc<Mutex<Fabric>>,
    pub endpoint: EndpointId,
}

/// The transport engine's view of the device while it acts: the
/// firmware, the driver's memory, and the packets it sends (put on the
/// fabric when it is done).
pub struct DevicePorts<'a> {
    pub fw: &'a mut Firmware,
    pub atomic: &'a mut AtomicBackend,
    pub mem: &'a mut dyn HostMemory,
    pub tx: Vec<(u8, Vec<u8>)>,
    /// The fabric's time when the device began to act.
    pub now: u64,
    /// Wall time spent in the RTL blocks' requests so far.
    pub in_blocks: std::time::Duration,
}

impl DevicePorts<'_> {
    /// Run `f`, counting its wall time as the blocks'.
    fn block<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let t = std::time::Instant::now();
        let r = f(self);
        self.in_blocks += t.elapsed();
        r
    }
}

fn err<T>(r: hca_firmware::status::CmdResult<T>) -> PortResult<T> {
    r.map_err(|(s, why)| format!("{}: {why}", s.name()))
}

impl Ports for DevicePorts<'_> {
    fn qp(&mut self, qpn: u32) -> Option<(QpContext, MlxQpMailbox)> {
        self.block(|s| s.fw.qp_view(qpn, s.mem).map(|v| (v.ctx, v.mlx)))
    }

    fn qpc(&mut self, req: QpcReq) -> PortResult<QpcResp> {
        self.block(|s| err(s.fw.qpc_request(req, s.mem)))
    }

    fn tpt(&mut self, req: TptReq) -> PortResult<TptResp> {
        self.block(|s| err(s.fw.tpt_request(req, s.mem)))
    }

    fn mtt(&mut self, index: u32) -> PortResult<u64> {
        err(self.fw.mtt_entry(index, self.mem))
    }

    fn set_wqe_counters(&mut self, qpn: u32, sq: Option<u16>, rq: Option<u16>) -> PortResult<()> {
        err(self.fw.set_wqe_counters(qpn, sq, rq, self.mem))
    }

    fn atomic(&mut self, req: AtomicReq) -> PortResult<AtomicResp> {
        self.block(|s| {
            let mut r = s
                .atomic
                .transact(&[req], &mut hca_abi::memory::NoMemory::default())
                .map_err(|e| format!("atomic unit: {e}"))?;
            r.pop()
                .ok_or_else(|| "the atomic unit gave no response".to_string())
        })
    }

    fn complete(&mut self, cqn: u32, cqe: Cqe, solicited: bool) -> PortResult<u8> {
        let req = hca_rtl::cq::CqReq::Complete {
            cqn,
            cqe,
            solicited,
        };
        self.block(|s| err(s.fw.cq_request(req, s.mem)))
    }

    fn event(&mut self, eqe: Eqe) -> PortResult<()> {
        err(self.fw.post_event(eqe, self.mem))
    }

    fn dma_read(&mut self, addr: u64, buf: &mut [u8]) -> PortResult<()> {
        self.mem.read(addr, buf).map_err(|e| e.to_string())
    }

    fn dma_write(&mut self, addr: u64, data: &[u8]) -> PortResult<()> {
        self.mem.write(addr, data).map_err(|e| e.to_string())
    }

    fn port(&self, n: u8) -> PortView {
        let Some(s) = self.fw.port_sma(n) else {
            return PortView::default();
        };
        PortView {
            lid: s.lid,
            lmc: s.lmc,
            active: s.active(),
            trained: s.trained,
            gid_prefix: if s.gid_prefix != 0 {
                s.gid_prefix
            } else {
                hca_firmware::mad::DEFAULT_GID_PREFIX
            },
            guid: self.fw.port_guid(n),
        }
    }

    fn mcg_members(&mut self, gid: &[u8; 16]) -> Vec<(u32, bool)> {
        self.fw.mcg_members(gid, self.mem)
    }

    fn special_qp_base(&self) -> u32 {
        self.fw.special_qp_base()
    }

    fn now(&self) -> u64 {
        self.now
    }

    fn transmit(&mut self, n: u8, packet: Vec<u8>) {
        self.tx.push((n, packet));
    }
}
