//! Queue pairs (mlx4's qp.c): so far CONF_SPECIAL_QP, which places the
//! special QPs (QP0 and QP1 of each port). The QP state commands come with
//! the driver issue, on the QPC block.

use crate::cmd::{Command, CommandSpec, ZERO};
use crate::opcode as op;
use crate::status::{refuse, CmdResult, Status};
use crate::Firmware;

pub(crate) const COMMANDS: &[CommandSpec] = &[CommandSpec {
    opcode: op::CONF_SPECIAL_QP,
    op_mods: ZERO,
    boot: false,
    inbox: None,
    outbox: None,
    what: "QPs base..base+8 become the special QPs (QP0/QP1 per port; 8-aligned, inside the QP table); 0 turns them off",
    run: |f, c, _| f.conf_special_qp(c),
}];

impl Firmware {
    /// CONF_SPECIAL_QP: QPs in_modifier .. +8 become the special QPs (0
    /// turns them off).
    fn conf_special_qp(&mut self, c: &Command) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let base = c.in_modifier;
        let (p, _) = self.state.hca.as_ref().unwrap();
        let qps = 1u64 << p.log_num_qps;
        if base != 0 && (!base.is_multiple_of(8) || base as u64 + 8 > qps) {
            return refuse(
                Status::BadParam,
                format!("special QPs at {base:#x} (8-aligned, inside the {qps} QPs)"),
            );
        }
        self.state.special_qp_base = base;
        Ok(None)
    }

    /// The special QPs' base (CONF_SPECIAL_QP), 0 when none.
    pub fn special_qp_base(&self) -> u32 {
        self.state.special_qp_base
    }
}
