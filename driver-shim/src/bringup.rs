//! Bring-up and teardown in mlx4's order (main.c: mlx4_load_one,
//! mlx4_init_hca, mlx4_setup_hca; mlx4_remove_one): reset, the firmware
//! started, the capabilities read, ICM sized from the profile and its
//! tables mapped, INIT_HCA, the number allocators, MSI-X, the EQs, the
//! switch to event mode once the NOP interrupt test passed, the special
//! QPs and the ports; and back down, every page returned.

use crate::alloc::{Bitmap, Buddy};
use crate::cmd::Mode;
use crate::device::{Allocators, Device, Hca};
use crate::eq::async_event_mask;
use crate::error::{Error, Result};
use crate::icm::IcmTables;
use crate::profile;
use hca_abi::bar0;
use hca_abi::opcode as op;
use hca_abi::pci::PciFunction;
use std::collections::BTreeMap;

/// ConnectX-3's ids, as mlx4_core's table has them.
pub const VENDOR: u16 = 0x15b3;
pub const DEVICE: u16 = 0x1003;
/// The special QPs (QP0 and QP1 of each port) take 8 QPNs.
const SPECIAL_QPS: u32 = 8;

/// What bring-up found.
#[derive(Clone, Debug)]
pub struct BringUp {
    pub board_id: String,
    pub fw_version: String,
    pub ports: u8,
    pub icm_size: u64,
    pub vectors: u16,
    pub special_qp_base: u32,
}

impl<P: PciFunction> Device<P> {
    /// Bring the HCA up from reset. On failure what was set up is taken
    /// down again, and the error says which step failed.
    pub fn bring_up(&mut self) -> Result<BringUp> {
        if self.hca.is_some() {
            return Err(Error::Device("already up".into()));
        }
        match self.bring_up_steps() {
            Ok(b) => Ok(b),
            Err(e) => {
                let _ = self.tear_down();
                Err(e)
            }
        }
    }

    fn bring_up_steps(&mut self) -> Result<BringUp> {
        let (vendor, device) = self.bus.ids();
        if (vendor, device) != (VENDOR, DEVICE) {
            return Err(Error::Device(format!(
                "ids {vendor:04x}:{device:04x} (the driver takes {VENDOR:04x}:{DEVICE:04x})"
            )));
        }
        self.bus.enable();
        self.reset()?;
        let fw = self.query_fw()?;
        self.start_fw(fw.fw_pages)?;
        self.fw = Some(fw.clone());
        let caps = self.query_dev_cap()?;
        self.caps = Some(caps);
        let layout = profile::layout(&self.profile, &caps)?;
        self.map_aux(layout.icm_size)?;
        let p = &self.profile;
        let rsvd_qps = 1u32 << caps.log_rsvd_qps;
        let special = rsvd_qps.next_multiple_of(SPECIAL_QPS);
        let num_eqs = 1u32 << caps.log_max_eqs;
        let rsvd_eqs = 1u32 << caps.log_rsvd_eqs;
        let mut mtt = Buddy::new(p.log_num_mtts as u32);
        mtt.reserve(1 << caps.log_rsvd_mtts)
            .ok_or(Error::NoResources("MTT entries"))?;
        self.hca = Some(Hca {
            init: layout.init,
            icm: IcmTables::new(&layout),
            alloc: Allocators {
                uar: Bitmap::new(1 << layout.init.log_uar_sz, caps.rsvd_uars as u32, 0),
                pd: Bitmap::new(1 << caps.log_max_pds, caps.rsvd_pds as u32, 0),
                mpt: Bitmap::new(1 << p.log_num_mpts, 1 << caps.log_rsvd_mrws, 0),
                mtt,
                cq: Bitmap::new(1 << p.log_num_cqs, 1 << caps.log_rsvd_cqs, 0),
                srq: Bitmap::new(1 << p.log_num_srqs, 1 << caps.log_rsvd_srqs, 0),
                qp: Bitmap::new(1 << p.log_num_qps, special + SPECIAL_QPS, 0),
                amgm: Bitmap::new(
                    (1u32 << p.log_num_mcgs) - (1u32 << layout.init.log_mc_hash_sz),
                    0,
                    0,
                ),
            },
            uar: 0,
            eqs: Vec::new(),
            special_qp_base: special,
            pds: BTreeMap::new(),
            mrs: BTreeMap::new(),
            fmrs: BTreeMap::new(),
            fmr_pools: BTreeMap::new(),
            cqs: BTreeMap::new(),
            srqs: BTreeMap::new(),
            qps: BTreeMap::new(),
            ports_up: Vec::new(),
            mcast: Vec::new(),
        });
        // The tables mlx4 maps whole at start: the EQ contexts and the
        // multicast groups.
        let (eqc, mcg) = {
            let h = self.hca()?;
            (h.icm.get("EQC").spec.entries, h.icm.get("MCG").spec.entries)
        };
        self.icm_get_range("EQC", 0, eqc)?;
        self.icm_get_range("MCG", 0, mcg)?;
        self.cmd_in(op::INIT_HCA, 0, 0, &layout.init.encode())?;
        let board_id = self.query_adapter()?;
        let uar = self
            .hca()?
            .alloc
            .uar
            .alloc()
            .ok_or(Error::NoResources("UAR pages"))?;
        self.hca()?.uar = uar;

        // MSI-X: the async EQ on vector 0, one completion EQ per vector.
        let usable = num_eqs.saturating_sub(rsvd_eqs);
        let comp = (self.profile.comp_vectors as u32).min(usable.saturating_sub(1));
        if comp == 0 {
            return Err(Error::Device(format!(
                "{usable} EQs: none left for completions"
            )));
        }
        let vectors = 1 + comp as u16;
        self.bus.enable_msix(vectors)?;
        for k in 0..vectors {
            let eq = self.create_eq(rsvd_eqs + k as u32, k)?;
            self.hca()?.eqs.push(eq);
        }
        let async_eqn = rsvd_eqs;
        self.map_eq(async_eqn, async_event_mask(), false)?;
        // The interrupt test: a NOP by event must come back on vector 0.
        self.cmd.mode = Mode::Events;
        if let Err(e) = self.cmd_none(op::NOP, 0, 0, 0x1f) {
            self.cmd.mode = Mode::Polling;
            return Err(Error::Device(format!("the NOP interrupt test failed: {e}")));
        }
        self.cmd_none(op::CONF_SPECIAL_QP, 0, 0, special)?;
        for port in 1..=caps.num_ports {
            self.query_port(port)?;
            self.init_port(port)?;
        }
        let fw = self.fw.as_ref().expect("queried");
        Ok(BringUp {
            board_id,
            fw_version: fw.version_string(),
            ports: caps.num_ports,
            icm_size: layout.icm_size,
            vectors,
            special_qp_base: special,
        })
    }

    /// mlx4_reset: take the semaphore, reset, and start the command
    /// interface afresh (polling, toggle 1).
    fn reset(&mut self) -> Result<()> {
        if self.bus.read_be32(bar0::SEMAPHORE) != 0 {
            return Err(Error::Device("the hardware semaphore is taken".into()));
        }
        self.bus.write_be32(bar0::RESET, bar0::RESET_VALUE);
        self.cmd.reset();
        let (vendor, _) = self.bus.ids();
        if vendor != VENDOR {
            return Err(Error::Device(
                "the device did not come back from reset".into(),
            ));
        }
        Ok(())
    }

    /// Take everything down: the objects still held, the ports, the EQs,
    /// MSI-X, CLOSE_HCA, ICM, the firmware area. Every step is tried; the
    /// first error is returned.
    pub fn tear_down(&mut self) -> Result<()> {
        let mut r: Result<()> = Ok(());
        if self.hca.is_some() {
            r = r.and(self.destroy_all_objects());
            let ports = self.hca()?.ports_up.clone();
            for p in ports {
                r = r.and(self.close_port(p));
            }
            if self.hca()?.special_qp_base != 0 {
                r = r.and(self.cmd_none(op::CONF_SPECIAL_QP, 0, 0, 0).map(|_| ()));
            }
            // Back to polling before the EQs go (mlx4_unload_one): the
            // unmap takes command completions off the async EQ.
            self.cmd.mode = Mode::Polling;
            if let Some(eqn) = self.hca()?.eqs.first().map(|e| e.eqn) {
                r = r.and(self.map_eq(eqn, async_event_mask(), true));
            }
            let eqs = std::mem::take(&mut self.hca()?.eqs);
            for eq in eqs {
                r = r.and(self.destroy_eq(eq));
            }
            self.bus.disable_msix();
            r = r.and(self.cmd_none(op::CLOSE_HCA, 0, 0, 0).map(|_| ()));
            r = r.and(self.icm_unmap_all());
            self.hca = None;
        }
        self.cmd.mode = Mode::Polling;
        if !self.aux.is_empty() {
            r = r.and(self.unmap_aux());
        }
        if !self.fa.is_empty() {
            r = r.and(self.stop_fw());
        }
        self.caps = None;
        r
    }

    /// Destroy every object the driver still holds, users first.
    fn destroy_all_objects(&mut self) -> Result<()> {
        let mut r = Ok(());
        let h = self.hca()?;
        let qps: Vec<_> = h
            .qps
            .iter()
            .map(|(q, o)| crate::qp::Qp {
                qpn: *q,
                qp_type: o.qp_type,
            })
            .collect();
        let srqs: Vec<_> = h
            .srqs
            .keys()
            .map(|s| crate::srq::Srq {
                srqn: *s,
                max_wr: 0,
                max_sge: 0,
            })
            .collect();
        let cqs: Vec<_> = h
            .cqs
            .keys()
            .map(|c| crate::cq::Cq {
                cqn: *c,
                entries: 0,
                comp_vector: 0,
            })
            .collect();
        let pools: Vec<_> = h
            .fmr_pools
            .iter()
            .map(|(id, p)| crate::fmr::FmrPool {
                id: *id,
                max_pages: p.max_pages,
            })
            .collect();
        let mrs: Vec<_> = h
            .mrs
            .values()
            .map(|m| crate::mr::Mr {
                lkey: m.key,
                rkey: m.key,
                iova: 0,
                len: 0,
            })
            .collect();
        let pds: Vec<_> = h.pds.keys().map(|p| crate::pd::Pd { pdn: *p }).collect();
        for q in qps {
            r = r.and(self.destroy_qp(&q));
        }
        for s in srqs {
            r = r.and(self.destroy_srq(&s));
        }
        for c in cqs {
            r = r.and(self.destroy_cq(&c));
        }
        for p in pools {
            r = r.and(self.destroy_fmr_pool(&p));
        }
        for m in mrs {
            r = r.and(self.dereg_mr(&m));
        }
        for p in pds {
            r = r.and(self.dealloc_pd(&p));
        }
        r
    }

    /// What the driver still holds: objects by kind, ICM chunks mapped,
    /// host memory in use (the command mailboxes stay).
    pub fn resources(&self) -> Resources {
        let h = self.hca.as_ref();
        Resources {
            pds: h.map_or(0, |h| h.pds.len()),
            mrs: h.map_or(0, |h| h.mrs.len()),
            fmrs: h.map_or(0, |h| h.fmrs.len()),
            cqs: h.map_or(0, |h| h.cqs.len()),
            srqs: h.map_or(0, |h| h.srqs.len()),
            qps: h.map_or(0, |h| h.qps.len()),
            icm_chunks: h.map_or(0, |h| h.icm.mapped_chunks()),
            mtt_entries: h.map_or(0, |h| h.alloc.mtt.in_use()),
            mcast_attachments: h.map_or(0, |h| h.mcast.len()),
            dma_bytes: self.bus.mem.in_use(),
        }
    }
}

/// Counts of what the driver holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    pub pds: usize,
    pub mrs: usize,
    pub fmrs: usize,
    pub cqs: usize,
    pub srqs: usize,
    pub qps: usize,
    pub icm_chunks: usize,
    pub mtt_entries: u64,
    pub mcast_attachments: usize,
    pub dma_bytes: u64,
}
