//! Memory regions through the firmware on every backend of the TPT:
//! SW2HW_MPT of mlx4's DMA region (physical, start 0, length 2^64 - 1),
//! QUERY_MPT back in mlx4's format, HW2SW_MPT, and the refusals.

use hca_engines::blocks::{cq, tpt};
use hca_engines::Backend;
use hca_firmware::host::Host;
use hca_firmware::mr::{MlxMpt, TptEntry, OWNER_SW};
use hca_firmware::opcode as op;
use hca_firmware::{Engines, Firmware, Status};
use hca_rtl::tpt::MptKind;
use hca_testbench::stream::Pacing;

fn regions(backend: Backend) {
    let fw = Firmware::with_engines(Engines {
        cq: cq::open(backend, None, Pacing::FULL_SPEED, 0).expect("CQ engine"),
        tpt: tpt::open(backend, None, Pacing::RANDOM, 3).expect("TPT"),
        ..Engines::default()
    });
    let mut h = Host::new(fw);
    h.bring_up();
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
    assert_eq!(h.cmd_in(op::SW2HW_MPT, 0, &m.encode(), 1), Status::Ok);
    let e = h.fw.mpt(1, &mut h.mem).expect("held");
    assert_eq!(
        (e.kind, e.tag, e.access),
        (MptKind::Physical as u8, 0x77, 0x1f)
    );
    let (s, out) = h.cmd_out(op::QUERY_MPT, 0, 1);
    assert_eq!(s, Status::Ok);
    assert_eq!(MlxMpt::decode(&out).to_entry(1).unwrap(), e);
    let before = h.fw.state_digest();
    assert_eq!(
        h.cmd_in(op::SW2HW_MPT, 0, &m.encode(), 1),
        Status::BadResState
    );
    assert_eq!(h.cmd(op::HW2SW_MPT, 1, 0, 9), Status::BadResState);
    assert_eq!(h.fw.state_digest(), before);
    assert_eq!(h.cmd(op::HW2SW_MPT, 1, 0, 1), Status::Ok);
    assert!(h.fw.mpt(1, &mut h.mem).is_none());
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
    let fw = Firmware::with_engines(Engines {
        tpt: tpt::open(backend, None, Pacing::RANDOM, 4).expect("TPT"),
        ..Engines::default()
    });
    let mut h = Host::new(fw);
    h.bring_up();
    let mtt_base = Host::init_hca_params().mtt_base;
    let entry = |h: &mut Host, i: u64| {
        let host = h.fw.icm_translate(mtt_base + 8 * i).expect("MTT mapped");
        let mut b = [0u8; 8];
        hca_firmware::HostMemory::read(&h.mem, host, &mut b).unwrap();
        u64::from_be_bytes(b)
    };
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
        h.cmd_in(op::WRITE_MTT, 0, &mailbox(0x20, &pages), 3),
        Status::Ok,
        "{backend}"
    );
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(entry(&mut h, 0x20 + i as u64), *p, "{backend}: entry {i}");
    }
    let before: Vec<u64> = (0x20..0x24).map(|i| entry(&mut h, i)).collect();
    assert_eq!(
        h.cmd_in(op::WRITE_MTT, 0, &mailbox(0x20, &[1]), 0),
        Status::BadParam,
        "{backend}"
    );
    assert_eq!(
        h.cmd_in(op::WRITE_MTT, 0, &mailbox(0x20, &[1]), 511),
        Status::BadParam,
        "{backend}"
    );
    let last = hca_rtl::tpt::NUM_MTTS as u64 - 1;
    assert_eq!(
        h.cmd_in(op::WRITE_MTT, 0, &mailbox(last, &[1, 2]), 2),
        Status::BadIndex,
        "{backend}"
    );
    assert_eq!(
        (0x20..0x24).map(|i| entry(&mut h, i)).collect::<Vec<_>>(),
        before,
        "{backend}"
    );
}

hca_engines::on_every_backend! {
    fn write_mtt_goes_through_the_tpt(backend: Backend) {
        write_mtt(backend)
    }
}
