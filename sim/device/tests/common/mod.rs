//! What the device tests that post raw commands share: the project's
//! driver (`hca_driver::Device`) on the simulated HCA, and thin wrappers
//! over its command layer that give back the status the device answered
//! with, so a test can post anything (a bad mailbox, a refused transition)
//! and check the answer. The HCR protocol, bring-up, the EQs and ICM are
//! the driver's; this only posts through it and reads what the device did.

#![allow(dead_code)]

use hca_device::blocks::firmware_on;
use hca_device::HcaPci;
use hca_driver::cmd::Cmd;
use hca_driver::dma::{DMA_BASE, DMA_SIZE};
use hca_driver::mr::Mtt;
use hca_driver::{Device, Error, Profile};
use hca_engines::Backend;
use hca_firmware::cq::CqContext;
use hca_firmware::eq::EqContext;
use hca_firmware::hca::InitHca;
use hca_firmware::icm::ICM_PAGE;
use hca_firmware::opcode as op;
use hca_firmware::{CommandRecord, Firmware, HostMemory, Status};

pub type Dev = Device<HcaPci>;

/// A bus address past the driver's memory: a mailbox there is a bus error.
pub const OUTSIDE: u64 = DMA_BASE + DMA_SIZE as u64 + 0x10_0000;

/// The driver on a device whose firmware is `fw`, nothing posted yet
/// (polling mode).
pub fn driver_on(fw: Firmware) -> Dev {
    Device::new(HcaPci::with_firmware(fw), Profile::default()).expect("driver")
}

/// The driver on a fresh device with its blocks on `backend`.
pub fn driver(backend: Backend) -> Dev {
    driver_on(firmware_on(backend).expect("firmware"))
}

/// The driver's bring-up on `fw`: after it, commands complete by event.
pub fn up_on(fw: Firmware) -> Dev {
    let mut d = driver_on(fw);
    d.bring_up().unwrap_or_else(|e| panic!("bring-up: {e}"));
    d
}

pub fn up(backend: Backend) -> Dev {
    up_on(firmware_on(backend).expect("firmware"))
}

/// The status a command's result says the device answered with. A driver
/// error other than a command's status (busy, timed out, a mailbox the
/// driver refused) is an HCR protocol failure: the test fails naming it.
pub fn status<T>(r: hca_driver::Result<T>) -> Status {
    answer(r).0
}

/// The status and the raw status byte (0 for OK).
pub fn answer<T>(r: hca_driver::Result<T>) -> (Status, u8) {
    match r {
        Ok(_) => (Status::Ok, 0),
        Err(Error::Command { status, code, .. }) => (status, code),
        Err(e) => panic!("HCR protocol failure: {e}"),
    }
}

/// Post any command: parameters and modifiers as given.
pub fn post(d: &mut Dev, c: Cmd) -> Status {
    status(d.cmd(c))
}

/// Post a command with no mailboxes.
pub fn cmd(d: &mut Dev, opcode: u16, op_modifier: u8, in_param: u64, in_modifier: u32) -> Status {
    status(d.cmd_none(opcode, op_modifier, in_param, in_modifier))
}

/// Post a command whose input is `bytes` in the driver's inbox.
pub fn cmd_in(d: &mut Dev, opcode: u16, op_modifier: u8, bytes: &[u8], in_modifier: u32) -> Status {
    status(d.cmd_in(opcode, op_modifier, in_modifier, bytes))
}

/// Post a command with an outbox: the status, and the outbox when OK
/// (empty otherwise).
pub fn cmd_out(d: &mut Dev, opcode: u16, op_modifier: u8, in_modifier: u32) -> (Status, Vec<u8>) {
    match d.cmd_box(opcode, op_modifier, in_modifier, None) {
        Ok(out) => (Status::Ok, out),
        Err(e) => (status::<()>(Err(e)), Vec::new()),
    }
}

/// A command with both mailboxes: `bytes` in, the outbox out.
pub fn cmd_in_out(
    d: &mut Dev,
    opcode: u16,
    op_modifier: u8,
    bytes: &[u8],
    in_modifier: u32,
) -> (Status, Vec<u8>) {
    match d.cmd_box(opcode, op_modifier, in_modifier, Some(bytes)) {
        Ok(out) => (Status::Ok, out),
        Err(e) => (status::<()>(Err(e)), Vec::new()),
    }
}

pub fn fw(d: &mut Dev) -> &mut Firmware {
    d.pci().firmware_mut()
}

/// Run `f`, which must be refused with `want`, and check it left the
/// firmware's state as it was.
pub fn refused(d: &mut Dev, want: Status, f: impl FnOnce(&mut Dev) -> Status) {
    let before = d.pci().firmware().state_digest();
    assert_eq!(f(d), want);
    assert_eq!(
        d.pci().firmware().state_digest(),
        before,
        "a refused command changed state"
    );
}

/// Host memory from the driver's DMA memory (zeroed): its bus address.
pub fn alloc(d: &mut Dev, len: u64, align: u64) -> u64 {
    d.memory().alloc(len, align).expect("DMA memory").addr
}

/// A map mailbox (MAP_FA, MAP_ICM_AUX, MAP_ICM): `(virt, dma, log2
/// pages)` per entry.
pub fn map_cmd(d: &mut Dev, opcode: u16, entries: &[(u64, u64, u32)]) -> Status {
    let mut b = Vec::new();
    for (v, pa, lg) in entries {
        b.extend_from_slice(&v.to_be_bytes());
        b.extend_from_slice(&(pa | *lg as u64).to_be_bytes());
    }
    cmd_in(d, opcode, 0, &b, entries.len() as u32)
}

/// Map `pages` fresh pages of the driver's memory at ICM address `virt`,
/// one entry each.
pub fn map_icm(d: &mut Dev, virt: u64, pages: u64) -> Status {
    let e: Vec<_> = (0..pages)
        .map(|i| (virt + i * ICM_PAGE, alloc(d, ICM_PAGE, ICM_PAGE), 0))
        .collect();
    map_cmd(d, op::MAP_ICM, &e)
}

/// Give the firmware its area (16 pages) and start it, with raw commands
/// on a driver that has posted nothing yet.
pub fn running(backend: Backend) -> Dev {
    let mut d = driver(backend);
    let fa = alloc(&mut d, 16 * ICM_PAGE, 16 * ICM_PAGE);
    assert_eq!(map_cmd(&mut d, op::MAP_FA, &[(0, fa, 4)]), Status::Ok);
    assert_eq!(cmd(&mut d, op::RUN_FW, 0, 0, 0), Status::Ok);
    d
}

/// The ICM layout the driver gave INIT_HCA.
pub fn layout(d: &Dev) -> InitHca {
    *d.init_hca().expect("the HCA is up")
}

/// The commands the firmware completed since the last call (the PCI
/// function hands them on as device events).
pub fn trace(d: &mut Dev) -> Vec<CommandRecord> {
    let pci = d.pci();
    let mut t: Vec<CommandRecord> = pci
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            hca_device::DeviceEvent::Command(r) => Some(r),
            _ => None,
        })
        .collect();
    t.extend(pci.firmware_mut().take_trace());
    t
}

/// The chunk of ICM table `table` that holds object `n` mapped, as the
/// driver maps it for the objects it creates (for a raw SW2HW_* on `n`).
pub fn map_object(d: &mut Dev, table: &str, n: u32) {
    d.icm_get(table, n as u64)
        .unwrap_or_else(|e| panic!("ICM for {table} {n:#x}: {e}"));
}

/// `n` fresh pages of the driver's memory.
pub fn pages_of(d: &mut Dev, n: u64) -> Vec<u64> {
    (0..n).map(|_| alloc(d, ICM_PAGE, ICM_PAGE)).collect()
}

/// MTT entries from the driver's allocator, naming `pages`.
pub fn mtt_for(d: &mut Dev, pages: &[u64]) -> Mtt {
    let m = d.mtt_alloc(pages.len() as u32).expect("MTT entries");
    d.mtt_write(&m, 0, pages).expect("MTT written");
    m
}

/// The 32 bytes of entry `k` of a ring of 32-byte entries on `pages`
/// (an EQ's EQEs, a CQ's CQEs).
pub fn entry(d: &mut Dev, pages: &[u64], k: u64) -> [u8; 32] {
    let off = k * 32;
    let mut b = [0u8; 32];
    d.memory()
        .read(pages[(off / ICM_PAGE) as usize] + off % ICM_PAGE, &mut b)
        .expect("host memory");
    b
}

/// SW2HW_EQ of EQ `eqn` (a number the driver does not use) of 2^log EQEs
/// on `vector`, armed, its buffer fresh pages found through MTT entries
/// from the driver's allocator. The status and the buffer's pages.
pub fn create_eq(d: &mut Dev, eqn: u32, log: u8, vector: u8) -> (Status, Vec<u64>) {
    let pages = pages_of(d, ((32u64 << log) / ICM_PAGE).max(1));
    let mtt = mtt_for(d, &pages);
    let ctx = EqContext {
        flags: hca_abi::cmd::eq::STATE_ARMED << 8,
        log_eq_size: log,
        intr: vector,
        mtt_base_addr_l: mtt.offset() as u32,
        ..Default::default()
    };
    (cmd_in(d, op::SW2HW_EQ, 0, &ctx.encode(), eqn), pages)
}

/// SW2HW_CQ of CQ `cqn` (a number the driver has not handed out; its CQC
/// chunk mapped first) of 2^log CQEs on EQ `eqn`, its buffer fresh pages
/// through MTT entries from the driver's allocator, a doorbell record of
/// its own. The status and the buffer's pages.
pub fn create_cq(d: &mut Dev, cqn: u32, log: u8, eqn: u8) -> (Status, Vec<u64>) {
    if cqn < 1 << layout(d).log_num_cqs {
        map_object(d, "CQC", cqn);
    }
    let pages = pages_of(d, ((32u64 << log) / ICM_PAGE).max(1));
    let mtt = mtt_for(d, &pages);
    let ctx = CqContext {
        log_size: log,
        comp_eqn: eqn,
        mtt_base_addr_l: mtt.offset() as u32,
        db_rec_addr: alloc(d, 8, 8),
        ..Default::default()
    };
    (cmd_in(d, op::SW2HW_CQ, 0, &ctx.encode(), cqn), pages)
}

/// A write to the UAR pages straight into the firmware, so that the
/// interrupts it raises stay there for the test to take
/// (`Firmware::take_interrupts`) rather than going out as MSI-X messages.
pub fn uar_write(d: &mut Dev, offset: u64, data: &[u8]) {
    let (pci, mem) = d.pci_and_memory();
    pci.firmware_mut().uar_write(offset, data, mem.host());
}

/// EQ `eqn`'s doorbell in UAR page `eqn / 4`, into the firmware.
pub fn eq_doorbell(d: &mut Dev, eqn: u32, ci: u32, arm: bool) {
    let off = eq_doorbell_offset(eqn);
    let v = (ci & 0xff_ffff) | (arm as u32) << 31;
    uar_write(d, off, &v.to_be_bytes());
}

pub fn eq_doorbell_offset(eqn: u32) -> u64 {
    (eqn as u64 / 4) * hca_firmware::bar0::UAR_PAGE + 0x800 + 8 * (eqn as u64 % 4)
}

/// CQ `cqn`'s arm doorbell (`cmd` 1: solicited, 2: next), into the
/// firmware.
pub fn cq_arm(d: &mut Dev, cqn: u32, cmd: u8, sn: u8, ci: u32) {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&((sn as u32 & 3) << 28 | (cmd as u32) << 24 | cqn).to_be_bytes());
    b[4..].copy_from_slice(&(ci & 0xff_ffff).to_be_bytes());
    uar_write(d, hca_firmware::cq::ARM_DOORBELL, &b);
}

/// The driver's memory read back as a u64 (big-endian) at `at`.
pub fn read_u64(d: &mut Dev, at: u64) -> u64 {
    let mut b = [0u8; 8];
    d.memory().read(at, &mut b).expect("host memory");
    u64::from_be_bytes(b)
}

/// The host address of ICM address `icm`, as the firmware translates it.
pub fn icm_host(d: &mut Dev, icm: u64) -> u64 {
    d.pci()
        .firmware()
        .icm_translate(icm)
        .unwrap_or_else(|| panic!("ICM {icm:#x} is not mapped"))
}

/// Let the firmware run `f` on the driver's memory directly (a TPT lookup,
/// a completion, a read of what a block keeps), as the transport engine
/// will; the interrupts it raises stay in the firmware.
pub fn with_fw<R>(d: &mut Dev, f: impl FnOnce(&mut Firmware, &mut dyn HostMemory) -> R) -> R {
    let (pci, mem) = d.pci_and_memory();
    f(pci.firmware_mut(), mem.host())
}

/// A completion for `qpn` posted into CQ `cqn` as the transport engine
/// will post one, straight into the firmware (its interrupts stay there).
pub fn complete_into(d: &mut Dev, cqn: u32, qpn: u32, wqe: u16) {
    let cqe = hca_rtl::cq::Cqe {
        my_qpn: qpn,
        wqe_index: wqe,
        byte_cnt: 64,
        ..Default::default()
    };
    let req = hca_rtl::cq::CqReq::Complete {
        cqn,
        cqe,
        solicited: false,
    };
    let s = with_fw(d, |f, mem| f.cq_request(req, mem)).expect("the engine answers");
    assert_eq!(
        s,
        hca_rtl::cq::status::OK,
        "completion {wqe} into CQ {cqn:#x}"
    );
}
