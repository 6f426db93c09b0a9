//! Commands (mlx4's cmd.c): the HCR in BAR0, posted with the GO and toggle
//! bits, completed by polling the status word or, once the EQs are up and
//! the NOP interrupt test passed, by a command-completion EQE carrying the
//! command's token. Every command is timed on the device's internal clock
//! (QUERY_FW's clock offset), logged through `tracing` at debug level, and
//! counted for the bring-up summary.

use crate::device::Device;
use crate::dma::DmaBuf;
use crate::error::{Error, Result};
use hca_abi::bar0::{self, hcr};
use hca_abi::mailbox::MAILBOX_BYTES;
use hca_abi::opcode;
use hca_abi::pci::PciFunction;
use hca_abi::Status;
use std::collections::BTreeMap;

/// How commands complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The driver reads the status word until GO clears.
    Polling,
    /// The device reports the completion as an EQE on the async EQ.
    Events,
}

/// Reads of the status word a polled command may take before it times out.
pub const POLL_BUDGET: u32 = 10_000;

/// One command to post.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cmd {
    pub opcode: u16,
    pub op_modifier: u8,
    pub in_param: u64,
    pub in_modifier: u32,
    pub out_param: u64,
}

/// Counts of one command with one outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CmdCount {
    pub count: u64,
    pub cycles: u64,
}

/// What the command layer keeps.
pub struct CmdState {
    toggle: bool,
    pub(crate) mode: Mode,
    /// The token of the next command posted by event.
    next_token: u16,
    /// The command waiting for its completion event: token, and the
    /// status and out_param once the EQE came.
    waiting: Option<(u16, Option<(u8, u64)>)>,
    /// Completion events whose token matched no waiting command (late
    /// events of a command that timed out).
    pub stale_events: u64,
    pub(crate) inbox: DmaBuf,
    pub(crate) outbox: DmaBuf,
    /// The internal clock's BAR0 offset, once QUERY_FW gave it.
    pub(crate) clock: Option<u64>,
    pub poll_budget: u32,
    /// By command name and status name: count and device cycles.
    pub stats: BTreeMap<(&'static str, &'static str), CmdCount>,
    /// Every command in order, while recording (docs, tools).
    pub(crate) log: Option<Vec<CmdRecord>>,
}

/// One command as the driver posted it and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdRecord {
    pub name: &'static str,
    pub op_modifier: u8,
    pub in_modifier: u32,
    pub event: bool,
    pub status: &'static str,
    pub cycles: u64,
}

impl CmdState {
    pub(crate) fn new(inbox: DmaBuf, outbox: DmaBuf) -> CmdState {
        CmdState {
            // mlx4 starts with toggle 1; the HCR shows T = 0.
            toggle: true,
            mode: Mode::Polling,
            next_token: 1,
            waiting: None,
            stale_events: 0,
            inbox,
            outbox,
            clock: None,
            poll_budget: POLL_BUDGET,
            stats: BTreeMap::new(),
            log: None,
        }
    }

    /// After a device reset: polling, toggle 1, nothing waiting.
    pub(crate) fn reset(&mut self) {
        self.toggle = true;
        self.mode = Mode::Polling;
        self.waiting = None;
    }

    /// A completion EQE arrived (the EQ handler calls this).
    pub(crate) fn complete(&mut self, token: u16, status: u8, out: u64) {
        match &mut self.waiting {
            Some((t, done @ None)) if *t == token => *done = Some((status, out)),
            _ => self.stale_events += 1,
        }
    }
}

/// A command log as a Markdown table: runs of the same command with the
/// same completion collapsed into one row with their count (docs/driver.md
/// holds the bring-up's, generated from the driver's own log).
pub fn sequence_markdown(log: &[CmdRecord]) -> String {
    let mut rows: Vec<(&CmdRecord, usize)> = Vec::new();
    for r in log {
        match rows.last_mut() {
            Some((last, n))
                if last.name == r.name && last.event == r.event && last.status == r.status =>
            {
                *n += 1
            }
            _ => rows.push((r, 1)),
        }
    }
    let mut s = String::from("| # | command | times | op_mod | in_mod (first) | completes by | status |\n|---|---|---|---|---|---|---|\n");
    for (i, (r, n)) in rows.iter().enumerate() {
        s.push_str(&format!(
            "| {} | {} | {} | {} | `{:#x}` | {} | {} |\n",
            i + 1,
            r.name,
            n,
            r.op_modifier,
            r.in_modifier,
            if r.event { "event" } else { "polling" },
            r.status
        ));
    }
    s
}

impl<P: PciFunction> Device<P> {
    fn hcr_write(&mut self, word: u64, v: u32) {
        self.bus.write_be32(bar0::HCR_BASE + 4 * word, v);
    }

    fn hcr_read(&mut self, word: u64) -> u32 {
        self.bus.read_be32(bar0::HCR_BASE + 4 * word)
    }

    /// The device's internal clock (0 until QUERY_FW named it), read high,
    /// low, high as mlx4_read_clock does.
    pub fn read_clock(&mut self) -> u64 {
        let Some(at) = self.cmd.clock else { return 0 };
        loop {
            let hi = self.bus.read_be32(at);
            let lo = self.bus.read_be32(at + 4);
            if self.bus.read_be32(at) == hi {
                return (hi as u64) << 32 | lo as u64;
            }
        }
    }

    fn pending(&mut self) -> bool {
        let st = self.hcr_read(6);
        st & hcr::GO != 0 || (st & hcr::TOGGLE != 0) == self.cmd.toggle
    }

    /// Post `c` and wait for its completion; `Ok(out_param)`.
    pub fn cmd(&mut self, c: Cmd) -> Result<u64> {
        let name = opcode::name(c.opcode);
        if self.pending() {
            return Err(Error::Busy { name });
        }
        let start = self.read_clock();
        let event = self.cmd.mode == Mode::Events;
        let token = if event {
            let t = self.cmd.next_token;
            // Tokens never 0; the next one differs from any retired one.
            self.cmd.next_token = t.wrapping_add(1).max(1);
            self.cmd.waiting = Some((t, None));
            t
        } else {
            0
        };
        self.hcr_write(0, (c.in_param >> 32) as u32);
        self.hcr_write(1, c.in_param as u32);
        self.hcr_write(2, c.in_modifier);
        self.hcr_write(3, (c.out_param >> 32) as u32);
        self.hcr_write(4, c.out_param as u32);
        self.hcr_write(5, (token as u32) << 16);
        let word = hcr::GO
            | if event { hcr::EVENT } else { 0 }
            | if self.cmd.toggle { hcr::TOGGLE } else { 0 }
            | ((c.op_modifier as u32 & 0xf) << hcr::OPMOD_SHIFT)
            | (c.opcode as u32 & 0xfff);
        self.hcr_write(6, word);
        self.cmd.toggle = !self.cmd.toggle;
        let outcome = if event {
            self.service_interrupts();
            match self.cmd.waiting.take() {
                Some((_, Some(done))) => Ok(done),
                _ => Err(Error::Timeout {
                    name,
                    what: format!("no completion event for token {token:#x}"),
                }),
            }
        } else {
            let mut reads = 0;
            while self.pending() {
                reads += 1;
                if reads >= self.cmd.poll_budget {
                    break;
                }
            }
            if reads >= self.cmd.poll_budget {
                Err(Error::Timeout {
                    name,
                    what: format!("GO still set after {reads} reads"),
                })
            } else {
                let st = self.hcr_read(6);
                let out = (self.hcr_read(3) as u64) << 32 | self.hcr_read(4) as u64;
                Ok(((st >> hcr::STATUS_SHIFT) as u8, out))
            }
        };
        let cycles = self.read_clock().wrapping_sub(start);
        let (status_name, result) = match outcome {
            Ok((0, out)) => ("OK", Ok(out)),
            Ok((code, _)) => {
                let status = Status::from_code(code).unwrap_or(Status::InternalErr);
                (
                    status.name(),
                    Err(Error::Command {
                        name,
                        opcode: c.opcode,
                        in_modifier: c.in_modifier,
                        status,
                        code,
                    }),
                )
            }
            Err(e) => ("TIMEOUT", Err(e)),
        };
        tracing::debug!(
            cmd = name,
            op_mod = c.op_modifier,
            in_mod = format_args!("{:#x}", c.in_modifier),
            status = status_name,
            cycles,
            event,
            "command"
        );
        let s = self.cmd.stats.entry((name, status_name)).or_default();
        s.count += 1;
        s.cycles += cycles;
        if let Some(log) = &mut self.cmd.log {
            log.push(CmdRecord {
                name,
                op_modifier: c.op_modifier,
                in_modifier: c.in_modifier,
                event,
                status: status_name,
                cycles,
            });
        }
        result
    }

    /// A command with no mailboxes.
    pub fn cmd_none(
        &mut self,
        opcode: u16,
        op_modifier: u8,
        in_param: u64,
        in_modifier: u32,
    ) -> Result<u64> {
        self.cmd(Cmd {
            opcode,
            op_modifier,
            in_param,
            in_modifier,
            out_param: 0,
        })
    }

    /// A command whose input is `bytes` in the inbox.
    pub fn cmd_in(
        &mut self,
        opcode: u16,
        op_modifier: u8,
        in_modifier: u32,
        bytes: &[u8],
    ) -> Result<u64> {
        let inbox = self.cmd.inbox;
        self.mailbox_put(inbox, bytes)?;
        self.cmd_none(opcode, op_modifier, inbox.addr, in_modifier)
    }

    /// A command with an output mailbox, and an input one when `input` is
    /// given; returns the outbox.
    pub fn cmd_box(
        &mut self,
        opcode: u16,
        op_modifier: u8,
        in_modifier: u32,
        input: Option<&[u8]>,
    ) -> Result<Vec<u8>> {
        let (inbox, outbox) = (self.cmd.inbox, self.cmd.outbox);
        let in_param = match input {
            Some(b) => {
                self.mailbox_put(inbox, b)?;
                inbox.addr
            }
            None => 0,
        };
        self.bus.mem.write(outbox.addr, &[0u8; MAILBOX_BYTES])?;
        self.cmd(Cmd {
            opcode,
            op_modifier,
            in_param,
            in_modifier,
            out_param: outbox.addr,
        })?;
        let mut out = vec![0u8; MAILBOX_BYTES];
        self.bus.mem.read(outbox.addr, &mut out)?;
        Ok(out)
    }

    fn mailbox_put(&mut self, b: DmaBuf, bytes: &[u8]) -> Result<()> {
        if bytes.len() > MAILBOX_BYTES {
            return Err(Error::InvalidArgument(format!(
                "a mailbox of {} bytes (at most {MAILBOX_BYTES})",
                bytes.len()
            )));
        }
        let mut page = vec![0u8; MAILBOX_BYTES];
        page[..bytes.len()].copy_from_slice(bytes);
        self.bus.mem.write(b.addr, &page)
    }

    /// The commands posted so far: by name and status, count and cycles.
    pub fn command_stats(&self) -> &BTreeMap<(&'static str, &'static str), CmdCount> {
        &self.cmd.stats
    }

    /// Start (or stop) keeping every command in order.
    pub fn record_commands(&mut self, on: bool) {
        self.cmd.log = on.then(Vec::new);
    }

    /// The commands recorded since the last call.
    pub fn take_command_log(&mut self) -> Vec<CmdRecord> {
        self.cmd
            .log
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Completion events that came for no waiting command (late ones).
    pub fn stale_command_events(&self) -> u64 {
        self.cmd.stale_events
    }

    /// Whether commands complete by event.
    pub fn command_mode(&self) -> Mode {
        self.cmd.mode
    }

    /// Complete commands by polling from now on (mlx4_cmd_use_polling), as
    /// teardown does before its EQs go: what a tool or test does before it
    /// takes raw control of event routing (MAP_EQ, its own EQs).
    pub fn use_polling(&mut self) {
        self.cmd.mode = Mode::Polling;
    }

    /// Complete commands by event again, on the async EQ bring-up made
    /// (mlx4_cmd_use_events). Refused while there is no such EQ.
    pub fn use_events(&mut self) -> Result<()> {
        match &self.hca {
            Some(h) if !h.eqs.is_empty() => {
                self.cmd.mode = Mode::Events;
                Ok(())
            }
            _ => Err(Error::Device(
                "no async EQ to complete commands on: bring the HCA up first".into(),
            )),
        }
    }
}
