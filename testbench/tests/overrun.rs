//! No request can hang a clocked backend: the transactor holds each
//! request to its block's cycle bound and turns an overrun into an error
//! that names the block, the request, the cycles and the seed, resets the
//! block and goes on. Forced here with a bound too small for any request;
//! each block on every backend (the untimed model has no cycles to bound).

use hca_abi::SparseIcm;
use hca_engines::blocks::{atomic, cq, qpc, tpt};
use hca_engines::on_every_backend;
use hca_engines::Backend;
use hca_rtl::atomic::AtomicReq;
use hca_rtl::cq::CqReq;
use hca_rtl::qpc::QpcReq;
use hca_rtl::tpt::{status, TptReq};
use hca_rtl::{Transactor, TransactorError};
use hca_testbench::stream::Pacing;
use std::fmt::Debug;

const SEED: u64 = 0x5eed;

/// Run `first` with a bound of 0 cycles: an overrun on a clocked backend,
/// answered on the model. Then, with the block's own bound back, `then`
/// answers as a fresh `model` does (the overrun left nothing behind).
fn overrun_then_recover<T, M, R>(
    backend: Backend,
    block: &str,
    dut: &mut T,
    model: &mut M,
    first: R,
    then: &[R],
) where
    T: Transactor<Req = R> + ?Sized,
    M: Transactor<Req = R, Resp = T::Resp> + ?Sized,
    T::Resp: PartialEq + Debug,
    R: Clone + Debug,
{
    dut.set_cycle_limit(Some(0));
    match (
        backend.is_clocked(),
        dut.transact(std::slice::from_ref(&first), &mut SparseIcm::new()),
    ) {
        (true, Err(e)) => {
            let TransactorError::Overrun {
                block: b,
                request,
                cycles,
                bound,
                seed,
            } = &e
            else {
                panic!("{backend}: expected an overrun, got {e}")
            };
            assert_eq!((*b, *bound, *seed), (block, 0, SEED), "{e}");
            assert!(*cycles > 0, "{e}");
            assert_eq!(
                request,
                &format!("{first:?}"),
                "the error names the request"
            );
            let text = e.to_string();
            for part in [block, "cycles", "seed 0x5eed", "reset"] {
                assert!(text.contains(part), "{text:?} names {part}");
            }
        }
        (false, Ok(_)) => {}
        (clocked, r) => panic!("{backend} (clocked {clocked}): {r:?}"),
    }
    dut.set_cycle_limit(None);
    // Fresh memory on both sides: what a block left in ICM before its
    // reset is not the question here.
    let got = dut
        .transact(then, &mut SparseIcm::new())
        .expect("the block answers again after its reset");
    let want = model.transact(then, &mut SparseIcm::new()).expect("model");
    assert_eq!(
        got, want,
        "{backend}: after the reset the block answers as a fresh model"
    );
}

on_every_backend! {
    fn atomic_unit(backend: Backend) {
        let mut dut = atomic::open(backend, None, Pacing::RANDOM, SEED).expect("open");
        let reqs = [AtomicReq::write(8, 5), AtomicReq::fadd(8, 2), AtomicReq::read(8)];
        let mut model = atomic::open(Backend::Model, None, Pacing::RANDOM, SEED).expect("model");
        overrun_then_recover(backend, "atomic", &mut dut, &mut model, AtomicReq::read(0), &reqs);
    }
}

on_every_backend! {
    fn qp_context(backend: Backend) {
        let mut dut = qpc::open(backend, None, Pacing::RANDOM, SEED).expect("open");
        let mut model = qpc::open(Backend::Model, None, Pacing::RANDOM, SEED).expect("model");
        overrun_then_recover(backend, "QPC", &mut dut, &mut model, QpcReq::query(3), &[QpcReq::query(3)]);
    }
}

on_every_backend! {
    fn cq_eq_engine(backend: Backend) {
        let mut dut = cq::open(backend, None, Pacing::RANDOM, SEED).expect("open");
        let hw2sw = CqReq::Hw2SwCq { cqn: 1 };
        let mut model = cq::open(Backend::Model, None, Pacing::RANDOM, SEED).expect("model");
        overrun_then_recover(backend, "CQ/EQ engine", &mut dut, &mut model, hw2sw, &[hw2sw]);
    }
}

on_every_backend! {
    fn translation_table(backend: Backend) {
        let mut dut = tpt::open(backend, None, Pacing::RANDOM, SEED).expect("open");
        let mut model = tpt::open(Backend::Model, None, Pacing::RANDOM, SEED).expect("model");
        overrun_then_recover(backend, "TPT", &mut dut, &mut model, TptReq::query(4), &[TptReq::query(4)]);
        // After the reset the TPT answers as its model does.
        let r = dut.transact(&[TptReq::lookup(4 << 8, 0, 0, 8, 0)], &mut SparseIcm::new()).expect("lookup");
        assert_eq!(r[0].status, status::NOT_VALID);
    }
}
