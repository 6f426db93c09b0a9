//! The driver's device: the PCI function it owns and everything it keeps
//! of the HCA between bring-up and teardown (mlx4's `struct mlx4_dev` and
//! `mlx4_priv`). Each object's file adds its part of the API in its own
//! `impl` block: `fw.rs`, `icm.rs`, `eq.rs`, `port.rs`, `pd.rs`, `mr.rs`,
//! `fmr.rs`, `cq.rs`, `srq.rs`, `qp.rs`, `mcg.rs`; `bringup.rs` walks
//! them in mlx4's order.

use crate::alloc::{Bitmap, Buddy};
use crate::cmd::CmdState;
use crate::cq::CqObj;
use crate::dma::{DmaMemory, DMA_SIZE};
use crate::eq::{EqObj, EventLog};
use crate::error::Result;
use crate::fmr::FmrObj;
use crate::fw::FwInfo;
use crate::icm::IcmTables;
use crate::mr::MrObj;
use crate::pci::Bus;
use crate::profile::Profile;
use crate::qp::QpObj;
use crate::srq::SrqObj;
use hca_abi::cmd::caps::QueryDevCapOut;
use hca_abi::cmd::init_hca::InitHca;
use hca_abi::pci::PciFunction;
use std::collections::BTreeMap;

/// The number allocators of an initialised HCA.
pub(crate) struct Allocators {
    pub uar: Bitmap,
    pub pd: Bitmap,
    pub mpt: Bitmap,
    pub mtt: Buddy,
    pub cq: Bitmap,
    pub srq: Bitmap,
    pub qp: Bitmap,
    /// The MCG table's entries past the hash table (AMGM).
    pub amgm: Bitmap,
}

impl Allocators {
    pub fn amgm_total(&self) -> u32 {
        self.amgm.capacity()
    }
}

/// What exists between INIT_HCA and CLOSE_HCA.
pub(crate) struct Hca {
    pub init: InitHca,
    pub icm: IcmTables,
    pub alloc: Allocators,
    /// The driver's own UAR page (its doorbells).
    pub uar: u32,
    pub eqs: Vec<EqObj>,
    /// The first special QP (CONF_SPECIAL_QP).
    pub special_qp_base: u32,
    pub pds: BTreeMap<u32, ()>,
    pub mrs: BTreeMap<u32, MrObj>,
    pub fmrs: BTreeMap<u32, FmrObj>,
    pub fmr_pools: BTreeMap<u32, crate::fmr::PoolObj>,
    pub cqs: BTreeMap<u32, CqObj>,
    pub srqs: BTreeMap<u32, SrqObj>,
    pub qps: BTreeMap<u32, QpObj>,
    pub ports_up: Vec<u8>,
    /// Multicast attachments: (QPN, GID).
    pub mcast: Vec<(u32, crate::mcg::Gid)>,
}

/// One HCA as the driver holds it.
pub struct Device<P: PciFunction> {
    pub(crate) bus: Bus<P>,
    pub(crate) cmd: CmdState,
    pub(crate) profile: Profile,
    pub(crate) fw: Option<FwInfo>,
    pub(crate) fa: Vec<crate::dma::DmaBuf>,
    pub(crate) caps: Option<QueryDevCapOut>,
    pub(crate) aux: Vec<crate::dma::DmaBuf>,
    pub(crate) hca: Option<Hca>,
    pub(crate) events: EventLog,
    /// The tag each MPT index carried last, so a reused index gets a new
    /// key (kept across bring-ups).
    pub(crate) mpt_tags: BTreeMap<u32, u8>,
}

impl<P: PciFunction> Device<P> {
    /// The driver on `dev`, with `profile`, its host memory of the
    /// default size. Nothing is sent to the device until
    /// [`Device::bring_up`].
    pub fn new(dev: P, profile: Profile) -> Result<Device<P>> {
        let mut mem = DmaMemory::new(DMA_SIZE);
        let inbox = mem.alloc(4096, 4096)?;
        let outbox = mem.alloc(4096, 4096)?;
        Ok(Device {
            bus: Bus::new(dev, mem),
            cmd: CmdState::new(inbox, outbox),
            profile,
            fw: None,
            fa: Vec::new(),
            caps: None,
            aux: Vec::new(),
            hca: None,
            events: EventLog::default(),
            mpt_tags: BTreeMap::new(),
        })
    }

    /// The PCI function (tests reach the device model through it).
    pub fn pci(&mut self) -> &mut P {
        &mut self.bus.dev
    }

    /// The driver's host memory (what the device reaches by DMA).
    pub fn memory(&mut self) -> &mut DmaMemory {
        &mut self.bus.mem
    }

    /// The memory and the PCI function together, for a test that lets the
    /// device act on the driver's memory.
    pub fn pci_and_memory(&mut self) -> (&mut P, &mut DmaMemory) {
        (&mut self.bus.dev, &mut self.bus.mem)
    }

    /// Mask or unmask an MSI-X vector (the kernel's irq mask).
    pub fn mask_vector(&mut self, vector: u16, masked: bool) {
        self.bus.mask_vector(vector, masked);
    }

    /// QUERY_DEV_CAP's answer, after bring-up began.
    pub fn caps(&self) -> Option<&QueryDevCapOut> {
        self.caps.as_ref()
    }

    /// QUERY_FW's answer, after bring-up began.
    pub fn fw_info(&self) -> Option<&FwInfo> {
        self.fw.as_ref()
    }

    /// The parameters INIT_HCA was given, while the HCA is initialised:
    /// the ICM layout the profile made (each table's base and log2 size).
    pub fn init_hca(&self) -> Option<&InitHca> {
        self.hca.as_ref().map(|h| &h.init)
    }

    /// Whether the HCA is initialised (between INIT_HCA and CLOSE_HCA).
    pub fn is_up(&self) -> bool {
        self.hca.is_some()
    }

    pub(crate) fn hca(&mut self) -> Result<&mut Hca> {
        self.hca
            .as_mut()
            .ok_or_else(|| crate::Error::Device("the HCA is not initialised".into()))
    }
}
