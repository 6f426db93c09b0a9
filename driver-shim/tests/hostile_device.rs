//! A device answering nonsense must not make the driver panic: a
//! `PciFunction` wrapper corrupts bytes of the output mailbox after the
//! commands it completes (QUERY_FW, QUERY_DEV_CAP, QUERY_PORT, QUERY_QP,
//! READ_MCG...), seed by seed; bring-up, a few objects and teardown then
//! either work or fail with a typed error. The seed is printed.

mod common;

use common::{small_qp_init, Tap, Tapped};
use hca_abi::bar0::{self, hcr};
use hca_abi::HostMemory;
use hca_driver::mr::access;
use hca_driver::{Device, Profile, QpType};
use hca_engines::Backend;
use hca_testbench::Seed;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Corrupts bytes of a command's output mailbox after a third of the
/// commands, once the device has written it.
struct Hostile {
    rng: ChaCha8Rng,
    hcr: [u32; 7],
}

impl Tap for Hostile {
    fn after_write(&mut self, bar: u8, offset: u64, data: &[u8], mem: &mut dyn HostMemory) {
        let word = (bar == 0 && data.len() == 4)
            .then(|| offset.checked_sub(bar0::HCR_BASE))
            .flatten()
            .filter(|o| o % 4 == 0 && o / 4 < 7)
            .map(|o| (o / 4) as usize);
        let Some(w) = word else { return };
        self.hcr[w] = u32::from_be_bytes(data.try_into().expect("4 bytes"));
        if w == 6 && self.hcr[6] & hcr::GO != 0 {
            let out = (self.hcr[3] as u64) << 32 | self.hcr[4] as u64;
            if out != 0 && self.rng.gen_ratio(1, 3) {
                for _ in 0..self.rng.gen_range(1..8) {
                    let at = out + self.rng.gen_range(0..256);
                    let _ = mem.write(at, &[self.rng.gen()]);
                }
            }
        }
    }
}

fn one_run(backend: Backend, seed: u64) -> Result<(), hca_driver::Error> {
    let dev = Tapped::new(
        backend,
        Hostile {
            rng: ChaCha8Rng::seed_from_u64(seed),
            hcr: [0; 7],
        },
    );
    let mut d = Device::new(dev, Profile::default())?;
    let r = (|| {
        d.bring_up()?;
        let pd = d.alloc_pd()?;
        let cq = d.create_cq(31, 0)?;
        let qp = d.create_qp(&pd, &small_qp_init(QpType::Ud, cq))?;
        d.connect_qp(&qp, 1, 0x11, None, 0)?;
        d.query_qp(&qp)?;
        d.query_port(1)?;
        d.attach_mcast(
            &qp,
            &[
                0xff, 0x12, 0x40, 0x1b, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
            ],
            false,
        )?;
        d.mcg_table()?;
        let buf = d.memory().alloc(4096, 4096)?;
        d.reg_mr(&pd, buf.addr, 4096, 0, access::ALL)?;
        Ok(())
    })();
    let _ = d.tear_down();
    r
}

fn hostile(backend: Backend) {
    let base = Seed::from_env().0;
    println!("hostile device on {backend}: HCA_SEED={base}");
    let (mut ok, mut failed) = (0, 0);
    for k in 0..60u64 {
        match one_run(backend, base.wrapping_add(k)) {
            Ok(()) => ok += 1,
            Err(_) => failed += 1,
        }
    }
    println!("{ok} runs got through, {failed} stopped with a typed error");
    assert!(failed > 0, "seed {base}: corruption never noticed");
}

hca_engines::on_every_backend! {
    fn a_device_answering_nonsense_gets_errors_not_panics(backend: Backend) {
        hostile(backend)
    }
}
