//! Bring-up and teardown through the PCI function on every backend.

use hca_device::blocks::firmware_on;
use hca_device::HcaPci;
use hca_driver::{Device, Profile};
use hca_engines::Backend;

fn device(backend: Backend) -> Device<HcaPci> {
    let fw = firmware_on(backend).expect("firmware");
    Device::new(HcaPci::with_firmware(fw), Profile::default()).expect("driver")
}

fn up_and_down_twice(backend: Backend) {
    let mut d = device(backend);
    let idle = d.resources();
    for round in 0..2 {
        let b = d
            .bring_up()
            .unwrap_or_else(|e| panic!("{backend} round {round}: {e}"));
        assert_eq!(b.vectors, 3, "{backend}");
        assert!(d.is_up());
        d.tear_down()
            .unwrap_or_else(|e| panic!("{backend} round {round}: {e}"));
        assert_eq!(
            d.resources(),
            idle,
            "{backend} round {round}: everything freed"
        );
        assert!(
            !d.pci().firmware().running(),
            "{backend}: the firmware stopped"
        );
    }
}

hca_engines::on_every_backend! {
    fn bring_up_and_tear_down_twice(backend: Backend) {
        up_and_down_twice(backend)
    }
}
