//! What the firmware lends the transport engine, which runs beside it in
//! the device: the send doorbells the UAR pages caught, each QP's context
//! (the QPC block's words and the rest mlx4 sent, from the QP's ICM
//! entry), the QPC block's data-path requests (PSNs, retries, errors),
//! the MTT entries through which a queue's buffer is found, the ports'
//! subnet state, and asynchronous events posted to the EQ mapped for
//! them.

use crate::hostmem::HostMemory;
use crate::icm::window::IcmWindow;
use crate::status::CmdResult;
use crate::Firmware;
use hca_abi::cmd::qp::MlxQpMailbox;
use hca_abi::entries::eqe::event;
use hca_abi::memory::BlockMemory;
use hca_rtl::cq::Eqe;
use hca_rtl::qpc::{layout::QpContext, QpcReq, QpcResp, MASK24};

use hca_abi::wqe::SEND_DOORBELL;

/// The MTT's number among the TPT's tables.
const MTT: u8 = hca_rtl::tpt::MTT_TABLE;

/// In [`Firmware::take_qp_changes`]: every QP.
pub const ALL_QPS: u32 = u32::MAX;

/// A QP as the transport engine needs it: the block's state and
/// sequence numbers, and the rest of mlx4's context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QpView {
    pub ctx: QpContext,
    pub mlx: MlxQpMailbox,
}

impl Firmware {
    /// A write to a UAR page's send doorbell: the be32 `qpn << 8`.
    pub(crate) fn send_doorbell(&mut self, o: u64, data: &[u8]) -> bool {
        if o != SEND_DOORBELL || data.len() != 4 {
            return false;
        }
        let qpn = u32::from_be_bytes(data.try_into().expect("4 bytes")) >> 8;
        self.send_doorbells.push(qpn & MASK24);
        true
    }

    /// The QPs whose state a command changed since the last call
    /// ([`ALL_QPS`]: every one, back to RESET at CLOSE_HCA or a device
    /// reset).
    pub fn take_qp_changes(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.qp_changes)
    }

    /// The QPNs whose send doorbell rang since the last call.
    pub fn take_send_doorbells(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.send_doorbells)
    }

    /// QP `qpn` as the transport engine sees it; `None` for a QP in
    /// RESET, outside the table, or in no mapped ICM.
    pub fn qp_view(&mut self, qpn: u32, mem: &mut dyn HostMemory) -> Option<QpView> {
        self.state.hca.as_ref()?;
        let qpn = qpn & MASK24;
        if !self.qpc_block.live_qps().contains(&qpn) {
            return None;
        }
        let tables = self.qpc_tables();
        let mut w = IcmWindow::new(&self.state.icm, &tables, mem);
        let ctx = self.qpc_block.query(qpn, &mut w).ok()?.ctx;
        let mlx = crate::qp::read_copy(&mut w, qpn);
        w.take_fault().is_none().then_some(QpView { ctx, mlx })
    }

    /// Keep the transport engine's WQE counters in the QP's context, where
    /// mlx4's QPC has them (`sq_wqe_counter`, `rq_wqe_counter`; QUERY_QP
    /// reports them, 2RST_QP zeroes them).
    pub fn set_wqe_counters(
        &mut self,
        qpn: u32,
        sq: Option<u16>,
        rq: Option<u16>,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<()> {
        self.require_hca()?;
        let tables = self.qpc_tables();
        let mut w = IcmWindow::new(&self.state.icm, &tables, mem);
        let mut m = crate::qp::read_copy(&mut w, qpn & MASK24);
        if let Some(s) = sq {
            m.sq_wqe_counter = s;
        }
        if let Some(r) = rq {
            m.rq_wqe_counter = r;
        }
        crate::qp::write_copy(&mut w, qpn & MASK24, &m);
        crate::icm::window::check(&mut w, "QPC")
    }

    /// One data-path request to the QPC block (SEND_PSN, RECV_PSN, RETRY,
    /// ACK, SEND_ERROR); its response whatever the block's status.
    pub fn qpc_request(&mut self, req: QpcReq, mem: &mut dyn HostMemory) -> CmdResult<QpcResp> {
        self.require_hca()?;
        let tables = self.qpc_tables();
        let mut w = IcmWindow::new(&self.state.icm, &tables, mem);
        self.qpc_block.request(req, &mut w)
    }

    /// MTT entry `index` (a page's DMA address, bit 0 "present").
    pub fn mtt_entry(&mut self, index: u32, mem: &mut dyn HostMemory) -> CmdResult<u64> {
        self.require_hca()?;
        let tables = self.tpt_tables();
        let mut w = IcmWindow::new(&self.state.icm, &tables, mem);
        let e = w.icm_read(MTT, index & MASK24, 0);
        crate::icm::window::check(&mut w, "MTT")?;
        Ok(e)
    }

    /// Post an asynchronous event (a QP's error, COMM_EST, SQ drained) to
    /// the EQ mapped for its type; the EQ's vector is raised.
    pub fn post_event(&mut self, eqe: Eqe, mem: &mut dyn HostMemory) -> CmdResult<()> {
        self.require_hca()?;
        let p = self
            .cq_block
            .post_eqe(eqe, crate::icm::tables::cq_at!(self), mem)?;
        self.interrupts.extend(p.vectors);
        Ok(())
    }

    /// Post mlx4's PORT_CHANGE for port `n` (the port in bits 31..28 of
    /// the EQE's word at 0x0c).
    pub(crate) fn port_change(
        &mut self,
        n: u8,
        subtype: u8,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<()> {
        if self.state.hca.is_none() {
            return Ok(());
        }
        let eqe = Eqe {
            event_type: event::PORT_CHANGE,
            subtype,
            d0: 0,
            d1: 0,
            d2: (n as u32) << 28,
            d3: 0,
            owner: false,
        };
        self.post_event(eqe, mem)
    }

    /// Post the port changes that happened while the firmware had no
    /// memory to write them to (a link coming or going).
    pub fn flush_port_changes(&mut self, mem: &mut dyn HostMemory) {
        for (n, subtype) in std::mem::take(&mut self.pending_port_changes) {
            if self.port_change(n, subtype, mem).is_err() {
                self.lost_events += 1;
            }
        }
    }

    /// Whether a data packet may leave or enter port `n`: its link
    /// trained and the subnet manager took it to ACTIVE.
    pub fn port_active(&self, n: u8) -> bool {
        self.port_sma(n).is_some_and(|p| p.active())
    }
}
