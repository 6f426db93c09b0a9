//! UD traffic between two HCAs on one fabric, through the Rust driver, on
//! every backend: each port brought to ACTIVE the way a subnet manager on
//! its host would (SubnSet(PortInfo) through MAD_IFC: LID, ARMED, ACTIVE,
//! and the driver sees PORT_CHANGE), a UD QP on each walked to RTS, then
//! sends with and without immediate data cross the switch, land behind
//! the receive's 40-byte GRH area and complete on both sides; sends with
//! a wrong Q_Key, to a QP that does not exist, or with no receive posted
//! are dropped and counted by reason, and good traffic goes on.

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

hca_engines::on_every_backend! {
    fn ud_sends_cross_the_fabric(backend: Backend) {
        ud_between_two_hcas(backend)
    }
}
