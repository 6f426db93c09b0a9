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
