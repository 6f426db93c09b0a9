//! The SRQ limit event through the driver on every backend: ARM_SRQ's
//! watermark, WQEs posted by the driver and taken by the device (as the
//! transport engine will take them), the event on the async EQ naming the
//! SRQ once fewer than the limit are left, the limit disarmed until the
//! driver arms it again; taking more than are posted is refused.

mod common;

use common::up;
use hca_abi::entries::eqe::event;
use hca_device::HcaPci;
use hca_driver::{Device, Sge, Srq};
use hca_engines::Backend;

fn take(d: &mut Device<HcaPci>, srq: &Srq, n: u16) -> Result<u16, String> {
    let (pci, mem) = d.pci_and_memory();
    let r = pci.act(mem.host(), |fw, mem| fw.srq_take(srq.srqn, n, mem));
    d.service_interrupts();
    r.map_err(|(s, why)| format!("{s}: {why}"))
}

fn limit_events(d: &mut Device<HcaPci>, srq: &Srq) -> usize {
    d.take_events()
        .async_events
        .iter()
        .filter(|e| e.event_type == event::SRQ_LIMIT && e.data == srq.srqn)
        .count()
}

fn limit_event(backend: Backend) {
    let mut d = up(backend);
    let pd = d.alloc_pd().unwrap();
    let srq = d.create_srq(&pd, 31, 1).unwrap();
    let sge = Sge {
        addr: 0x1000,
        len: 64,
        lkey: 0x100,
    };
    for _ in 0..8 {
        d.post_srq_recv(&srq, &[sge]).unwrap();
    }
    d.arm_srq(&srq, 4).unwrap();
    let _ = d.take_events();
    assert_eq!(take(&mut d, &srq, 4), Ok(4), "{backend}");
    assert_eq!(
        limit_events(&mut d, &srq),
        0,
        "{backend}: 4 left, not below 4"
    );
    assert_eq!(take(&mut d, &srq, 1), Ok(3));
    assert_eq!(
        limit_events(&mut d, &srq),
        1,
        "{backend}: below the limit: one event"
    );
    assert_eq!(
        d.query_srq(&srq).unwrap().limit_watermark,
        0,
        "{backend}: disarmed"
    );
    assert_eq!(take(&mut d, &srq, 1), Ok(2));
    assert_eq!(
        limit_events(&mut d, &srq),
        0,
        "{backend}: no second event while disarmed"
    );
    d.arm_srq(&srq, 2).unwrap();
    assert_eq!(take(&mut d, &srq, 1), Ok(1));
    assert_eq!(
        limit_events(&mut d, &srq),
        1,
        "{backend}: re-armed, it fires again"
    );
    assert!(
        take(&mut d, &srq, 2).is_err(),
        "{backend}: one left, two taken"
    );
    assert_eq!(
        d.query_srq(&srq).unwrap().wqe_counter,
        7,
        "{backend}: nothing taken by the refusal"
    );
    d.destroy_srq(&srq).unwrap();
    d.tear_down().unwrap();
}

hca_engines::on_every_backend! {
    fn the_srq_limit_event_fires_once_per_arming(backend: Backend) {
        limit_event(backend)
    }
}
