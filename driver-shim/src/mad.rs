//! Local management datagrams (mlx4_ib's mad.c): MAD_IFC hands the
//! firmware's subnet management agent an SMP for one of this HCA's ports
//! and returns its answer. mlx4_ib asks its port's PortInfo this way, and
//! a subnet manager running on this host reaches its own port so (ib_mad
//! loops its local directed-route SMPs back into MAD_IFC).

use crate::device::Device;
use crate::error::{Error, Result};
use hca_abi::cmd::mad::{
    MadHeader, PortInfo, ATTR_PORT_INFO, CLASS_SUBN_DIRECTED_ROUTE, MAD_BYTES, METHOD_GET,
    METHOD_SET, SMP_DATA, STATUS_DIRECTION,
};
use hca_abi::opcode as op;
use hca_abi::pci::PciFunction;

/// MAD_IFC's op modifier: ignore the M_Key and the B_Key (no work
/// completion: the MAD is local).
const IGNORE_KEYS: u8 = 0x3;

impl<P: PciFunction> Device<P> {
    /// MAD_IFC: `mad` (at most 256 bytes) to port `port`'s agent; its
    /// 256-byte answer.
    pub fn mad_ifc(&mut self, port: u8, mad: &[u8]) -> Result<Vec<u8>> {
        let mut out = self.cmd_box(op::MAD_IFC, IGNORE_KEYS, port as u32, Some(mad))?;
        out.truncate(MAD_BYTES);
        Ok(out)
    }

    /// One directed-route SMP to this HCA's own port (hop count 0): the
    /// answer's 64 data bytes, or the MAD status as an error.
    pub(crate) fn local_smp(
        &mut self,
        port: u8,
        method: u8,
        attr: u16,
        attr_mod: u32,
        data: &[u8],
    ) -> Result<Vec<u8>> {
        let h = MadHeader {
            base_version: 1,
            mgmt_class: CLASS_SUBN_DIRECTED_ROUTE,
            class_version: 1,
            method,
            tid: 1,
            attr_id: attr,
            attr_mod,
            ..Default::default()
        };
        let mut m = vec![0u8; MAD_BYTES];
        m[..64].copy_from_slice(&h.encode());
        let n = data.len().min(64);
        m[SMP_DATA..SMP_DATA + n].copy_from_slice(&data[..n]);
        let r = self.mad_ifc(port, &m)?;
        let status = u16::from_be_bytes([r[4], r[5]]) & !STATUS_DIRECTION;
        if status != 0 {
            return Err(Error::Mad { attr, status });
        }
        Ok(r[SMP_DATA..SMP_DATA + 64].to_vec())
    }

    /// The port's PortInfo, as mlx4_ib's query_port asks it.
    pub fn port_info(&mut self, port: u8) -> Result<PortInfo> {
        let d = self.local_smp(port, METHOD_GET, ATTR_PORT_INFO, port as u32, &[])?;
        Ok(PortInfo::decode(&d))
    }

    /// SubnSet(PortInfo) to this HCA's own port, as a subnet manager on
    /// this host sets it: the PortInfo after the Set.
    pub fn set_port_info(&mut self, port: u8, pi: &PortInfo) -> Result<PortInfo> {
        let d = self.local_smp(port, METHOD_SET, ATTR_PORT_INFO, port as u32, &pi.encode())?;
        Ok(PortInfo::decode(&d))
    }

    /// What a subnet manager running on this host does to its own port
    /// (until one sweeps the fabric): LID `lid` (master SM `sm_lid`), then
    /// ARMED, then ACTIVE, each a SubnSet(PortInfo) through MAD_IFC. The
    /// device posts PORT_CHANGE when the port goes ACTIVE. Returns the
    /// PortInfo at the end.
    pub fn activate_port(&mut self, port: u8, lid: u16, sm_lid: u16) -> Result<PortInfo> {
        let mut pi = PortInfo {
            lid,
            master_sm_lid: sm_lid,
            ..Default::default()
        };
        let mut last = self.set_port_info(port, &pi)?;
        for state in [3, 4] {
            pi.port_state = state;
            last = self.set_port_info(port, &pi)?;
        }
        self.service_interrupts();
        Ok(last)
    }
}
