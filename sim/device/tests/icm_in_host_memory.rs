//! The blocks keep their contexts in the ICM the driver mapped, on every
//! backend: the TPT translates through an MTT entry and an MPT the host
//! wrote into ICM itself (as an FMR map does) once SYNC_TPT empties its
//! cache, and what it writes (HW2SW_MPT freeing the entry) is in host
//! memory where the dMPT table says.

use hca_engines::blocks::{cq, tpt};
use hca_engines::Backend;
use hca_firmware::caps::device_caps;
use hca_firmware::host::Host;
use hca_firmware::mr::{MlxMpt, OWNER_SW};
use hca_firmware::opcode as op;
use hca_firmware::{Engines, Firmware, HostMemory, Status};
use hca_rtl::tpt::layout::{MptEntry, WORDS};
use hca_rtl::tpt::{access, status, MptKind, MptState, TptReq};
use hca_testbench::stream::Pacing;

const INDEX: u32 = 3;
const PD: u32 = 5;
const VA: u64 = 0x7000_0000;

/// Where word `w` of MPT `INDEX` is in host memory.
fn mpt_word(h: &Host, w: usize) -> u64 {
    let p = Host::init_hca_params();
    let icm = p.dmpt_base + INDEX as u64 * device_caps().dmpt_entry_sz as u64 + 8 * w as u64;
    h.fw.icm_translate(icm).expect("the dMPT table is mapped")
}

/// The host writes the MPT entry into ICM, the device's dMPT format: the
/// TPT's words, big-endian.
fn host_writes_mpt(h: &mut Host, e: &MptEntry) {
    for (w, word) in e.pack().iter().enumerate() {
        let at = mpt_word(h, w);
        h.mem.write(at, &word.to_be_bytes()).expect("host memory");
    }
}

fn mpt_in_icm(h: &Host) -> MptEntry {
    let words: [u64; WORDS] =
        std::array::from_fn(|w| h.mem.read_u64_be(mpt_word(h, w)).expect("host memory"));
    MptEntry::unpack(&words)
}

/// A 16-byte local read at page offset 0x10 of the region: the page
/// addresses the TPT gives, or its refusal.
fn lookup(h: &mut Host, tag: u8) -> Result<Vec<u64>, &'static str> {
    let key = INDEX << 8 | tag as u32;
    let req = TptReq::lookup(key, PD, VA + 0x10, 16, access::LOCAL_READ);
    let r = h.fw.tpt_request(req, &mut h.mem).expect("the TPT answers");
    match r.status {
        status::OK => Ok(r.pages),
        s => Err(status::name(s)),
    }
}

fn remap_through_icm(backend: Backend) {
    let fw = Firmware::with_engines(Engines {
        cq: cq::open(backend, None, Pacing::FULL_SPEED, 0).expect("CQ engine"),
        tpt: tpt::open(backend, None, Pacing::RANDOM, 5).expect("TPT"),
        ..Engines::default()
    });
    let mut h = Host::new(fw);
    h.bring_up();
    let (old, new) = (h.alloc(4096, 4096), h.alloc(4096, 4096));
    // A one-page region through MTT entry 8, registered with SW2HW_MPT.
    h.write_mtt(8, &[old]);
    let m = MlxMpt {
        owner: OWNER_SW,
        mio: true,
        region: true,
        access: access::ALL,
        key: 0x11 << 24 | INDEX,
        pd: PD,
        start: VA,
        length: 4096,
        entity_size: 12,
        mtt_addr: 8 * 8,
        ..Default::default()
    };
    assert_eq!(h.cmd_in(op::SW2HW_MPT, 0, &m.encode(), INDEX), Status::Ok);
    let registered = mpt_in_icm(&h);
    assert_eq!(
        (registered.state, registered.tag, registered.mtt_base),
        (MptState::Valid as u8, 0x11, 8),
        "SW2HW_MPT wrote the entry into the driver's ICM"
    );
    assert_eq!(lookup(&mut h, 0x11), Ok(vec![old + 0x10]), "{backend}");

    // The host remaps it in ICM alone, as an FMR map does: a new MTT entry,
    // and the MPT naming it under a new tag.
    h.write_mtt(9, &[new]);
    host_writes_mpt(
        &mut h,
        &MptEntry {
            tag: 0x12,
            mtt_base: 9,
            kind: MptKind::Fmr as u8,
            ..registered
        },
    );
    // The TPT still answers from its cache...
    assert_eq!(
        lookup(&mut h, 0x11),
        Ok(vec![old + 0x10]),
        "{backend}: cached"
    );
    assert_eq!(
        lookup(&mut h, 0x12),
        Err("tag_mismatch"),
        "{backend}: cached"
    );
    // ...until SYNC_TPT: then from ICM, through the new MTT entry.
    assert_eq!(h.cmd(op::SYNC_TPT, 0, 0, 0), Status::Ok);
    assert_eq!(
        lookup(&mut h, 0x12),
        Ok(vec![new + 0x10]),
        "{backend}: synced"
    );
    assert_eq!(
        lookup(&mut h, 0x11),
        Err("tag_mismatch"),
        "{backend}: old key dead"
    );

    // What the TPT writes is in host memory: HW2SW_MPT frees the entry.
    assert_eq!(h.cmd(op::HW2SW_MPT, 1, 0, INDEX), Status::Ok);
    assert_eq!(mpt_in_icm(&h).state, MptState::Free as u8, "{backend}");
}

hca_engines::on_every_backend! {
    fn the_tpt_reads_the_drivers_icm(backend: Backend) {
        remap_through_icm(backend)
    }
}

/// A block touching ICM that is not mapped fails the command with
/// ICM_ERROR and leaves the rest of host memory alone.
fn unmapped_icm(backend: Backend) {
    let fw = Firmware::with_engines(Engines {
        cq: cq::open(backend, None, Pacing::FULL_SPEED, 0).expect("CQ engine"),
        tpt: tpt::open(backend, None, Pacing::RANDOM, 6).expect("TPT"),
        ..Engines::default()
    });
    let mut h = Host::new(fw);
    h.bring_up();
    let p = Host::init_hca_params();
    // The whole dMPT table's pages go away.
    let pages = ((device_caps().dmpt_entry_sz as u64) << p.log_mpt_sz).div_ceil(4096);
    assert_eq!(
        h.cmd(op::UNMAP_ICM, 0, p.dmpt_base, pages as u32),
        Status::Ok
    );
    let m = MlxMpt {
        owner: OWNER_SW,
        mio: true,
        region: true,
        physical: true,
        access: access::ALL,
        key: INDEX,
        pd: PD,
        length: 4096,
        entity_size: 12,
        ..Default::default()
    };
    let mem_before = h.mem.clone();
    assert_eq!(
        h.cmd_in(op::SW2HW_MPT, 0, &m.encode(), INDEX),
        Status::IcmError,
        "{backend}"
    );
    // The inbox was written by the host itself; nothing else changed.
    let inbox = h.inbox;
    let mut a = vec![0u8; 4096];
    let mut b = vec![0u8; 4096];
    for page in (h.mem.base()..h.mem.base() + h.mem.len() as u64).step_by(4096) {
        if page == inbox {
            continue;
        }
        mem_before.read(page, &mut a).unwrap();
        h.mem.read(page, &mut b).unwrap();
        assert!(a == b, "{backend}: host page {page:#x} changed");
    }
}

hca_engines::on_every_backend! {
    fn unmapped_icm_is_an_icm_error(backend: Backend) {
        unmapped_icm(backend)
    }
}
