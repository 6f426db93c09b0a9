//! The blocks keep their contexts in the ICM the driver mapped, on every
//! backend: the TPT translates through an MTT entry and an MPT the host
//! wrote into ICM itself (as an FMR map does) once SYNC_TPT empties its
//! cache, and what it writes (HW2SW_MPT freeing the entry) is in host
//! memory where the dMPT table says. The host is the project's driver: the
//! MPT index is one it has not handed out, its dMPT chunk mapped as the
//! driver maps it for its own, the MTT entries from its allocator.

mod common;

use common::*;
use hca_driver::dma::{DMA_BASE, DMA_SIZE};
use hca_engines::blocks::{cq, tpt};
use hca_engines::Backend;
use hca_firmware::caps::device_caps;
use hca_firmware::mr::{MlxMpt, OWNER_SW};
use hca_firmware::opcode as op;
use hca_firmware::{Engines, Firmware, Status};
use hca_rtl::tpt::layout::{MptEntry, WORDS};
use hca_rtl::tpt::{access, status, MptKind, MptState, TptReq};
use hca_testbench::stream::Pacing;

const INDEX: u32 = 3;
const PD: u32 = 5;
const VA: u64 = 0x7000_0000;

/// Where word `w` of MPT `INDEX` is in host memory.
fn mpt_word(d: &mut Dev, w: usize) -> u64 {
    let p = layout(d);
    let icm = p.dmpt_base + INDEX as u64 * device_caps().dmpt_entry_sz as u64 + 8 * w as u64;
    icm_host(d, icm)
}

/// The host writes the MPT entry into ICM, the device's dMPT format: the
/// TPT's words, big-endian.
fn host_writes_mpt(d: &mut Dev, e: &MptEntry) {
    for (w, word) in e.pack().iter().enumerate() {
        let at = mpt_word(d, w);
        d.memory().write_u64(at, *word).expect("host memory");
    }
}

fn mpt_in_icm(d: &mut Dev) -> MptEntry {
    let mut words = [0u64; WORDS];
    for (w, word) in words.iter_mut().enumerate() {
        let at = mpt_word(d, w);
        *word = read_u64(d, at);
    }
    MptEntry::unpack(&words)
}

/// A 16-byte local read at page offset 0x10 of the region: the page
/// addresses the TPT gives, or its refusal.
fn lookup(d: &mut Dev, tag: u8) -> Result<Vec<u64>, &'static str> {
    let key = INDEX << 8 | tag as u32;
    let req = TptReq::lookup(key, PD, VA + 0x10, 16, access::LOCAL_READ);
    let r = with_fw(d, |f, mem| f.tpt_request(req, mem)).expect("the TPT answers");
    match r.status {
        status::OK => Ok(r.pages),
        s => Err(status::name(s)),
    }
}

fn remap_through_icm(backend: Backend) {
    let firmware = Firmware::with_engines(Engines {
        cq: cq::open(backend, None, Pacing::FULL_SPEED, 0).expect("CQ engine"),
        tpt: tpt::open(backend, None, Pacing::RANDOM, 5).expect("TPT"),
        ..Engines::default()
    });
    let mut d = up_on(firmware);
    map_object(&mut d, "dMPT", INDEX);
    let (old, new) = (alloc(&mut d, 4096, 4096), alloc(&mut d, 4096, 4096));
    // A one-page region through an MTT entry, registered with SW2HW_MPT.
    let old_mtt = mtt_for(&mut d, &[old]);
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
        mtt_addr: old_mtt.offset(),
        ..Default::default()
    };
    assert_eq!(
        cmd_in(&mut d, op::SW2HW_MPT, 0, &m.encode(), INDEX),
        Status::Ok
    );
    let registered = mpt_in_icm(&mut d);
    assert_eq!(
        (registered.state, registered.tag, registered.mtt_base),
        (MptState::Valid as u8, 0x11, old_mtt.first),
        "SW2HW_MPT wrote the entry into the driver's ICM"
    );
    assert_eq!(lookup(&mut d, 0x11), Ok(vec![old + 0x10]), "{backend}");

    // The host remaps it in ICM alone, as an FMR map does: a new MTT entry,
    // and the MPT naming it under a new tag.
    let new_mtt = mtt_for(&mut d, &[new]);
    host_writes_mpt(
        &mut d,
        &MptEntry {
            tag: 0x12,
            mtt_base: new_mtt.first,
            kind: MptKind::Fmr as u8,
            ..registered
        },
    );
    // The TPT still answers from its cache...
    assert_eq!(
        lookup(&mut d, 0x11),
        Ok(vec![old + 0x10]),
        "{backend}: cached"
    );
    assert_eq!(
        lookup(&mut d, 0x12),
        Err("tag_mismatch"),
        "{backend}: cached"
    );
    // ...until SYNC_TPT: then from ICM, through the new MTT entry.
    assert_eq!(cmd(&mut d, op::SYNC_TPT, 0, 0, 0), Status::Ok);
    assert_eq!(
        lookup(&mut d, 0x12),
        Ok(vec![new + 0x10]),
        "{backend}: synced"
    );
    assert_eq!(
        lookup(&mut d, 0x11),
        Err("tag_mismatch"),
        "{backend}: old key dead"
    );

    // What the TPT writes is in host memory: HW2SW_MPT frees the entry.
    assert_eq!(cmd(&mut d, op::HW2SW_MPT, 1, 0, INDEX), Status::Ok);
    assert_eq!(mpt_in_icm(&mut d).state, MptState::Free as u8, "{backend}");
}

hca_engines::on_every_backend! {
    fn the_tpt_reads_the_drivers_icm(backend: Backend) {
        remap_through_icm(backend)
    }
}

/// A block touching ICM that is not mapped fails the command with
/// ICM_ERROR and leaves the rest of host memory alone.
fn unmapped_icm(backend: Backend) {
    let firmware = Firmware::with_engines(Engines {
        cq: cq::open(backend, None, Pacing::FULL_SPEED, 0).expect("CQ engine"),
        tpt: tpt::open(backend, None, Pacing::RANDOM, 6).expect("TPT"),
        ..Engines::default()
    });
    let mut d = up_on(firmware);
    map_object(&mut d, "dMPT", INDEX);
    let p = layout(&d);
    // The whole dMPT table's pages go away.
    let pages = ((device_caps().dmpt_entry_sz as u64) << p.log_mpt_sz).div_ceil(4096);
    assert_eq!(
        cmd(&mut d, op::UNMAP_ICM, 0, p.dmpt_base, pages as u32),
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
    // By polling, so that no completion EQE lands in host memory either.
    d.use_polling();
    let mem_before = memory_pages(&mut d);
    assert_eq!(
        cmd_in(&mut d, op::SW2HW_MPT, 0, &m.encode(), INDEX),
        Status::IcmError,
        "{backend}"
    );
    // The inbox was written by the driver itself; nothing else changed.
    let after = memory_pages(&mut d);
    let changed: Vec<usize> = (0..after.len())
        .filter(|&i| after[i] != mem_before[i])
        .collect();
    let [i] = changed[..] else {
        panic!("{backend}: host pages {changed:?} changed, not just the inbox");
    };
    let mut b = vec![0u8; MlxMpt::SIZE];
    d.memory()
        .read(DMA_BASE + 4096 * i as u64, &mut b)
        .expect("host memory");
    assert_eq!(
        b,
        m.encode(),
        "{backend}: the page that changed is the inbox"
    );
}

/// A digest of every page of the driver's memory.
fn memory_pages(d: &mut Dev) -> Vec<u64> {
    use std::hash::{Hash, Hasher};
    let mut page = vec![0u8; 4096];
    (0..DMA_SIZE as u64 / 4096)
        .map(|i| {
            d.memory()
                .read(DMA_BASE + 4096 * i, &mut page)
                .expect("host memory");
            let mut h = std::collections::hash_map::DefaultHasher::new();
            page.hash(&mut h);
            h.finish()
        })
        .collect()
}

hca_engines::on_every_backend! {
    fn unmapped_icm_is_an_icm_error(backend: Backend) {
        unmapped_icm(backend)
    }
}
