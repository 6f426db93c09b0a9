//! Ports (mlx4's port.c): QUERY_PORT, INIT_PORT and CLOSE_PORT.

use crate::device::Device;
use crate::error::{Error, Result};
use hca_abi::cmd::caps::QueryPortOut;
use hca_abi::opcode as op;
use hca_abi::pci::PciFunction;

impl<P: PciFunction> Device<P> {
    fn port_ok(&self, port: u8) -> Result<()> {
        let n = self.caps.map_or(0, |c| c.num_ports);
        if port == 0 || port > n {
            return Err(Error::InvalidArgument(format!(
                "port {port} (the HCA has {n})"
            )));
        }
        Ok(())
    }

    /// What the port reports: link, MTU, width, table sizes.
    pub fn query_port(&mut self, port: u8) -> Result<QueryPortOut> {
        self.port_ok(port)?;
        Ok(QueryPortOut::decode(&self.cmd_box(
            op::QUERY_PORT,
            0,
            port as u32,
            None,
        )?))
    }

    /// INIT_PORT: the port comes up.
    pub fn init_port(&mut self, port: u8) -> Result<()> {
        self.port_ok(port)?;
        self.cmd_none(op::INIT_PORT, 0, 0, port as u32)?;
        let h = self.hca()?;
        if !h.ports_up.contains(&port) {
            h.ports_up.push(port);
        }
        Ok(())
    }

    /// CLOSE_PORT.
    pub fn close_port(&mut self, port: u8) -> Result<()> {
        self.port_ok(port)?;
        self.cmd_none(op::CLOSE_PORT, 0, 0, port as u32)?;
        self.hca()?.ports_up.retain(|p| *p != port);
        Ok(())
    }
}
