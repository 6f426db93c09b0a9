//! The firmware: BAR0's registers, the HCR, and the command dispatcher.
//!
//! The device model calls [`Firmware::mmio_read`] and
//! [`Firmware::mmio_write`] for every BAR0 access it does not own itself
//! (the MSI-X table is the PCI device's); a write of HCR word 6 with the GO
//! bit runs the command to completion before the write returns, so the
//! driver's next read of the status word already sees GO clear.

use crate::bar0::{self, hcr};
use crate::cmd::{caps, diag, eq, fw, init_hca, port};
use crate::cqeq::{self, CqEqEngine, Engine};
use crate::hostmem::HostMemory;
use crate::icm::{self, IcmMap, PagePool};
use crate::icm_window::IcmWindow;
use crate::mailbox::MAILBOX_BYTES;
use crate::opcode as op;
use crate::status::Status;
use crate::status::{refuse, CmdResult};
use crate::tpt::{Regions, TptEngine};
use crate::trace::CommandRecord;
use std::time::Instant;

mod boot;
pub mod commands;
mod cqs;
mod eqs;
mod hca;
mod icm_commands;
mod mpts;
mod ports;
mod tables;
use tables::cq_at;

/// A port number (1-based) the HCA has, or BAD_PARAM.
fn port_number(n: u32) -> CmdResult<u8> {
    if n == 0 || n > caps::NUM_PORTS as u32 {
        return refuse(
            Status::BadParam,
            format!("port {n} (the HCA has {})", caps::NUM_PORTS),
        );
    }
    Ok(n as u8)
}

/// MAD_IFC's op modifier bits: ignore M_Key, ignore B_Key, wire MAD.
const MAD_IFC_OPMODS: u8 = 0x7;

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

/// Where the device is in bring-up.
#[derive(Clone, Debug, Default)]
struct State {
    /// The firmware area (MAP_FA).
    fa: PagePool,
    /// RUN_FW done.
    running: bool,
    /// SET_ICM_SIZE's size (the auxiliary pages it asks for follow from it).
    icm_size: Option<u64>,
    aux: PagePool,
    icm: IcmMap,
    /// INIT_HCA's layout, while the HCA is initialised.
    hca: Option<(init_hca::InitHca, init_hca::Layout)>,
    /// CONF_SPECIAL_QP's base: QPs base..base+8 are the special QPs
    /// (QP0 and QP1 of each port); 0 when none.
    special_qp_base: u32,
    /// SET_PORT's settings, per port (index 0 is port 1).
    ports: [port::PortConfig; caps::NUM_PORTS as usize],
    /// Transport error counters (DIAG_RPRT): the device's and each
    /// port's. Nothing counts them until the transport engine lands.
    transport_errors: [diag::TransportErrors; 1 + caps::NUM_PORTS as usize],
}

/// The firmware of one HCA.
pub struct Firmware {
    hcr: [u32; 7],
    owner_taken: bool,
    semaphore_taken: bool,
    state: State,
    caps: caps::QueryDevCapOut,
    seq: u64,
    trace: Vec<CommandRecord>,
    /// MSI-X vectors raised and not yet taken by the PCI device.
    interrupts: Vec<u16>,
    /// The CQ/EQ engine and the CQ and EQ buffers behind it.
    events: CqEqEngine,
    /// The TPT and the MPT entries handed to it.
    regions: Regions,
    /// UAR writes that were no doorbell the device knows.
    pub stray_uar_writes: u64,
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
    /// rust-hdl or Verilator, from `sim/`), and the TPT's model.
    pub fn with_engine(engine: Engine) -> Self {
        Self::with_engines(
            engine,
            Box::new(hca_rtl::tpt::TptModel::new(crate::tpt::MODEL_LINES)),
        )
    }

    /// Firmware driving the CQ/EQ engine and the TPT on given backends.
    pub fn with_engines(engine: Engine, tpt: TptEngine) -> Self {
        Firmware {
            hcr: [0; 7],
            owner_taken: false,
            semaphore_taken: false,
            state: State::default(),
            caps: caps::device_caps(),
            seq: 0,
            trace: Vec::new(),
            interrupts: Vec::new(),
            events: CqEqEngine::new(engine),
            regions: Regions::new(tpt),
            stray_uar_writes: 0,
        }
    }

    /// The backend the CQ/EQ engine runs on, and its cycles so far.
    pub fn engine(&self) -> (&'static str, u64) {
        (self.events.backend(), self.events.cycles())
    }

    /// Everything a command may change, as text: tests compare it before
    /// and after a refused command.
    pub fn state_digest(&self) -> String {
        format!(
            "{:?} hw_eqs={:?} hw_cqs={:?} hw_mpts={:?}",
            self.state,
            self.events.hw_eqs(),
            self.events.hw_cqs(),
            self.regions.hw_mpts()
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
    pub fn layout(&self) -> Option<&init_hca::Layout> {
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

    /// A write to BAR2, the UAR pages. EQ `n`'s doorbell is the dword at
    /// UAR page n / 4, offset 0x800 + 8 (n % 4): consumer index in bits
    /// 23..0, re-arm in bit 31 (big-endian, as mlx4's eq_set_ci writes it).
    pub fn uar_write(&mut self, offset: u64, data: &[u8], mem: &mut dyn HostMemory) {
        let page = offset / bar0::UAR_PAGE;
        let o = offset % bar0::UAR_PAGE;
        if data.len() == 4 && (0x800..0x820).contains(&o) && o.is_multiple_of(8) {
            let eqn = page * 4 + (o - 0x800) / 8;
            if let Ok(eqn) = u16::try_from(eqn) {
                if self.events.is_hw(eqn) {
                    let v = u32::from_be_bytes(data.try_into().unwrap());
                    match self
                        .events
                        .doorbell(eqn, v & 0xff_ffff, v >> 31 != 0, cq_at!(self), mem)
                    {
                        Ok(vs) => self.interrupts.extend(vs),
                        Err(_) => self.stray_uar_writes += 1,
                    }
                    return;
                }
            }
        }
        // The CQ arm doorbell: one 64-bit write, `sn << 28 | cmd << 24 |
        // cqn` then the consumer index (mlx4_cq_arm).
        if data.len() == 8 && o == crate::cmd::cq::ARM_DOORBELL {
            let w0 = u32::from_be_bytes(data[0..4].try_into().unwrap());
            let ci = u32::from_be_bytes(data[4..8].try_into().unwrap()) & 0xff_ffff;
            let cqn = w0 & 0xff_ffff;
            if self.events.is_hw_cq(cqn) {
                let (sn, cmd) = ((w0 >> 28) as u8 & 3, (w0 >> 24) as u8 & 0xf);
                match self.events.arm_cq(cqn, cmd, sn, ci, cq_at!(self), mem) {
                    Ok(vs) => self.interrupts.extend(vs),
                    Err(_) => self.stray_uar_writes += 1,
                }
                return;
            }
        }
        self.stray_uar_writes += 1;
    }

    /// The HCR status word as the driver reads it.
    pub fn hcr_status(&self) -> u32 {
        self.hcr[6]
    }

    /// Back to power-on: every mapping dropped, HCR idle with T = 0.
    fn reset(&mut self) {
        // A block that cannot be reset is wedged for good; the next
        // command that needs it fails with the reason.
        let _ = self.events.clear();
        let _ = self.regions.clear();
        self.state = State::default();
        self.hcr = [0; 7];
        self.semaphore_taken = false;
        self.owner_taken = false;
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
            let eqe = cqeq::command_eqe(cmd.token, status, imm.unwrap_or(0));
            match self.events.post(eqe, cq_at!(self), mem) {
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
    /// The command table ([`commands::COMMANDS`]) says which commands
    /// exist, which op modifiers each takes, which run before RUN_FW, and
    /// what handles them.
    pub fn execute(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let Some(spec) = commands::lookup(c.opcode) else {
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
    fn out(&self, mem: &mut dyn HostMemory, c: &Command, bytes: &[u8]) -> CmdResult<Option<u64>> {
        mem.write(c.out_param, bytes)
            .map_err(|e| (Status::InternalErr, format!("output mailbox: {e}")))?;
        Ok(None)
    }

    /// Read an input mailbox at the command's in_param.
    fn inbox(&self, mem: &dyn HostMemory, c: &Command, len: usize) -> CmdResult<Vec<u8>> {
        let mut buf = vec![0u8; len.min(MAILBOX_BYTES)];
        mem.read(c.in_param, &mut buf)
            .map_err(|e| (Status::InternalErr, format!("input mailbox: {e}")))?;
        Ok(buf)
    }

    fn require_hca(&self) -> CmdResult<()> {
        if self.state.hca.is_none() {
            return refuse(Status::BadSysState, "the HCA is not initialised (INIT_HCA)");
        }
        Ok(())
    }
}
