//! HCAs on a fabric for the traffic tests: a switch, a port per HCA, and
//! each port taken to ACTIVE the way a subnet manager on its host would
//! (SubnSet(PortInfo) through MAD_IFC: a LID, ARMED, ACTIVE), checking the
//! driver hears PORT_CHANGE.

use hca_abi::entries::eqe::event;
use hca_device::{FabricPort, HcaPci};
use hca_driver::Device;
use hca_engines::Backend;
use hca_fabric::{Attach, Fabric, Faults, LinkConfig};
use std::sync::{Arc, Mutex};

/// A fabric of one switch with `n` endpoints on ports 1..=n, LID k+1 on
/// port k+1, every link with `faults`.
pub fn switched(n: usize, seed: u64, faults: Faults) -> (Arc<Mutex<Fabric>>, Vec<usize>) {
    let mut f = Fabric::new(seed);
    let s = f.add_switch("sw0", n as u8);
    let cfg = LinkConfig {
        faults,
        ..Default::default()
    };
    let mut eps = Vec::new();
    for k in 0..n {
        let e = f.add_endpoint(&format!("hca{k}/1"));
        f.connect(Attach::Endpoint(e), Attach::Switch(s, k as u8 + 1), cfg)
            .unwrap();
        f.switch_mut(s)
            .unwrap()
            .set_route(k as u16 + 1, k as u8 + 1)
            .unwrap();
        eps.push(e);
    }
    (Arc::new(Mutex::new(f)), eps)
}

/// What a subnet manager on the host does to its own port.
pub fn activate(d: &mut Device<HcaPci>, lid: u16) {
    let pi = d
        .activate_port(1, lid, 1)
        .expect("Set(PortInfo): LID, ARMED, ACTIVE");
    assert_eq!((pi.lid, pi.port_state), (lid, 4), "ACTIVE with its LID");
    d.service_interrupts();
    let ev = d.take_events();
    assert!(
        ev.async_events
            .iter()
            .any(|e| e.event_type == event::PORT_CHANGE && e.subtype == 4 && e.data == 1),
        "the driver hears port 1 go ACTIVE: {:?}",
        ev.async_events
    );
}

/// An HCA on `backend` whose port 1 sits on `endpoint`, up, with LID `lid`
/// and its port ACTIVE.
pub fn attached(
    backend: Backend,
    fabric: &Arc<Mutex<Fabric>>,
    endpoint: usize,
    lid: u16,
) -> Device<HcaPci> {
    let mut d = super::device(backend);
    d.pci()
        .attach(
            1,
            FabricPort {
                fabric: fabric.clone(),
                endpoint,
            },
        )
        .unwrap();
    d.bring_up().unwrap();
    activate(&mut d, lid);
    d
}
