//! UD traffic between two HCAs on one fabric, through the Rust driver, on
//! every backend: each port brought to ACTIVE the way a subnet manager on
//! its host would (SubnSet(PortInfo) through MAD_IFC: LID, ARMED, ACTIVE,
//! and the driver sees PORT_CHANGE), a UD QP on each walked to RTS, then
//! sends with and without immediate data cross the switch, land behind
//! the receive's 40-byte GRH area and complete on both sides; sends with
//! a wrong Q_Key, to a QP that does not exist, or with no receive posted
//! are dropped and counted by reason, and good traffic goes on. A
//! datagram to a multicast group on three HCAs reaches every attached QP
//! (through the switch's multicast table, and on the sender's HCA by
//! loopback unless the member blocks it) and no other.

mod common;

use hca_device::HcaPci;
use hca_driver::mr::access;
use hca_driver::{Cq, Device, Mr, Pd, Qp, QpInit, QpType, SendWr, Sge, UdDest};
use hca_engines::Backend;
use hca_fabric::Fabric;
use std::sync::{Arc, Mutex};

const QKEY: u32 = 0x0b1b;

struct Host {
    d: Device<HcaPci>,
    pd: Pd,
    mr: Mr,
    /// The MR's buffer: host address and the iova the MR maps it at.
    buf: u64,
    iova: u64,
    cq: Cq,
    qp: Qp,
    lid: u16,
}

fn host(backend: Backend, fabric: &Arc<Mutex<Fabric>>, endpoint: usize, lid: u16) -> Host {
    let mut d = common::fabric::attached(backend, fabric, endpoint, lid);
    let pd = d.alloc_pd().unwrap();
    let b = d.memory().alloc(64 << 10, 4096).unwrap();
    let iova = 0x4000_0000;
    let mr = d
        .reg_mr(&pd, b.addr, 64 << 10, iova, access::LOCAL_WRITE)
        .unwrap();
    let cq = d.create_cq(64, 0).unwrap();
    let qp = d
        .create_qp(
            &pd,
            &QpInit {
                qp_type: QpType::Ud,
                send_cq: cq,
                recv_cq: cq,
                srq: None,
                max_send_wr: 16,
                max_recv_wr: 16,
                max_send_sge: 2,
                max_recv_sge: 2,
            },
        )
        .unwrap();
    d.connect_qp(&qp, 1, QKEY, None, 0).unwrap();
    Host {
        d,
        pd,
        mr,
        buf: b.addr,
        iova,
        cq,
        qp,
        lid,
    }
}

/// Two HCAs (LIDs 1 and 2) on ports 1 and 2 of one switch.
fn pair(backend: Backend) -> (Arc<Mutex<Fabric>>, Host, Host) {
    let (f, eps) = common::fabric::switched(2, 7, hca_fabric::Faults::NONE);
    let a = host(backend, &f, eps[0], 1);
    let b = host(backend, &f, eps[1], 2);
    (f, a, b)
}

/// Post a receive of `len` bytes at offset `off` of the host's buffer.
fn post_recv(h: &mut Host, off: u64, len: u32) {
    let sge = Sge {
        addr: h.iova + off,
        len,
        lkey: h.mr.lkey,
    };
    h.d.post_recv(&h.qp, &[sge]).unwrap();
}

fn send(a: &mut Host, to_lid: u16, to_qpn: u32, qkey: u32, data: &[u8], imm: Option<u32>) {
    a.d.memory().write(a.buf, data).unwrap();
    let wr = SendWr {
        opcode: if imm.is_some() {
            hca_abi::wqe::opcode::SEND_IMM
        } else {
            hca_abi::wqe::opcode::SEND
        },
        sges: vec![Sge {
            addr: a.iova,
            len: data.len() as u32,
            lkey: a.mr.lkey,
        }],
        signaled: true,
        solicited: false,
        imm: imm.unwrap_or(0),
        remote: None,
        ud: Some(UdDest {
            ah: a.d.create_ah(&a.pd, 1, to_lid, 0).unwrap(),
            dqpn: to_qpn,
            qkey,
        }),
        atomic: None,
    };
    a.d.post_send(&a.qp, &wr).unwrap();
}

/// Poll both hosts until `want` completions came on `b` (or give up).
fn poll_until(
    a: &mut Host,
    b: &mut Host,
    want: usize,
) -> (Vec<hca_driver::Wc>, Vec<hca_driver::Wc>) {
    let (mut wa, mut wb) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        wa.extend(a.d.poll_cq(&a.cq, 16).unwrap());
        wb.extend(b.d.poll_cq(&b.cq, 16).unwrap());
        if wb.len() >= want {
            break;
        }
    }
    (wa, wb)
}

fn ud_between_two_hcas(backend: Backend) {
    let (fabric, mut a, mut b) = pair(backend);
    for k in 0..4 {
        post_recv(&mut b, 0x1000 * (k + 1), 2048);
    }
    let msg: Vec<u8> = (0..300u32).map(|i| (i * 7 + 1) as u8).collect();
    send(&mut a, b.lid, b.qp.qpn, QKEY, &msg, None);
    let (wa, wb) = poll_until(&mut a, &mut b, 1);
    assert_eq!(wa.len(), 1, "{backend}: the send completed: {wa:?}");
    assert!(wa[0].is_send && wa[0].status == 0);
    assert_eq!(wb.len(), 1, "{backend}: one receive: {wb:?}");
    let w = wb[0];
    assert_eq!((w.status, w.byte_len), (0, 40 + 300), "{backend}: {w:?}");
    assert_eq!((w.src_qp, w.slid, w.qpn), (a.qp.qpn, a.lid, b.qp.qpn));
    let mut got = vec![0u8; 300];
    b.d.memory().read(b.buf + 0x1000 + 40, &mut got).unwrap();
    assert_eq!(got, msg, "{backend}: the payload behind the GRH area");

    // With immediate data.
    send(&mut a, b.lid, b.qp.qpn, QKEY, b"imm", Some(0xfeed_f00d));
    let (_, wb) = poll_until(&mut a, &mut b, 1);
    assert_eq!(wb.len(), 1);
    assert_eq!((wb[0].imm, wb[0].byte_len), (0xfeed_f00d, 43));

    // A wrong Q_Key and an unknown QPN are dropped at B, counted; the
    // sends still complete at A (UD has no acknowledgement).
    send(&mut a, b.lid, b.qp.qpn, QKEY + 1, b"bad qkey", None);
    send(&mut a, b.lid, 0x3ff, QKEY, b"nobody", None);
    let (wa, wb) = poll_until(&mut a, &mut b, 1);
    assert_eq!(wa.len(), 2);
    assert!(wb.is_empty(), "{backend}: nothing delivered: {wb:?}");
    let c = b.d.pci().transport_counters().clone();
    assert_eq!(c.get("rx_bad_qkey"), 1, "{backend}: {c:?}");
    assert_eq!(c.get("rx_unknown_qp"), 1, "{backend}: {c:?}");
    assert_eq!(c.delivered, 2);

    // With the receive queue empty the datagram is dropped too; the two
    // receives left take the next two.
    for n in 0..3u8 {
        send(&mut a, b.lid, b.qp.qpn, QKEY, &[n; 16], None);
    }
    let (_, wb) = poll_until(&mut a, &mut b, 3);
    assert_eq!(wb.len(), 2, "{backend}: {wb:?}");
    let c = b.d.pci().transport_counters().clone();
    assert_eq!(c.get("rx_no_receive_wqe"), 1, "{backend}: {c:?}");
    let s = fabric.lock().unwrap().stats();
    assert_eq!(
        s.forwarded, 7,
        "{backend}: every send crossed the switch: {s:?}"
    );
    for h in [&mut a, &mut b] {
        h.d.destroy_qp(&h.qp).unwrap();
        h.d.tear_down().unwrap();
    }
}

/// Another UD QP on `h`, in RTS with its Q_Key, a receive posted at
/// offset `recv_at` of the host's buffer.
fn extra_ud_qp(h: &mut Host, recv_at: u64) -> Qp {
    let init = QpInit {
        qp_type: QpType::Ud,
        send_cq: h.cq,
        recv_cq: h.cq,
        srq: None,
        max_send_wr: 4,
        max_recv_wr: 4,
        max_send_sge: 1,
        max_recv_sge: 1,
    };
    let q = h.d.create_qp(&h.pd, &init).unwrap();
    h.d.connect_qp(&q, 1, QKEY, None, 0).unwrap();
    let sge = Sge {
        addr: h.iova + recv_at,
        len: 2048,
        lkey: h.mr.lkey,
    };
    h.d.post_recv(&q, &[sge]).unwrap();
    q
}

/// A multicast group on three HCAs: a datagram to it reaches every QP
/// attached (on the other HCAs through the switch's multicast table, on
/// the sender's own HCA by loopback) and no other; a member that blocks
/// loopback gets no copy of its own HCA's send.
fn multicast(backend: Backend) {
    let (f, eps) = common::fabric::switched(3, 9, hca_fabric::Faults::NONE);
    const MLID: u16 = 0xc001;
    f.lock()
        .unwrap()
        .switch_mut(0)
        .unwrap()
        .set_multicast(MLID, 0b1110)
        .unwrap();
    let mut hosts: Vec<Host> = (0..3)
        .map(|k| host(backend, &f, eps[k], k as u16 + 1))
        .collect();
    let mgid: [u8; 16] = [
        0xff, 0x12, 0x40, 0x1b, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
    ];
    // A second UD QP on each HCA: on host 1 it stays out of the group, on
    // host 0 it joins blocking loopback; every first QP but the sender's
    // joins.
    let mut seconds = Vec::new();
    for (k, h) in hosts.iter_mut().enumerate() {
        post_recv(h, 0x1000, 2048);
        let q = extra_ud_qp(h, 0x2000);
        if k != 0 {
            h.d.attach_mcast(&h.qp, &mgid, false).unwrap();
        }
        match k {
            0 => h.d.attach_mcast(&q, &mgid, true).unwrap(),
            2 => h.d.attach_mcast(&q, &mgid, false).unwrap(),
            _ => {}
        }
        seconds.push(q);
    }
    // A third QP on the sender's HCA joins without blocking loopback: the
    // HCA loops its own multicast back to it.
    let looped = {
        let h = &mut hosts[0];
        let q = extra_ud_qp(h, 0x3000);
        h.d.attach_mcast(&q, &mgid, false).unwrap();
        q
    };
    let (h0, rest) = hosts.split_at_mut(1);
    let a = &mut h0[0];
    let msg = b"to the whole group";
    a.d.memory().write(a.buf, msg).unwrap();
    let wr = SendWr {
        opcode: hca_abi::wqe::opcode::SEND,
        sges: vec![Sge {
            addr: a.iova,
            len: msg.len() as u32,
            lkey: a.mr.lkey,
        }],
        signaled: true,
        ud: Some(UdDest {
            ah: a.d.create_ah_grh(&a.pd, 1, MLID, 0, mgid).unwrap(),
            dqpn: 0xff_ffff,
            qkey: QKEY,
        }),
        ..Default::default()
    };
    a.d.post_send(&a.qp, &wr).unwrap();
    let mut got: Vec<(usize, u32)> = Vec::new();
    for _ in 0..200 {
        for w in a.d.poll_cq(&a.cq, 8).unwrap() {
            if !w.is_send {
                got.push((0, w.qpn));
            }
        }
        for (k, h) in rest.iter_mut().enumerate() {
            for w in h.d.poll_cq(&h.cq, 8).unwrap() {
                assert_eq!(
                    (w.status, w.byte_len, w.src_qp),
                    (0, 40 + msg.len() as u32, a.qp.qpn)
                );
                got.push((k + 1, w.qpn));
            }
        }
    }
    got.sort();
    let mut want = vec![
        (0, looped.qpn),
        (1, rest[0].qp.qpn),
        (2, rest[1].qp.qpn),
        (2, seconds[2].qpn),
    ];
    want.sort();
    assert_eq!(got, want, "{backend}: the members and no other");
    let c0 = a.d.pci().transport_counters().clone();
    assert_eq!(c0.get("mcast_loopback_blocked"), 1, "{backend}: {c0:?}");
    assert_eq!(c0.get("mcast_looped_back"), 1, "{backend}: {c0:?}");
    let c1 = rest[0].d.pci().transport_counters().clone();
    assert_eq!(c1.get("mcast_delivered"), 1, "{backend}: {c1:?}");
    let mut body = vec![0u8; msg.len()];
    rest[1]
        .d
        .memory()
        .read(rest[1].buf + 0x2000 + 40, &mut body)
        .unwrap();
    assert_eq!(&body, msg);
    let mut grh = [0u8; 40];
    rest[1]
        .d
        .memory()
        .read(rest[1].buf + 0x2000, &mut grh)
        .unwrap();
    assert_eq!(
        &grh[24..40],
        &mgid,
        "{backend}: the GRH in the first 40 bytes"
    );
}

hca_engines::on_every_backend! {
    fn multicast_reaches_every_member_and_no_other(backend: Backend) {
        multicast(backend)
    }
}

hca_engines::on_every_backend! {
    fn ud_sends_cross_the_fabric(backend: Backend) {
        ud_between_two_hcas(backend)
    }
}
