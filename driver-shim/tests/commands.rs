//! The command interface through the driver on every backend: event mode
//! after bring-up (the NOP interrupt test passed), a command whose
//! completion event cannot arrive (its vector masked) times out and
//! leaves the driver usable, the late event is recognised as stale; a
//! device that never clears GO times a polled command out, and the driver
//! brings the device up once it answers again. Every command is counted
//! with its status.

mod common;

use common::{up, Tap, Tapped};
use hca_abi::bar0;
use hca_abi::HostMemory;
use hca_driver::cmd::Mode;
use hca_driver::{Device, Error, Profile};
use hca_engines::Backend;

fn event_mode_and_a_lost_event(backend: Backend) {
    let mut d = up(backend);
    assert_eq!(d.command_mode(), Mode::Events, "{backend}");
    assert_eq!(
        d.command_stats().get(&("NOP", "OK")).map(|c| c.count),
        Some(1)
    );
    d.query_port(1).unwrap();

    // Vector 0 masked: the completion EQE is written, its MSI held back.
    d.mask_vector(0, true);
    let e = d.query_port(1);
    assert!(
        matches!(
            e,
            Err(Error::Timeout {
                name: "QUERY_PORT",
                ..
            })
        ),
        "{backend}: {e:?}"
    );
    // Unmasked, the pending message goes out; its token was retired.
    d.mask_vector(0, false);
    d.query_port(1).unwrap();
    assert_eq!(
        d.command_stats()
            .get(&("QUERY_PORT", "TIMEOUT"))
            .map(|c| c.count),
        Some(1)
    );
    assert_eq!(
        d.stale_command_events(),
        1,
        "{backend}: the late completion was recognised"
    );
    let cq = d.create_cq(7, 0).unwrap();
    d.destroy_cq(&cq).unwrap();
    d.tear_down().unwrap();
}

/// A device whose HCR keeps GO set after the next command is posted, once
/// `arm` is on, as a hung firmware would, until `hung` is cleared.
struct Hung {
    arm: bool,
    hung: bool,
}

impl Tap for Hung {
    fn after_read(&mut self, bar: u8, offset: u64, buf: &mut [u8]) {
        if self.hung && bar == 0 && offset == bar0::HCR_BASE + 24 && buf.len() == 4 {
            buf[1] |= 0x80;
        }
    }
    fn after_write(&mut self, bar: u8, offset: u64, _data: &[u8], _mem: &mut dyn HostMemory) {
        if self.arm && bar == 0 && offset == bar0::HCR_BASE + 24 {
            self.hung = true;
        }
    }
}

fn a_hung_device_times_out(backend: Backend) {
    let hung = Tapped::new(
        backend,
        Hung {
            arm: true,
            hung: false,
        },
    );
    let mut d = Device::new(hung, Profile::default()).unwrap();
    let e = d.bring_up();
    assert!(
        matches!(
            e,
            Err(Error::Timeout {
                name: "QUERY_FW",
                ..
            })
        ),
        "{backend}: {e:?}"
    );
    assert!(!d.is_up());
    // Still hung: the next command finds the HCR busy.
    assert!(matches!(d.bring_up(), Err(Error::Busy { .. })), "{backend}");
    (d.pci().tap.arm, d.pci().tap.hung) = (false, false);
    d.bring_up()
        .unwrap_or_else(|e| panic!("{backend}: after the hang: {e}"));
    d.tear_down().unwrap();
}

hca_engines::on_every_backend! {
    fn commands_by_event_survive_a_lost_event(backend: Backend) {
        event_mode_and_a_lost_event(backend)
    }
}

hca_engines::on_every_backend! {
    fn a_hung_hcr_times_out_and_the_driver_recovers(backend: Backend) {
        a_hung_device_times_out(backend)
    }
}
