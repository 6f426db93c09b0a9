//! The behavioral model of the atomic unit: the reference every other
//! implementation is compared with, transaction by transaction.

use super::{alu, AtomicReq, AtomicResp, AtomicStatus, MEM_BYTES};
use crate::{Transactor, TransactorError};

/// The unit with its memory, untimed: each request completes before the next.
#[derive(Clone, Debug)]
pub struct AtomicModel {
    mem: Vec<u64>,
}

impl Default for AtomicModel {
    fn default() -> Self {
        AtomicModel {
            mem: vec![0; (MEM_BYTES / 8) as usize],
        }
    }
}

impl AtomicModel {
    pub fn new() -> Self {
        Self::default()
    }

    /// Check a request's address and opcode the way the RTL's decode stage
    /// does (alignment first, then range, then opcode).
    pub fn check(req: &AtomicReq) -> AtomicStatus {
        if req.addr & 7 != 0 {
            AtomicStatus::Misaligned
        } else if req.addr >= MEM_BYTES {
            AtomicStatus::OutOfRange
        } else if req.atomic_op().is_none() {
            AtomicStatus::BadOpcode
        } else {
            AtomicStatus::Ok
        }
    }

    pub fn execute(&mut self, req: &AtomicReq) -> AtomicResp {
        let status = Self::check(req);
        let op = match (status, req.atomic_op()) {
            (AtomicStatus::Ok, Some(op)) => op,
            _ => {
                return AtomicResp {
                    status,
                    original: 0,
                }
            }
        };
        let word = &mut self.mem[(req.addr / 8) as usize];
        let original = *word;
        *word = alu::apply(op, req, original);
        AtomicResp { status, original }
    }

    /// The word at a byte address, if it is a valid one (for checkers).
    pub fn peek(&self, addr: u64) -> Option<u64> {
        (addr & 7 == 0 && addr < MEM_BYTES).then(|| self.mem[(addr / 8) as usize])
    }
}

impl Transactor for AtomicModel {
    type Req = AtomicReq;
    type Resp = AtomicResp;

    /// The unit has no memory port: `mem` is never touched.
    fn transact(
        &mut self,
        reqs: &[AtomicReq],
        _mem: &mut dyn crate::transactor::BlockMemory,
    ) -> Result<Vec<AtomicResp>, TransactorError> {
        Ok(reqs.iter().map(|r| self.execute(r)).collect())
    }

    fn backend(&self) -> &'static str {
        "model"
    }

    fn cycles(&self) -> u64 {
        0
    }

    /// The unit's registers only: its memory array, a block RAM, keeps its
    /// contents through reset as the RTL's does.
    fn reset(&mut self) -> Result<(), TransactorError> {
        Ok(())
    }
}
