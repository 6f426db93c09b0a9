//! What the driver tests share: a driver on a device on a backend, and the
//! device-side stand-ins for the transport engine (a completion posted
//! into a CQ, a TPT lookup).

#![allow(dead_code)]

pub mod fabric;

use hca_abi::pci::{MsiMessage, PciFunction};
use hca_abi::HostMemory;
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
    let dev = hca_device::blocks::device_on(backend).expect("the device's blocks");
    Device::new(dev, p).expect("driver")
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

/// Small queues of type `t`, both on `cq`.
pub fn small_qp_init(t: QpType, cq: Cq) -> QpInit {
    QpInit {
        qp_type: t,
        send_cq: cq,
        recv_cq: cq,
        srq: None,
        max_send_wr: 8,
        max_recv_wr: 8,
        max_send_sge: 1,
        max_recv_sge: 1,
    }
}

/// A QP of type `t` in RESET with small queues, both on `cq`.
pub fn small_qp<P: PciFunction>(d: &mut Device<P>, pd: &Pd, t: QpType, cq: Cq) -> Qp {
    d.create_qp(pd, &small_qp_init(t, cq)).expect("a small QP")
}

/// What a [`Tapped`] device does besides the real one.
pub trait Tap {
    /// After the device took an MMIO write.
    fn after_write(&mut self, _bar: u8, _offset: u64, _data: &[u8], _mem: &mut dyn HostMemory) {}
    /// After the device answered an MMIO read: change the answer.
    fn after_read(&mut self, _bar: u8, _offset: u64, _buf: &mut [u8]) {}
}

/// The simulated HCA with a [`Tap`] between it and the driver, for tests
/// of a device misbehaving.
pub struct Tapped<T: Tap> {
    pub inner: HcaPci,
    pub tap: T,
}

impl<T: Tap> Tapped<T> {
    pub fn new(backend: Backend, tap: T) -> Tapped<T> {
        Tapped {
            inner: HcaPci::with_firmware(firmware_on(backend).expect("firmware")),
            tap,
        }
    }
}

impl<T: Tap> PciFunction for Tapped<T> {
    fn config_size(&self) -> u64 {
        self.inner.config_size()
    }
    fn bar_size(&self, bar: u8) -> u64 {
        self.inner.bar_size(bar)
    }
    fn config_read(&mut self, offset: u64, buf: &mut [u8]) {
        self.inner.config_read(offset, buf)
    }
    fn config_write(&mut self, offset: u64, data: &[u8]) {
        self.inner.config_write(offset, data)
    }
    fn mmio_read(&mut self, bar: u8, offset: u64, buf: &mut [u8]) {
        self.inner.mmio_read(bar, offset, buf);
        self.tap.after_read(bar, offset, buf);
    }
    fn mmio_write(&mut self, bar: u8, offset: u64, data: &[u8], mem: &mut dyn HostMemory) {
        self.inner.mmio_write(bar, offset, data, mem);
        self.tap.after_write(bar, offset, data, mem);
    }
    fn take_msis(&mut self) -> Vec<MsiMessage> {
        self.inner.take_msis()
    }
}
