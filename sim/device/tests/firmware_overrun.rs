//! A block that overruns its cycle bound fails the command that drove it
//! with INTERNAL_ERR, whose reason names the block and the bound; the
//! device goes on answering MMIO, the block is reset, and the next command
//! works. The overrun is forced with a bound of 0 cycles (the untimed model
//! has none to bound, and so completes the command). The commands go
//! through the project's driver, brought up before the bound is set.

mod common;

use common::*;
use hca_device::PciFunction as _;
use hca_engines::blocks::{cq, tpt};
use hca_firmware::bar0;
use hca_firmware::mr::{MlxMpt, OWNER_SW};
use hca_firmware::opcode as op;
use hca_firmware::{Engines, Firmware, Status};
use hca_rtl::tpt::{TptReq, TptResp};
use hca_rtl::transactor::BlockMemory;
use hca_rtl::{Transactor, TransactorError};
use hca_testbench::stream::Pacing;
use std::sync::{Arc, Mutex};

/// A TPT whose cycle limit the test sets while the firmware owns it.
struct Limited {
    inner: tpt::TptTransactor,
    limit: Arc<Mutex<Option<u64>>>,
}

impl Transactor for Limited {
    type Req = TptReq;
    type Resp = TptResp;

    fn transact(
        &mut self,
        reqs: &[TptReq],
        mem: &mut dyn BlockMemory,
    ) -> Result<Vec<TptResp>, TransactorError> {
        self.inner
            .set_cycle_limit(*self.limit.lock().expect("limit"));
        self.inner.transact(reqs, mem)
    }

    fn reset(&mut self) -> Result<(), TransactorError> {
        self.inner.reset()
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn cycles(&self) -> u64 {
        self.inner.cycles()
    }
}

fn dma_region(key: u32) -> Vec<u8> {
    MlxMpt {
        owner: OWNER_SW,
        mio: true,
        region: true,
        physical: true,
        access: 0x1f,
        key,
        pd: 2,
        start: 0,
        length: u64::MAX,
        entity_size: 12,
        ..Default::default()
    }
    .encode()
}

hca_engines::on_every_backend! {
    fn an_overrun_is_internal_err_and_the_device_goes_on(backend: Backend) {
        let limit = Arc::new(Mutex::new(None));
        let tpt = Limited {
            inner: tpt::open(backend, None, Pacing::RANDOM, 5).expect("TPT"),
            limit: limit.clone(),
        };
        let firmware = Firmware::with_engines(Engines {
            cq: cq::open(backend, None, Pacing::FULL_SPEED, 0).expect("CQ engine"),
            tpt: Box::new(tpt),
            ..Engines::default()
        });
        let mut d = up_on(firmware);
        // MPTs the driver has not handed out, their dMPT chunk mapped.
        map_object(&mut d, "dMPT", 1);
        map_object(&mut d, "dMPT", 2);
        let _ = trace(&mut d);

        *limit.lock().unwrap() = Some(0);
        let s = cmd_in(&mut d, op::SW2HW_MPT, 0, &dma_region(1), 1);
        let trace = trace(&mut d);
        if backend.is_clocked() {
            assert_eq!(s, Status::InternalErr);
            let detail = trace[0].detail.clone().unwrap_or_default();
            assert!(detail.contains("TPT") && detail.contains("its bound is 0"), "{detail}");
            assert!(with_fw(&mut d, |f, mem| f.mpt(1, mem)).is_none(), "nothing registered");
        } else {
            assert_eq!(s, Status::Ok, "the model has no cycles to bound");
        }
        // The device still answers MMIO: the HCR is idle, the firmware's
        // version is read back.
        let mut word = [0u8; 4];
        d.pci().mmio_read(0, bar0::HCR_BASE + 24, &mut word);
        assert_eq!(u32::from_be_bytes(word) >> 23 & 1, 0, "GO is clear");
        assert_eq!(cmd_out(&mut d, op::QUERY_FW, 0, 0).0, Status::Ok);

        // With the bound back, the reset TPT takes the next command.
        *limit.lock().unwrap() = None;
        assert_eq!(cmd_in(&mut d, op::SW2HW_MPT, 0, &dma_region(2 | 0x10 << 24), 2), Status::Ok);
        assert!(with_fw(&mut d, |f, mem| f.mpt(2, mem)).is_some());
    }
}
