//! Memory regions through the firmware on every backend of the TPT,
//! posted through the project's driver: SW2HW_MPT of mlx4's DMA region
//! (physical, start 0, length 2^64 - 1), QUERY_MPT back in mlx4's format,
//! HW2SW_MPT, and the refusals; WRITE_MTT into MTT entries the driver's
//! allocator handed out.

mod common;

use common::*;
use hca_engines::blocks::{cq, tpt};
use hca_engines::Backend;
use hca_firmware::mr::{MlxMpt, TptEntry, OWNER_SW};
use hca_firmware::opcode as op;
use hca_firmware::{Engines, Firmware, Status};
use hca_rtl::tpt::MptKind;
use hca_testbench::stream::Pacing;

fn regions(backend: Backend) {
    let firmware = Firmware::with_engines(Engines {
        cq: cq::open(backend, None, Pacing::FULL_SPEED, 0).expect("CQ engine"),
        tpt: tpt::open(backend, None, Pacing::RANDOM, 3).expect("TPT"),
        ..Engines::default()
    });
    let mut d = up_on(firmware);
    // MPTs 1 and 9, which the driver has not handed out: their dMPT chunk
    // mapped as the driver maps it for its own.
    map_object(&mut d, "dMPT", 1);
    map_object(&mut d, "dMPT", 9);
    let m = MlxMpt {
        owner: OWNER_SW,
        mio: true,
        region: true,
        physical: true,
        access: 0x1f,
        key: 0x77 << 24 | 1,
        en_inv: 3,
        pd: 2,
        start: 0,
        length: u64::MAX,
        entity_size: 12,
        ..Default::default()
    };
    assert_eq!(cmd_in(&mut d, op::SW2HW_MPT, 0, &m.encode(), 1), Status::Ok);
    let e = with_fw(&mut d, |f, mem| f.mpt(1, mem)).expect("held");
    assert_eq!(
        (e.kind, e.tag, e.access),
        (MptKind::Physical as u8, 0x77, 0x1f)
    );
    let (s, out) = cmd_out(&mut d, op::QUERY_MPT, 0, 1);
    assert_eq!(s, Status::Ok);
    assert_eq!(MlxMpt::decode(&out).to_entry(1).unwrap(), e);
    let before = fw(&mut d).state_digest();
    assert_eq!(
        cmd_in(&mut d, op::SW2HW_MPT, 0, &m.encode(), 1),
        Status::BadResState
    );
    assert_eq!(cmd(&mut d, op::HW2SW_MPT, 1, 0, 9), Status::BadResState);
    assert_eq!(fw(&mut d).state_digest(), before);
    assert_eq!(cmd(&mut d, op::HW2SW_MPT, 1, 0, 1), Status::Ok);
    assert!(with_fw(&mut d, |f, mem| f.mpt(1, mem)).is_none());
}

hca_engines::on_every_backend! {
    fn on_the_tpt(backend: Backend) {
        regions(backend)
    }
}

/// WRITE_MTT: entries from the mailbox's first index land in the MTT in
/// ICM, through the TPT; a count of 0 or past one mailbox, or a range past
/// the TPT's MTT, is refused with the MTT unchanged.
fn write_mtt(backend: Backend) {
    let firmware = Firmware::with_engines(Engines {
        tpt: tpt::open(backend, None, Pacing::RANDOM, 4).expect("TPT"),
        ..Engines::default()
    });
    let mut d = up_on(firmware);
    let mtt_base = layout(&d).mtt_base;
    let entry = |d: &mut Dev, i: u64| {
        let host = icm_host(d, mtt_base + 8 * i);
        read_u64(d, host)
    };
    // Four MTT entries from the driver's allocator.
    let first = d.mtt_alloc(4).expect("MTT entries").first as u64;
    let mailbox = |first: u64, entries: &[u64]| {
        let mut b = first.to_be_bytes().to_vec();
        b.extend([0u8; 8]);
        for e in entries {
            b.extend(e.to_be_bytes());
        }
        b
    };
    let pages = [0x7000_1001u64, 0x7000_2001, 0x7000_3001];
    assert_eq!(
        cmd_in(&mut d, op::WRITE_MTT, 0, &mailbox(first, &pages), 3),
        Status::Ok,
        "{backend}"
    );
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(entry(&mut d, first + i as u64), *p, "{backend}: entry {i}");
    }
    let before: Vec<u64> = (first..first + 4).map(|i| entry(&mut d, i)).collect();
    assert_eq!(
        cmd_in(&mut d, op::WRITE_MTT, 0, &mailbox(first, &[1]), 0),
        Status::BadParam,
        "{backend}"
    );
    assert_eq!(
        cmd_in(&mut d, op::WRITE_MTT, 0, &mailbox(first, &[1]), 511),
        Status::BadParam,
        "{backend}"
    );
    let last = hca_rtl::tpt::NUM_MTTS as u64 - 1;
    assert_eq!(
        cmd_in(&mut d, op::WRITE_MTT, 0, &mailbox(last, &[1, 2]), 2),
        Status::BadIndex,
        "{backend}"
    );
    assert_eq!(
        (first..first + 4)
            .map(|i| entry(&mut d, i))
            .collect::<Vec<_>>(),
        before,
        "{backend}"
    );
}

hca_engines::on_every_backend! {
    fn write_mtt_goes_through_the_tpt(backend: Backend) {
        write_mtt(backend)
    }
}
