//! What the driver tests share: a driver on a device on a backend, and the
//! device-side stand-ins for the transport engine (a completion posted
//! into a CQ, a TPT lookup).

#![allow(dead_code)]

use hca_device::blocks::firmware_on;
use hca_device::HcaPci;
use hca_driver::{Cq, Device, Pd, Profile, Qp, QpInit, QpType};
use hca_engines::Backend;
use hca_rtl::cq::Cqe;
use hca_rtl::tpt::{access, status, TptReq};

pub fn device(backend: Backend) -> Device<HcaPci> {
    device_with(backend, Profile::default())
}

pub fn device_with(backend: Backend, p: Profile) -> Device<HcaPci> {
    let fw = firmware_on(backend).expect("firmware");
    Device::new(HcaPci::with_firmware(fw), p).expect("driver")
}

pub fn up(backend: Backend) -> Device<HcaPci> {
    let mut d = device(backend);
    d.bring_up()
        .unwrap_or_else(|e| panic!("{backend}: bring-up: {e}"));
    d
}

/// Post a completion for `qpn` into CQ `cqn` as the transport engine
/// will, then run the interrupt handlers.
pub fn complete(d: &mut Device<HcaPci>, cqn: u32, qpn: u32, wqe: u16) {
    let cqe = Cqe {
        my_qpn: qpn,
        wqe_index: wqe,
        byte_cnt: 64,
        ..Default::default()
    };
    let (pci, mem) = d.pci_and_memory();
    let s = pci
        .complete(cqn, cqe, false, mem.host())
        .expect("the engine answers");
    assert_eq!(s, hca_rtl::cq::status::OK, "completion into CQ {cqn:#x}");
    d.service_interrupts();
}

/// A 16-byte local read through `key` at `va`: the pages the TPT gives, or
/// its refusal.
pub fn lookup(
    d: &mut Device<HcaPci>,
    key: u32,
    pd: u32,
    va: u64,
) -> Result<Vec<u64>, &'static str> {
    let (pci, mem) = d.pci_and_memory();
    let r = pci
        .firmware_mut()
        .tpt_request(
            TptReq::lookup(key, pd, va, 16, access::LOCAL_READ),
            mem.host(),
        )
        .expect("the TPT answers");
    match r.status {
        status::OK => Ok(r.pages),
        s => Err(status::name(s)),
    }
}

/// A QP of type `t` in RESET with small queues, both on `cq`.
pub fn small_qp(d: &mut Device<HcaPci>, pd: &Pd, t: QpType, cq: Cq) -> Qp {
    d.create_qp(
        pd,
        &QpInit {
            qp_type: t,
            send_cq: cq,
            recv_cq: cq,
            srq: None,
            max_send_wr: 8,
            max_recv_wr: 8,
            max_send_sge: 1,
            max_recv_sge: 1,
        },
    )
    .expect("a small QP")
}
