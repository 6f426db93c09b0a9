//! The atomic unit: random differential runs against the model, and
//! directed cases with hand-worked results, each on every backend.

mod common;

use hca_abi::NoMemory;
use hca_engines::on_every_backend;
use hca_rtl::transactor::WithMemory;

use hca_engines::blocks::atomic::{open, AtomicTransactor};
use hca_engines::Backend;
use hca_rtl::atomic::{AtomicReq as R, AtomicResp, AtomicStatus, MEM_BYTES};
use hca_testbench::blocks::atomic::differential;
use hca_testbench::runner::run_replayable;
use hca_testbench::stream::Pacing;
use hca_testbench::Seed;

const RANDOM_OPS: u64 = 100_000;

fn ok(original: u64) -> AtomicResp {
    AtomicResp {
        status: AtomicStatus::Ok,
        original,
    }
}

fn err(status: AtomicStatus) -> AtomicResp {
    AtomicResp {
        status,
        original: 0,
    }
}

/// Run `steps` (request, expected response) through a fresh unit on
/// `backend`, back to back and then again with random back-pressure.
fn directed(test: &str, backend: Backend, steps: &[(R, AtomicResp)]) {
    let reqs: Vec<R> = steps.iter().map(|s| s.0).collect();
    let want: Vec<AtomicResp> = steps.iter().map(|s| s.1).collect();
    for pacing in [Pacing::FULL_SPEED, Pacing::RANDOM] {
        let seed = Seed::from_env();
        run_replayable(test, backend.name(), seed, &common::wave_dir(), |wave| {
            let mut dut: AtomicTransactor =
                open(backend, wave, pacing, seed.0).map_err(|e| e.to_string())?;
            let got = dut
                .transact(&reqs, &mut NoMemory::default())
                .map_err(|e| e.to_string())?;
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                if g != w {
                    return Err(format!(
                        "step {i} ({:?}, pacing {pacing:?}): expected {w:?}, got {g:?}",
                        reqs[i]
                    ));
                }
            }
            Ok(())
        });
    }
}

on_every_backend! {
    fn random_differential(backend: Backend) {
        let seed = Seed::from_env();
        let stats = run_replayable("random_differential", backend.name(), seed, &common::wave_dir(), |wave| {
            let mut dut = open(backend, wave, Pacing::RANDOM, seed.0).map_err(|e| e.to_string())?;
            differential(&mut dut, &mut seed.rng("atomic-stimulus"), RANDOM_OPS, |_| {})
        });
        println!("{}", stats.summary());
        assert_eq!(stats.ops, RANDOM_OPS);
        // The stimulus must reach every op and the error paths.
        assert!(stats.per_op.iter().all(|&n| n > 1000), "{}", stats.summary());
        assert!(stats.errors > 1000, "{}", stats.summary());
    }
}

on_every_backend! {
    fn memory_starts_zero(backend: Backend) {
        let steps: Vec<_> = [0, 8, 0x800, MEM_BYTES - 8].iter().map(|&a| (R::read(a), ok(0))).collect();
        directed("memory_starts_zero", backend, &steps);
    }
}

on_every_backend! {
    fn cas_full_width(backend: Backend) {
        directed("cas_full_width", backend, &[
            (R::write(0x40, 0x1111_2222_3333_4444), ok(0)),
            (R::cas(0x40, 0x1111_2222_3333_4445, 7), ok(0x1111_2222_3333_4444)), // miss
            (R::cas(0x40, 0x1111_2222_3333_4444, 7), ok(0x1111_2222_3333_4444)), // hit
            (R::read(0x40), ok(7)),
        ]);
    }
}

on_every_backend! {
    fn fadd_wraps(backend: Backend) {
        directed("fadd_wraps", backend, &[
            (R::write(0x48, u64::MAX), ok(0)),
            (R::fadd(0x48, 2), ok(u64::MAX)),
            (R::fadd(0x48, 0x8000_0000_0000_0000), ok(1)),
            (R::read(0x48), ok(0x8000_0000_0000_0001)),
        ]);
    }
}

on_every_backend! {
    fn masked_cas_masks(backend: Backend) {
        const W: u64 = 0x0123_4567_89ab_cdef;
        directed("masked_cas_masks", backend, &[
            (R::write(0x100, W), ok(0)),
            // Both masks zero: compares nothing (always a match) and swaps nothing.
            (R::masked_cas(0x100, !W, 0, 0, 0), ok(W)),
            (R::read(0x100), ok(W)),
            // Both masks all ones: a plain CAS; first a miss, then a hit.
            (R::masked_cas(0x100, W ^ 1, 5, !0, !0), ok(W)),
            (R::masked_cas(0x100, W, 5, !0, !0), ok(W)),
            (R::read(0x100), ok(5)),
            (R::write(0x100, W), ok(5)),
            // An 8-bit field: compare the low byte (0xef), swap the top byte.
            (R::masked_cas(0x100, 0xef, 0xaa00_0000_0000_0000, 0xff, 0xff00_0000_0000_0000), ok(W)),
            (R::read(0x100), ok(0xaa23_4567_89ab_cdef)),
            // A 16-bit field that does not match: nothing changes.
            (R::masked_cas(0x100, 0xcdee, !0, 0xffff, 0xffff), ok(0xaa23_4567_89ab_cdef)),
            // A 32-bit field: compare the low half, swap the high half.
            (R::masked_cas(0x100, 0x89ab_cdef, 0xdead_beef_0000_0000, 0xffff_ffff, 0xffff_ffff_0000_0000), ok(0xaa23_4567_89ab_cdef)),
            (R::read(0x100), ok(0xdead_beef_89ab_cdef)),
        ]);
    }
}

on_every_backend! {
    fn masked_fadd_field_boundaries(backend: Backend) {
        directed("masked_fadd_field_boundaries", backend, &[
            (R::write(0x200, 0x00ff_00ff_00ff_00ff), ok(0)),
            // No-carry mask zero: an ordinary add, the carry runs through.
            (R::masked_fadd(0x200, 1, 0), ok(0x00ff_00ff_00ff_00ff)),
            (R::read(0x200), ok(0x00ff_00ff_00ff_0100)),
            (R::write(0x200, 0x00ff_00ff_00ff_00ff), ok(0x00ff_00ff_00ff_0100)),
            // 8-bit fields: every byte adds 1 and wraps on its own.
            (R::masked_fadd(0x200, 0x0101_0101_0101_0101, 0x8080_8080_8080_8080), ok(0x00ff_00ff_00ff_00ff)),
            (R::read(0x200), ok(0x0100_0100_0100_0100)),
            // 16-bit fields.
            (R::write(0x200, 0xffff_0001_ffff_0001), ok(0x0100_0100_0100_0100)),
            (R::masked_fadd(0x200, 0x0001_0001_0001_0001, 0x8000_8000_8000_8000), ok(0xffff_0001_ffff_0001)),
            (R::read(0x200), ok(0x0000_0002_0000_0002)),
            // 32-bit fields: the low half wraps without touching the high half.
            (R::write(0x200, 0x0000_0005_ffff_ffff), ok(0x0000_0002_0000_0002)),
            (R::masked_fadd(0x200, 0x0000_0001_0000_0001, 0x8000_0000_8000_0000), ok(0x0000_0005_ffff_ffff)),
            (R::read(0x200), ok(0x0000_0006_0000_0000)),
            // All ones: no carry anywhere, the add is an XOR.
            (R::masked_fadd(0x200, 0x0000_0006_0000_0001, !0), ok(0x0000_0006_0000_0000)),
            (R::read(0x200), ok(0x0000_0000_0000_0001)),
        ]);
    }
}

on_every_backend! {
    fn same_address_back_to_back(backend: Backend) {
        // Each op must see the one issued just before it, with no gap.
        let mut steps: Vec<_> = (0..16).map(|i| (R::fadd(0x300, 1), ok(i))).collect();
        steps.push((R::cas(0x300, 16, 100), ok(16)));
        steps.push((R::masked_fadd(0x300, 0x0101, 0x80), ok(100)));
        steps.push((R::masked_cas(0x300, 0x0165, 0xff00, 0xffff, 0xff00), ok(0x0165)));
        steps.push((R::write(0x300, 9), ok(0xff65)));
        steps.push((R::read(0x300), ok(9)));
        // Interleaved with another address in between.
        steps.push((R::fadd(0x308, 3), ok(0)));
        steps.push((R::fadd(0x300, 1), ok(9)));
        steps.push((R::fadd(0x308, 3), ok(3)));
        steps.push((R::fadd(0x300, 1), ok(10)));
        directed("same_address_back_to_back", backend, &steps);
    }
}

on_every_backend! {
    fn bad_requests_change_nothing(backend: Backend) {
        let mut bad_op = R::fadd(0x10, 1);
        bad_op.op = 6;
        let mut bad_op7 = R::write(0x10, 1);
        bad_op7.op = 7;
        directed("bad_requests_change_nothing", backend, &[
            (R::write(0x10, 42), ok(0)),
            (R::fadd(0x11, 1), err(AtomicStatus::Misaligned)),
            (R::write(0x14, 0), err(AtomicStatus::Misaligned)),
            (R::fadd(MEM_BYTES, 1), err(AtomicStatus::OutOfRange)),
            (R::write(MEM_BYTES + 0x10, 0), err(AtomicStatus::OutOfRange)), // aliases 0x10 if truncated
            (R::write(1 << 63 | 0x10, 0), err(AtomicStatus::OutOfRange)),
            (R::cas(u64::MAX, 0, 0), err(AtomicStatus::Misaligned)),
            (bad_op, err(AtomicStatus::BadOpcode)),
            (bad_op7, err(AtomicStatus::BadOpcode)),
            (R::read(0x10), ok(42)),
        ]);
    }
}

on_every_backend! {
    fn one_operation_per_clock(backend: Backend) {
        // Back to back and never stalled, n operations take n clocks plus
        // the pipeline's fill (a cycle count, not a time).
        let n = 1000;
        let mut dut = WithMemory::new(open(backend, None, Pacing::FULL_SPEED, 0).expect("open"));
        let zeros: Vec<R> = (0..7).map(|w| R::write(8 * w, 0)).collect();
        dut.transact(&zeros).expect("clear");
        let start = dut.cycles();
        let reqs: Vec<R> = (0..n).map(|i| R::fadd(8 * (i % 7), i)).collect();
        let got = dut.transact(&reqs).expect("transact");
        // Back to back on seven words, each fetch-and-add sees the sum of
        // the ones before it on its word (the forwarding path at full
        // speed), on every backend.
        let mut words = [0u64; 7];
        for (i, (r, g)) in reqs.iter().zip(&got).enumerate() {
            let w = &mut words[i % 7];
            assert_eq!(g.original, *w, "op {i} at {:#x}", r.addr);
            *w = w.wrapping_add(i as u64);
        }
        if backend.is_clocked() {
            let used = dut.cycles() - start;
            assert!(used <= n + 4, "{n} ops took {used} cycles");
        }
    }
}
