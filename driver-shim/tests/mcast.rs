//! Multicast attach and detach through the driver on every backend, over
//! the device's MGID_HASH, READ_MCG and WRITE_MCG: members land in the
//! GID's hash entry; a GID hashing to a taken entry gets an AMGM entry
//! linked from it; detaching the last member unlinks or empties the entry;
//! a full entry, a non-UD QP and a non-multicast GID are refused;
//! destroying a QP detaches it; the table ends empty. The firmware's own
//! refusals of bad entries leave the table as it was.

mod common;

use common::{small_qp, up};
use hca_abi::cmd::mcg::{MgmHead, MEMBER_BLOCK_LOOPBACK};
use hca_abi::opcode as op;
use hca_abi::Status;
use hca_driver::{Error, Qp, QpType};
use hca_engines::Backend;

/// ff12:401b:ffff::1 with its words 1 and 2 swapped: the same hash.
const A: [u8; 16] = [
    0xff, 0x12, 0x40, 0x1b, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
];
const B: [u8; 16] = [
    0xff, 0x12, 0xff, 0xff, 0x40, 0x1b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
];

fn attach_and_detach(backend: Backend) {
    let mut d = up(backend);
    let pd = d.alloc_pd().unwrap();
    let cq = d.create_cq(15, 0).unwrap();
    let qps: Vec<Qp> = (0..9)
        .map(|_| small_qp(&mut d, &pd, QpType::Ud, cq))
        .collect();

    d.attach_mcast(&qps[0], &A, true).unwrap();
    d.attach_mcast(&qps[1], &A, false).unwrap();
    d.attach_mcast(&qps[1], &A, false).unwrap();
    let t = d.mcg_table().unwrap();
    assert_eq!(t.len(), 1, "{backend}: one entry: {t:?}");
    let (hash, gid, members) = &t[0];
    assert_eq!(*gid, A);
    assert_eq!(
        members,
        &vec![qps[0].qpn | MEMBER_BLOCK_LOOPBACK, qps[1].qpn],
        "{backend}"
    );

    // B hashes to the same entry: a second entry, linked from it.
    d.attach_mcast(&qps[2], &B, true).unwrap();
    let t = d.mcg_table().unwrap();
    assert_eq!(t.len(), 2, "{backend}: {t:?}");
    assert_eq!(t[0].0, *hash, "{backend}: A stays in the hash entry");
    assert!(t[1].0 >= 128, "{backend}: B in the AMGM area: {t:?}");
    assert_eq!(
        (t[1].1, t[1].2.clone()),
        (B, vec![qps[2].qpn | MEMBER_BLOCK_LOOPBACK])
    );

    // Full: an entry of 64 bytes holds 8.
    for q in &qps[2..8] {
        d.attach_mcast(q, &A, false).unwrap();
    }
    assert!(
        matches!(
            d.attach_mcast(&qps[8], &A, false),
            Err(Error::NoResources(_))
        ),
        "{backend}"
    );
    // Refusals the driver makes.
    let rc = small_qp(&mut d, &pd, QpType::Rc, cq);
    assert!(matches!(
        d.attach_mcast(&rc, &A, false),
        Err(Error::InvalidArgument(_))
    ));
    let mut unicast = A;
    unicast[0] = 0xfe;
    assert!(matches!(
        d.attach_mcast(&qps[8], &unicast, false),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        d.detach_mcast(&qps[8], &A),
        Err(Error::NoSuchObject { .. })
    ));

    // Refusals the firmware makes, the table unchanged.
    let before = d.mcg_table().unwrap();
    let mut bad = vec![0u8; 64];
    bad[..32].copy_from_slice(
        &MgmHead {
            members: 9,
            ..Default::default()
        }
        .encode(),
    );
    let st = |r: Result<u64, Error>| r.unwrap_err().status();
    assert_eq!(
        st(d.cmd_in(op::WRITE_MCG, 0, 3, &bad)),
        Some(Status::BadParam),
        "{backend}: 9 members"
    );
    bad[..32].copy_from_slice(
        &MgmHead {
            next_gid_index: 4096 << 6,
            ..Default::default()
        }
        .encode(),
    );
    assert_eq!(
        st(d.cmd_in(op::WRITE_MCG, 0, 3, &bad)),
        Some(Status::BadParam),
        "{backend}: a link out of the table"
    );
    bad[..32].copy_from_slice(
        &MgmHead {
            prot: 1,
            ..Default::default()
        }
        .encode(),
    );
    assert_eq!(
        st(d.cmd_in(op::WRITE_MCG, 0, 3, &bad)),
        Some(Status::BadParam),
        "{backend}: Ethernet"
    );
    assert_eq!(
        st(d.cmd_in(op::WRITE_MCG, 0, 256, &[0; 64])),
        Some(Status::BadIndex),
        "{backend}"
    );
    assert_eq!(
        st(d.cmd_box(op::READ_MCG, 0, 256, None).map(|_| 0)),
        Some(Status::BadIndex)
    );
    assert_eq!(
        d.mcg_table().unwrap(),
        before,
        "{backend}: refusals change nothing"
    );

    // Emptying A's hash entry moves B in; destroying the QPs detaches them.
    for q in &qps[..8] {
        if q.qpn != qps[2].qpn {
            d.detach_mcast(q, &A).unwrap();
        }
    }
    d.detach_mcast(&qps[2], &A).unwrap();
    let t = d.mcg_table().unwrap();
    assert_eq!(t.len(), 1, "{backend}: {t:?}");
    assert_eq!(
        (t[0].0, t[0].1),
        (*hash, B),
        "{backend}: B moved into the hash entry"
    );
    for q in qps.iter().chain([&rc]) {
        d.destroy_qp(q).unwrap();
    }
    assert!(
        d.mcg_table().unwrap().is_empty(),
        "{backend}: the table is empty"
    );
    assert_eq!(d.resources().mcast_attachments, 0);
    d.destroy_cq(&cq).unwrap();
    d.tear_down().unwrap();
}

hca_engines::on_every_backend! {
    fn multicast_attach_and_detach(backend: Backend) {
        attach_and_detach(backend)
    }
}
