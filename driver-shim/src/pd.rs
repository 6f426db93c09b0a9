//! Protection domains and UAR pages (mlx4's pd.c): numbers from bitmaps,
//! nothing sent to the device; contexts name them.

use crate::device::Device;
use crate::error::{Error, Result};
use hca_abi::pci::PciFunction;

/// A protection domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pd {
    pub pdn: u32,
}

impl<P: PciFunction> Device<P> {
    pub fn alloc_pd(&mut self) -> Result<Pd> {
        let h = self.hca()?;
        let pdn = h.alloc.pd.alloc().ok_or(Error::NoResources("PDs"))?;
        h.pds.insert(pdn, ());
        Ok(Pd { pdn })
    }

    /// Free a PD no MR, FMR, SRQ or QP uses.
    pub fn dealloc_pd(&mut self, pd: &Pd) -> Result<()> {
        self.check_pd(pd)?;
        let h = self.hca()?;
        let users = h.mrs.values().filter(|m| m.pd == pd.pdn).count()
            + h.fmrs.values().filter(|f| f.pd == pd.pdn).count()
            + h.srqs.values().filter(|s| s.pd == pd.pdn).count()
            + h.qps.values().filter(|q| q.pd == pd.pdn).count();
        if users > 0 {
            return Err(Error::InUse(format!(
                "PD {:#x} has {users} objects",
                pd.pdn
            )));
        }
        h.pds.remove(&pd.pdn);
        h.alloc.pd.free(pd.pdn);
        Ok(())
    }

    pub(crate) fn check_pd(&mut self, pd: &Pd) -> Result<()> {
        if !self.hca()?.pds.contains_key(&pd.pdn) {
            return Err(Error::NoSuchObject {
                what: "PD",
                id: pd.pdn,
            });
        }
        Ok(())
    }
}
