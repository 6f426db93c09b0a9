//! The command interface (mlx4's cmd.c seen from the device): the HCR in
//! BAR0, the owner, semaphore and reset registers beside it, and the
//! dispatcher, which runs every command from one table.
//!
//! The device model calls [`Firmware::mmio_read`] and
//! [`Firmware::mmio_write`] for every BAR0 access it does not own itself
//! (the MSI-X table is the PCI device's); a write of HCR word 6 with the GO
//! bit runs the command to completion before the write returns, so the
//! driver's next read of the status word already sees GO clear.
//!
//! Each object's file (`fw.rs`, `caps.rs`, `icm/`, `hca.rs`, `port.rs`,
//! `eq.rs`, `cq.rs`, `mr.rs`, `qp.rs`, `mad.rs`) holds its handlers and its
//! rows of the command table; [`TABLES`] lists the files' rows, and the
//! dispatcher ([`Firmware::execute`]), the trace names, the fuzz test's
//! list and the table in docs/firmware.md all read it.

use crate::bar0::{self, hcr};
use crate::eq::command_eqe;
use crate::hostmem::HostMemory;
use crate::icm::tables::cq_at;
use crate::mailbox::MAILBOX_BYTES;
use crate::opcode as op;
use crate::status::{refuse, CmdResult, Status};
use crate::trace::CommandRecord;
use crate::Firmware;
use std::time::Instant;

/// One command as the driver posted it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Command {
    pub opcode: u16,
    pub op_modifier: u8,
    pub in_param: u64,
    pub in_modifier: u32,
    pub out_param: u64,
    pub token: u16,
    pub event: bool,
}

impl Command {
    /// Decode HCR words 0..=6 (word 6 holding GO, E, T, opmod, opcode).
    pub fn from_hcr(w: &[u32; 7]) -> Command {
        Command {
            in_param: (w[0] as u64) << 32 | w[1] as u64,
            in_modifier: w[2],
            out_param: (w[3] as u64) << 32 | w[4] as u64,
            token: (w[5] >> 16) as u16,
            event: w[6] & hcr::EVENT != 0,
            op_modifier: ((w[6] >> hcr::OPMOD_SHIFT) & 0xf) as u8,
            opcode: (w[6] & 0xfff) as u16,
        }
    }
}

/// The op modifiers a command takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpMods {
    /// These values only.
    OneOf(&'static [u8]),
    /// Any combination of these bits.
    Bits(u8),
}

impl OpMods {
    pub fn allows(self, m: u8) -> bool {
        match self {
            OpMods::OneOf(v) => v.contains(&m),
            OpMods::Bits(b) => m & !b == 0,
        }
    }

    fn describe(self) -> String {
        match self {
            OpMods::OneOf(v) => v
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            OpMods::Bits(b) => format!("any of bits {b:#x}"),
        }
    }
}

/// The input or output mailbox of a command: its layout's name and size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mailbox {
    pub name: &'static str,
    pub bytes: usize,
}

/// The [`Mailbox`] of a `mailbox_layout!` type.
macro_rules! mailbox {
    ($t:ty) => {
        Some($crate::cmd::Mailbox {
            name: stringify!($t),
            bytes: <$t>::SIZE,
        })
    };
}
pub(crate) use mailbox;

/// Op modifier 0 alone: what most commands take.
pub(crate) const ZERO: OpMods = OpMods::OneOf(&[0]);

/// A command's handler: `Ok(Some(v))` puts `v` in the HCR's out_param.
pub(crate) type Handler =
    fn(&mut Firmware, &Command, &mut dyn HostMemory) -> CmdResult<Option<u64>>;

/// One implemented command.
pub struct CommandSpec {
    pub opcode: u16,
    pub op_mods: OpMods,
    /// Runs before RUN_FW (the boot ROM's commands).
    pub boot: bool,
    /// The mailbox it reads at in_param, and the one it writes at out_param.
    pub inbox: Option<Mailbox>,
    pub outbox: Option<Mailbox>,
    /// What the firmware does, for docs/firmware.md.
    pub what: &'static str,
    pub run: Handler,
}

impl CommandSpec {
    /// mlx4's name for the command.
    pub fn name(&self) -> &'static str {
        op::name(self.opcode)
    }
}

/// Every object's rows, in the order docs/firmware.md lists them.
pub const TABLES: &[&[CommandSpec]] = &[
    crate::fw::COMMANDS,
    crate::caps::COMMANDS,
    crate::port::COMMANDS,
    crate::icm::COMMANDS,
    crate::hca::COMMANDS,
    crate::eq::COMMANDS,
    crate::cq::COMMANDS,
    crate::qp::COMMANDS,
    crate::srq::COMMANDS,
    crate::mcg::COMMANDS,
    crate::mr::COMMANDS,
    crate::mad::COMMANDS,
];

/// Every implemented command.
pub fn commands() -> impl Iterator<Item = &'static CommandSpec> {
    TABLES.iter().flat_map(|t| t.iter())
}

/// The implemented command `opcode`, if it is one.
pub fn lookup(opcode: u16) -> Option<&'static CommandSpec> {
    commands().find(|c| c.opcode == opcode)
}

/// The table docs/firmware.md shows.
pub fn markdown() -> String {
    let mut s = String::from(
        "| opcode | command | op modifiers | mailboxes (in / out) | before RUN_FW | what the firmware does |\n|---|---|---|---|---|---|\n",
    );
    let mb =
        |m: Option<Mailbox>| m.map_or("-".to_string(), |m| format!("`{}` ({} B)", m.name, m.bytes));
    for c in commands() {
        s.push_str(&format!(
            "| `{:#05x}` | {} | {} | {} / {} | {} | {} |\n",
            c.opcode,
            c.name(),
            c.op_mods.describe(),
            mb(c.inbox),
            mb(c.outbox),
            if c.boot { "yes" } else { "no" },
            c.what
        ));
    }
    s
}

impl Firmware {
    /// The HCR status word as the driver reads it.
    pub fn hcr_status(&self) -> u32 {
        self.hcr[6]
    }

    /// A read of BAR0. Registers are big-endian 32-bit words; any size is
    /// served byte by byte from the words it covers.
    pub fn mmio_read(&mut self, offset: u64, buf: &mut [u8]) {
        let mut i = 0;
        while i < buf.len() {
            let at = offset.wrapping_add(i as u64);
            let word = at & !3;
            let v = self.read_word(word, i == 0 || at & 3 == 0);
            let bytes = v.to_be_bytes();
            while i < buf.len() && offset.wrapping_add(i as u64) & !3 == word {
                buf[i] = bytes[(offset.wrapping_add(i as u64) & 3) as usize];
                i += 1;
            }
        }
    }

    fn read_word(&mut self, word: u64, side_effects: bool) -> u32 {
        match word {
            w if (bar0::HCR_BASE..bar0::HCR_BASE + 4 * bar0::HCR_WORDS).contains(&w) => {
                self.hcr[((w - bar0::HCR_BASE) / 4) as usize]
            }
            bar0::OWNER => {
                let v = self.owner_taken as u32;
                if side_effects {
                    self.owner_taken = true;
                }
                v
            }
            bar0::CLOCK_BASE => (self.clock() >> 32) as u32,
            w if w == bar0::CLOCK_BASE + 4 => self.clock() as u32,
            bar0::SEMAPHORE => {
                let v = self.semaphore_taken as u32;
                if side_effects {
                    self.semaphore_taken = true;
                }
                v
            }
            _ => 0,
        }
    }

    /// A write to BAR0. HCR words must be written whole (as mlx4 does);
    /// narrower HCR writes are ignored, as the hardware ignores them.
    pub fn mmio_write(&mut self, offset: u64, data: &[u8], mem: &mut dyn HostMemory) {
        if data.len() != 4 || offset & 3 != 0 {
            return;
        }
        let v = u32::from_be_bytes(data.try_into().unwrap());
        match offset {
            w if (bar0::HCR_BASE..bar0::HCR_BASE + 4 * 6).contains(&w) => {
                self.hcr[((w - bar0::HCR_BASE) / 4) as usize] = v;
            }
            w if w == bar0::HCR_BASE + 24 => self.write_status(v, mem),
            bar0::OWNER => self.owner_taken = v != 0,
            bar0::SEMAPHORE => self.semaphore_taken = v != 0,
            bar0::RESET if v == bar0::RESET_VALUE => self.reset(),
            _ => {}
        }
    }

    fn write_status(&mut self, v: u32, mem: &mut dyn HostMemory) {
        if v & hcr::GO == 0 {
            return;
        }
        let mut words = self.hcr;
        words[6] = v;
        let cmd = Command::from_hcr(&words);
        let started = Instant::now();
        let (status, imm, detail) = match self.execute(&cmd, mem) {
            Ok(imm) => (Status::Ok, imm, None),
            Err((s, why)) => (s, None, Some(why)),
        };
        if let Some(out) = imm {
            self.hcr[3] = (out >> 32) as u32;
            self.hcr[4] = out as u32;
        }
        // Completion: GO clear, T as the driver wrote it, the status.
        self.hcr[6] = (status.code() as u32) << hcr::STATUS_SHIFT | (v & hcr::TOGGLE);
        let mut detail = detail;
        if cmd.event {
            // Event mode: the completion is an EQE on the EQ mapped for
            // command events, and that EQ's interrupt.
            let eqe = command_eqe(cmd.token, status, imm.unwrap_or(0));
            match self.cq_block.post_eqe(eqe, cq_at!(self), mem) {
                Ok(p) if p.status == hca_rtl::cq::status::OK => self.interrupts.extend(p.vectors),
                Ok(p) => {
                    detail = Some(format!(
                        "{}completion event lost: {}",
                        detail.map(|d| d + "; ").unwrap_or_default(),
                        hca_rtl::cq::status::name(p.status)
                    ))
                }
                Err((_, why)) => {
                    detail = Some(format!(
                        "{}completion event lost: {why}",
                        detail.map(|d| d + "; ").unwrap_or_default()
                    ))
                }
            }
        }
        self.seq += 1;
        self.trace.push(CommandRecord {
            seq: self.seq,
            opcode: cmd.opcode,
            name: op::name(cmd.opcode),
            op_modifier: cmd.op_modifier,
            in_modifier: cmd.in_modifier,
            in_param: cmd.in_param,
            out_param: imm.unwrap_or(cmd.out_param),
            event: cmd.event,
            token: cmd.token,
            status,
            duration: started.elapsed(),
            detail,
        });
    }

    /// Run one command: `Ok(Some(v))` puts `v` in the HCR's out_param.
    /// The command table ([`TABLES`]) says which commands
    /// exist, which op modifiers each takes, which run before RUN_FW, and
    /// what handles them.
    pub fn execute(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let Some(spec) = lookup(c.opcode) else {
            let known = op::OPCODES.iter().any(|(o, _)| *o == c.opcode);
            return refuse(
                Status::BadOp,
                if known {
                    "not implemented by this firmware".to_string()
                } else {
                    format!("unknown opcode {:#05x}", c.opcode)
                },
            );
        };
        if !spec.op_mods.allows(c.op_modifier) {
            return refuse(
                Status::BadOp,
                format!(
                    "op modifier {} is not one this command takes",
                    c.op_modifier
                ),
            );
        }
        // Before RUN_FW only the boot ROM's commands work.
        if !spec.boot && !self.state.running {
            return refuse(Status::BadSysState, "the firmware is not running (RUN_FW)");
        }
        (spec.run)(self, c, mem)
    }

    /// Write an output mailbox at the command's out_param.
    pub(crate) fn out(
        &self,
        mem: &mut dyn HostMemory,
        c: &Command,
        bytes: &[u8],
    ) -> CmdResult<Option<u64>> {
        mem.write(c.out_param, bytes)
            .map_err(|e| (Status::InternalErr, format!("output mailbox: {e}")))?;
        Ok(None)
    }

    /// Read an input mailbox at the command's in_param.
    pub(crate) fn inbox(
        &self,
        mem: &dyn HostMemory,
        c: &Command,
        len: usize,
    ) -> CmdResult<Vec<u8>> {
        let mut buf = vec![0u8; len.min(MAILBOX_BYTES)];
        mem.read(c.in_param, &mut buf)
            .map_err(|e| (Status::InternalErr, format!("input mailbox: {e}")))?;
        Ok(buf)
    }

    pub(crate) fn require_hca(&self) -> CmdResult<()> {
        if self.state.hca.is_none() {
            return refuse(Status::BadSysState, "the HCA is not initialised (INIT_HCA)");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_opcode_once_and_known_to_mlx4() {
        let all: Vec<_> = commands().collect();
        for (i, c) in all.iter().enumerate() {
            assert_ne!(c.name(), "UNKNOWN", "{:#x}", c.opcode);
            assert!(
                all[..i].iter().all(|d| d.opcode != c.opcode),
                "{} twice",
                c.name()
            );
        }
    }
}
