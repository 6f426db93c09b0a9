//! The firmware of one HCA: what it holds (the bring-up state, the
//! capabilities, the blocks it drives, the command trace, the interrupts
//! raised) and the UAR pages, where the doorbells are. The HCR and the
//! dispatcher are `cmd.rs`'s; each command's handler is in the file of its
//! object.

use crate::bar0;
use crate::blocks::cq::{CqBackend, CqBlock};
use crate::blocks::qpc::{QpcBackend, QpcBlock};
use crate::blocks::tpt::{TptBackend, TptBlock};
use crate::caps;
use crate::hca::{InitHca, Layout, TransportErrors};
use crate::hostmem::HostMemory;
use crate::icm::{IcmMap, PagePool};
use crate::port::{PortConfig, NUM_PORTS};
use crate::trace::CommandRecord;

/// Where the device is in bring-up.
#[derive(Clone, Debug, Default)]
pub(crate) struct State {
    /// The firmware area (MAP_FA).
    pub(crate) fa: PagePool,
    /// RUN_FW done.
    pub(crate) running: bool,
    /// SET_ICM_SIZE's size (the auxiliary pages it asks for follow from it).
    pub(crate) icm_size: Option<u64>,
    pub(crate) aux: PagePool,
    pub(crate) icm: IcmMap,
    /// INIT_HCA's layout, while the HCA is initialised.
    pub(crate) hca: Option<(InitHca, Layout)>,
    /// CONF_SPECIAL_QP's base: QPs base..base+8 are the special QPs
    /// (QP0 and QP1 of each port); 0 when none.
    pub(crate) special_qp_base: u32,
    /// SET_PORT's settings, per port (index 0 is port 1).
    pub(crate) ports: [PortConfig; NUM_PORTS as usize],
    /// Transport error counters (DIAG_RPRT): the device's and each
    /// port's. Nothing counts them until the transport engine lands.
    pub(crate) transport_errors: [TransportErrors; 1 + NUM_PORTS as usize],
    /// The SRQs the hardware owns (their contexts are in ICM).
    pub(crate) hw_srqs: std::collections::BTreeSet<u32>,
    /// What the subnet manager set on each port (index 0 is port 1).
    pub(crate) sma: [crate::sma::PortSma; NUM_PORTS as usize],
}

/// The firmware of one HCA.
pub struct Firmware {
    pub(crate) hcr: [u32; 7],
    pub(crate) owner_taken: bool,
    pub(crate) semaphore_taken: bool,
    pub(crate) state: State,
    pub(crate) caps: caps::QueryDevCapOut,
    pub(crate) seq: u64,
    pub(crate) trace: Vec<CommandRecord>,
    /// MSI-X vectors raised and not yet taken by the PCI device.
    pub(crate) interrupts: Vec<u16>,
    /// The CQ/EQ engine, and which CQs and EQs it holds.
    pub(crate) cq_block: CqBlock,
    /// The TPT, and which MPT entries it holds.
    pub(crate) tpt_block: TptBlock,
    /// The QP context block, and which QPs are out of RESET.
    pub(crate) qpc_block: QpcBlock,
    /// UAR writes that were no doorbell the device knows.
    pub stray_uar_writes: u64,
    /// Whether each port has a fabric link (physical, so kept across
    /// resets).
    pub(crate) links: [bool; NUM_PORTS as usize],
    /// PORT_CHANGE events waiting to be posted: (port, subtype).
    pub(crate) pending_port_changes: Vec<(u8, u8)>,
    /// Asynchronous events that found no EQ to go to.
    pub lost_events: u64,
    /// QPNs whose send doorbell rang, oldest first, for the transport
    /// engine.
    pub(crate) send_doorbells: Vec<u32>,
    /// QPs whose state a command changed (or [`crate::datapath::ALL_QPS`]),
    /// for the transport engine: it forgets a QP back in RESET, flushes one
    /// in ERR, and walks the send queue of one back in RTS.
    pub(crate) qp_changes: Vec<u32>,
    /// The node GUID (each simulated HCA on a fabric needs its own: the
    /// subnet manager tells ports apart by their GUIDs).
    pub(crate) node_guid: u64,
}

/// The blocks the firmware drives, each on its backend (by default, the
/// models).
pub struct Engines {
    pub cq: CqBackend,
    pub tpt: TptBackend,
    pub qpc: QpcBackend,
}

impl Default for Engines {
    fn default() -> Self {
        Engines {
            cq: Box::new(hca_rtl::cq::CqModel::new()),
            tpt: Box::new(hca_rtl::tpt::TptModel::new(crate::blocks::tpt::MODEL_LINES)),
            qpc: Box::new(hca_rtl::qpc::QpcModel::new()),
        }
    }
}

impl Default for Firmware {
    fn default() -> Self {
        Self::new()
    }
}

impl Firmware {
    /// Firmware with the CQ/EQ engine's behavioral model.
    pub fn new() -> Self {
        Self::with_engine(Box::new(hca_rtl::cq::CqModel::new()))
    }

    /// Firmware driving the CQ/EQ engine on another backend (the RTL in
    /// rust-hdl or Verilator, from `sim/`), and the other blocks' models.
    pub fn with_engine(engine: CqBackend) -> Self {
        Self::with_engines(Engines {
            cq: engine,
            ..Engines::default()
        })
    }

    /// Firmware driving its blocks on given backends.
    pub fn with_engines(e: Engines) -> Self {
        Firmware {
            hcr: [0; 7],
            owner_taken: false,
            semaphore_taken: false,
            state: State::default(),
            caps: caps::device_caps(),
            seq: 0,
            trace: Vec::new(),
            interrupts: Vec::new(),
            cq_block: CqBlock::new(e.cq),
            tpt_block: TptBlock::new(e.tpt),
            qpc_block: QpcBlock::new(e.qpc),
            stray_uar_writes: 0,
            links: [false; NUM_PORTS as usize],
            pending_port_changes: Vec::new(),
            lost_events: 0,
            send_doorbells: Vec::new(),
            qp_changes: Vec::new(),
            node_guid: caps::NODE_GUID,
        }
    }

    /// The backend the CQ/EQ engine runs on, and its cycles so far.
    pub fn engine(&self) -> (&'static str, u64) {
        (self.cq_block.backend(), self.cq_block.cycles())
    }

    /// The internal clock (`bar0::CLOCK_BASE`): the cycles the blocks have
    /// run since power-on. The firmware runs one block at a time, so their
    /// sum is the time the device spent on commands and doorbells; the
    /// behavioral models are untimed and add nothing.
    pub fn clock(&self) -> u64 {
        self.cq_block.cycles() + self.tpt_block.cycles() + self.qpc_block.cycles()
    }

    /// Everything a command may change, as text: tests compare it before
    /// and after a refused command.
    pub fn state_digest(&self) -> String {
        format!(
            "{:?} hw_eqs={:?} hw_cqs={:?} hw_mpts={:?} live_qps={:?}",
            self.state,
            self.cq_block.hw_eqs(),
            self.cq_block.hw_cqs(),
            self.tpt_block.hw_mpts(),
            self.qpc_block.live_qps()
        )
    }

    /// The capabilities QUERY_DEV_CAP reports.
    pub fn caps(&self) -> &caps::QueryDevCapOut {
        &self.caps
    }

    /// Whether RUN_FW has run (and no reset or UNMAP_FA since).
    pub fn running(&self) -> bool {
        self.state.running
    }

    /// The ICM layout, while the HCA is initialised.
    pub fn layout(&self) -> Option<&Layout> {
        self.state.hca.as_ref().map(|(_, l)| l)
    }

    /// ICM pages mapped.
    pub fn icm_pages(&self) -> u64 {
        self.state.icm.pages()
    }

    /// The host address of an ICM address, if mapped.
    pub fn icm_translate(&self, icm: u64) -> Option<u64> {
        self.state.icm.translate(icm)
    }

    /// Take the records of the commands completed since the last call.
    pub fn take_trace(&mut self) -> Vec<CommandRecord> {
        std::mem::take(&mut self.trace)
    }

    /// MSI-X vectors raised since the last call.
    pub fn take_interrupts(&mut self) -> Vec<u16> {
        std::mem::take(&mut self.interrupts)
    }

    /// A write to BAR2, the UAR pages: an EQ doorbell (`eq.rs`), a CQ arm
    /// doorbell (`cq.rs`), or a stray write, counted.
    pub fn uar_write(&mut self, offset: u64, data: &[u8], mem: &mut dyn HostMemory) {
        let (page, o) = (offset / bar0::UAR_PAGE, offset % bar0::UAR_PAGE);
        if !self.eq_doorbell(page, o, data, mem)
            && !self.cq_doorbell(o, data, mem)
            && !self.send_doorbell(o, data)
        {
            self.stray_uar_writes += 1;
        }
    }

    /// Back to power-on: every mapping dropped, HCR idle with T = 0.
    pub(crate) fn reset(&mut self) {
        // A block that cannot be reset is wedged for good; the next
        // command that needs it fails with the reason.
        let _ = self.cq_block.clear();
        let _ = self.tpt_block.clear();
        let _ = self.qpc_block.clear();
        self.state = State::default();
        self.hcr = [0; 7];
        self.semaphore_taken = false;
        self.owner_taken = false;
        self.send_doorbells.clear();
        self.qp_changes.push(crate::datapath::ALL_QPS);
        for n in 1..=NUM_PORTS {
            self.retrain(n);
        }
    }
}
