//! The TPT: random differential runs against the model with the protection
//! invariant checked on every response, and directed cases for every error
//! and every way a key dies, each on every backend.

mod common;

use hca_engines::on_every_backend;
use hca_rtl::transactor::WithMemory;

use hca_engines::blocks::tpt::{open, TptTransactor, CACHE_LINES};
use hca_engines::Backend;
use hca_rtl::tpt::layout::MptEntry;
use hca_rtl::tpt::{access, status, MptKind, MptState, TptReq, TptResp, NUM_MPTS};
use hca_testbench::blocks::tpt::differential;
use hca_testbench::runner::run_replayable;
use hca_testbench::stream::Pacing;
use hca_testbench::Seed;

on_every_backend! {
    fn random_differential(backend: Backend) {
        let seed = Seed::from_env();
        let n = common::random_ops("HCA_TPT_OPS");
        let stats = run_replayable("tpt_random_differential", backend.name(), seed, &common::wave_dir(), |wave| {
            let mut dut = open(backend, wave, Pacing::RANDOM, seed.0).map_err(|e| e.to_string())?;
            differential(&mut dut, &mut seed.rng("tpt-stimulus"), CACHE_LINES, n, |_| {})
        });
        println!("{}", stats.summary());
        assert_eq!(stats.ops, n);
        if n >= 100_000 {
            assert!(stats.ok.iter().all(|&k| k > 100), "{}", stats.summary());
            assert!(stats.statuses.len() >= 12, "every status reached: {}", stats.summary());
            assert!(stats.lookups_checked > 2000 && stats.dead_keys_refused > 100, "{}", stats.summary());
        }
    }
}

const PD: u32 = 0x42;
const PAGE: u64 = 4096;

/// A valid region of `pages` 4 KiB pages at `va`, its MTT at `index * 16`.
fn region(
    index: u32,
    tag: u8,
    kind: MptKind,
    access: u8,
    remote_inv: bool,
    va: u64,
    pages: u64,
) -> MptEntry {
    MptEntry {
        state: MptState::Valid as u8,
        tag,
        access,
        remote_inv,
        kind: kind as u8,
        log_page: 12,
        pd: PD,
        va,
        len: pages * PAGE,
        mtt_base: index * 16,
    }
}

/// A fresh TPT on `backend` with `entry` registered at `index` and its MTT
/// pointing page `p` at `0x1_0000_0000 + p * 0x10_0000`.
fn with_region(backend: Backend, index: u32, entry: MptEntry) -> WithMemory<TptTransactor> {
    let mut dut = WithMemory::new(open(backend, None, Pacing::RANDOM, 7).expect("open"));
    let mut setup: Vec<TptReq> = (0..16)
        .map(|p| TptReq::write_mtt(entry.mtt_base + p, 0x1_0000_0000 + p as u64 * 0x10_0000))
        .collect();
    setup.push(TptReq::sw2hw(index, entry));
    for r in dut.transact(&setup).expect("setup") {
        assert_eq!(r.status, status::OK);
    }
    dut
}

fn one(dut: &mut WithMemory<TptTransactor>, r: TptReq) -> TptResp {
    dut.transact(&[r]).expect("transact").remove(0)
}

const KEY: u32 = 5 << 8 | 0x33;

on_every_backend! {
    fn translation_page_by_page(backend: Backend) {
        let e = region(5, 0x33, MptKind::Mr, access::ALL, false, 0x7000_0800, 4);
        let mut dut = with_region(backend, 5, e);
        // From 0x100 into the region's first page, across three pages.
        let r = one(&mut dut, TptReq::lookup(KEY, PD, 0x7000_0900, 2 * 4096, access::REMOTE_READ));
        assert_eq!(r.status, status::OK);
        assert_eq!(r.pages, vec![0x1_0000_0900, 0x1_0010_0000, 0x1_0020_0000]);
        // Zero bytes: allowed, no pages.
        let r = one(&mut dut, TptReq::lookup(KEY, PD, 0x7000_0800, 0, access::LOCAL_WRITE));
        assert_eq!((r.status, r.pages.len()), (status::OK, 0));
        // The whole region, to its last byte.
        let r = one(&mut dut, TptReq::lookup(KEY, PD, 0x7000_0800, 4 * 4096, 0));
        assert_eq!(r.pages.len(), 5);
    }
}

on_every_backend! {
    fn every_lookup_error(backend: Backend) {
        let e = region(5, 0x33, MptKind::Mr, access::LOCAL_WRITE | access::REMOTE_READ, false, 0x10_0000, 2);
        let mut dut = with_region(backend, 5, e);
        let cases = [
            (TptReq::lookup(NUM_MPTS << 8 | 0x33, PD, 0x10_0000, 8, 0), status::KEY_INDEX),
            (TptReq::lookup(6 << 8 | 0x33, PD, 0x10_0000, 8, 0), status::NOT_VALID),
            (TptReq::lookup(5 << 8 | 0x34, PD, 0x10_0000, 8, 0), status::TAG_MISMATCH),
            (TptReq::lookup(KEY, PD + 1, 0x10_0000, 8, 0), status::PD_MISMATCH),
            (TptReq::lookup(KEY, PD, 0xf_ffff, 8, 0), status::OUT_OF_BOUNDS),
            (TptReq::lookup(KEY, PD, 0x10_0000 + 2 * 4096 - 4, 8, 0), status::OUT_OF_BOUNDS),
            (TptReq::lookup(KEY, PD, u64::MAX - 2, 8, 0), status::OUT_OF_BOUNDS),
            (TptReq::lookup(KEY, PD, 0x10_0000, 8, access::REMOTE_WRITE), status::ACCESS_DENIED),
            (TptReq::lookup(KEY, PD, 0x10_0000, 8, access::ATOMIC), status::ACCESS_DENIED),
            (TptReq::lookup(KEY, PD, 0x10_0000, 8, access::LOCAL_READ | access::REMOTE_READ), status::OK),
        ];
        for (req, want) in cases {
            let r = one(&mut dut, req);
            assert_eq!(r.status, want, "{req:x?}");
            if want != status::OK {
                assert!(r.pages.is_empty());
            }
        }
    }
}

on_every_backend! {
    fn registration_commands_and_their_errors(backend: Backend) {
        let e = region(5, 0x33, MptKind::Mr, access::ALL, false, 0x10_0000, 2);
        let mut dut = with_region(backend, 5, e);
        assert_eq!(one(&mut dut, TptReq::sw2hw(5, e)).status, status::BAD_RES_STATE, "already the HCA's");
        assert_eq!(one(&mut dut, TptReq::sw2hw(NUM_MPTS, e)).status, status::BAD_INDEX);
        let bad = MptEntry { log_page: 31, ..e };
        assert_eq!(one(&mut dut, TptReq::sw2hw(6, bad)).status, status::BAD_PARAM);
        assert_eq!(one(&mut dut, TptReq::query(6)).status, status::BAD_RES_STATE, "nothing changed on error");
        let q = one(&mut dut, TptReq::query(5));
        assert_eq!((q.status, q.entry), (status::OK, e));
        assert_eq!(one(&mut dut, TptReq::write_mtt(1 << 20, 0)).status, status::BAD_INDEX);
        // Deregistration returns the entry and kills every key of it.
        let r = one(&mut dut, TptReq::hw2sw(5));
        assert_eq!((r.status, r.entry), (status::OK, e));
        assert_eq!(one(&mut dut, TptReq::hw2sw(5)).status, status::BAD_RES_STATE);
        assert_eq!(one(&mut dut, TptReq::lookup(KEY, PD, 0x10_0000, 8, 0)).status, status::NOT_VALID);
        assert_eq!(one(&mut dut, TptReq { op: 12, ..TptReq::sync_tpt() }).status, status::BAD_OP);
    }
}

on_every_backend! {
    fn local_invalidate(backend: Backend) {
        let mr = region(5, 0x33, MptKind::Mr, access::ALL, true, 0x10_0000, 2);
        let mut dut = with_region(backend, 5, mr);
        assert_eq!(one(&mut dut, TptReq::local_inv(KEY, PD)).status, status::NOT_INVALIDATABLE, "an ordinary MR");
        let fr = region(5, 0x33, MptKind::FastReg, access::ALL, false, 0x10_0000, 2);
        let mut dut = with_region(backend, 5, fr);
        assert_eq!(one(&mut dut, TptReq::local_inv(KEY ^ 1, PD)).status, status::TAG_MISMATCH);
        assert_eq!(one(&mut dut, TptReq::local_inv(KEY, PD + 1)).status, status::PD_MISMATCH);
        assert_eq!(one(&mut dut, TptReq::lookup(KEY, PD, 0x10_0000, 8, 0)).status, status::OK, "still valid");
        assert_eq!(one(&mut dut, TptReq::local_inv(KEY, PD)).status, status::OK);
        assert_eq!(one(&mut dut, TptReq::lookup(KEY, PD, 0x10_0000, 8, 0)).status, status::NOT_VALID);
        assert_eq!(one(&mut dut, TptReq::local_inv(KEY, PD)).status, status::NOT_VALID, "already dead");
    }
}

on_every_backend! {
    fn remote_invalidate_with_the_responders_checks(backend: Backend) {
        // A region that does not allow remote invalidation keeps its key.
        let closed = region(5, 0x33, MptKind::FastReg, access::ALL, false, 0x10_0000, 2);
        let mut dut = with_region(backend, 5, closed);
        assert_eq!(one(&mut dut, TptReq::remote_inv(KEY, PD)).status, status::NOT_INVALIDATABLE);
        assert_eq!(one(&mut dut, TptReq::lookup(KEY, PD, 0x10_0000, 8, access::REMOTE_WRITE)).status, status::OK);
        // A foreign PD (the responder QP's is not the region's) keeps it too.
        let open_ = region(5, 0x33, MptKind::FastReg, access::ALL, true, 0x10_0000, 2);
        let mut dut = with_region(backend, 5, open_);
        assert_eq!(one(&mut dut, TptReq::remote_inv(KEY, PD + 1)).status, status::PD_MISMATCH);
        assert_eq!(one(&mut dut, TptReq::remote_inv(KEY ^ 0xff, PD)).status, status::TAG_MISMATCH);
        assert_eq!(one(&mut dut, TptReq::lookup(KEY, PD, 0x10_0000, 8, access::REMOTE_WRITE)).status, status::OK);
        // Right PD, right tag, enabled: dead at once, no SYNC_TPT needed.
        assert_eq!(one(&mut dut, TptReq::remote_inv(KEY, PD)).status, status::OK);
        assert_eq!(one(&mut dut, TptReq::lookup(KEY, PD, 0x10_0000, 8, access::REMOTE_WRITE)).status, status::NOT_VALID);
    }
}

on_every_backend! {
    fn fast_register_gives_a_new_tag(backend: Backend) {
        let fr = MptEntry { state: MptState::Invalid as u8, ..region(5, 0x33, MptKind::FastReg, 0, true, 0, 0) };
        let mut dut = with_region(backend, 5, fr);
        let new_key = 5 << 8 | 0x34;
        let reg = |va, len, log| TptReq::fast_reg(new_key, PD, va, len, access::REMOTE_WRITE, log);
        assert_eq!(one(&mut dut, TptReq::fast_reg(new_key, PD + 1, 0x9000, 4096, 0, 12)).status, status::PD_MISMATCH);
        assert_eq!(one(&mut dut, reg(0x9000, 4096, 11)).status, status::BAD_PAGE_SIZE);
        let r = one(&mut dut, reg(0x9000, 2 * 4096, 12));
        assert_eq!((r.status, r.entry.tag, r.entry.state), (status::OK, 0x34, MptState::Valid as u8));
        assert_eq!(one(&mut dut, reg(0x9000, 4096, 12)).status, status::NOT_FREE, "valid regions are not re-registered");
        assert_eq!(one(&mut dut, TptReq::lookup(KEY, PD, 0x9000, 8, 0)).status, status::TAG_MISMATCH, "the old key");
        let r = one(&mut dut, TptReq::lookup(new_key, PD, 0x9000 + 4096, 8, access::REMOTE_WRITE));
        assert_eq!((r.status, r.pages.clone()), (status::OK, vec![0x1_0010_0000]));
        // An ordinary MR cannot be fast-registered.
        let mr = MptEntry { state: MptState::Invalid as u8, ..region(6, 0, MptKind::Mr, 0, false, 0, 0) };
        let mut dut = with_region(backend, 6, mr);
        assert_eq!(one(&mut dut, TptReq::fast_reg(6 << 8 | 1, PD, 0, 4096, 0, 12)).status, status::NOT_INVALIDATABLE);
    }
}

on_every_backend! {
    fn fmr_unmap_takes_effect_at_sync_tpt(backend: Backend) {
        let fmr = region(5, 0x33, MptKind::Fmr, access::ALL, false, 0x10_0000, 2);
        let mut dut = with_region(backend, 5, fmr);
        let lookup = |k| TptReq::lookup(k, PD, 0x10_0000, 8, access::REMOTE_READ);
        assert_eq!(one(&mut dut, lookup(KEY)).status, status::OK, "cached now");
        // Unmap in ICM: the cached entry keeps the key working...
        one(&mut dut, TptReq::host_write_mpt(5, MptEntry { state: MptState::Invalid as u8, ..fmr }));
        assert_eq!(one(&mut dut, lookup(KEY)).status, status::OK, "stale, as on ConnectX");
        // ...until SYNC_TPT.
        assert_eq!(one(&mut dut, TptReq::sync_tpt()).status, status::OK);
        assert_eq!(one(&mut dut, lookup(KEY)).status, status::NOT_VALID);
        // Map again with a new tag and new pages: seen after the next SYNC_TPT.
        one(&mut dut, TptReq::host_write_mtt(5 * 16, 0x5_0000_0000));
        one(&mut dut, TptReq::host_write_mpt(5, MptEntry { tag: 0x34, ..fmr }));
        assert_eq!(one(&mut dut, lookup(5 << 8 | 0x34)).status, status::NOT_VALID, "the invalid entry is cached");
        one(&mut dut, TptReq::sync_tpt());
        let r = one(&mut dut, lookup(5 << 8 | 0x34));
        assert_eq!((r.status, r.pages.clone()), (status::OK, vec![0x5_0000_0000]));
        assert_eq!(one(&mut dut, lookup(KEY)).status, status::TAG_MISMATCH);
        // An entry pushed out of the cache by another on its line is read
        // again from ICM: the unmap shows without a SYNC_TPT.
        one(&mut dut, TptReq::host_write_mpt(5, MptEntry { state: MptState::Invalid as u8, tag: 0x34, ..fmr }));
        let other = 5 + CACHE_LINES as u32;
        assert_eq!(one(&mut dut, TptReq::query(other)).status, status::BAD_RES_STATE, "fills the same line");
        assert_eq!(one(&mut dut, lookup(5 << 8 | 0x34)).status, status::NOT_VALID);
    }
}

on_every_backend! {
    fn physical_regions_translate_to_themselves(backend: Backend) {
        // mlx4's DMA region: start 0, length 2^64 - 1, no MTT (its MTT
        // entries, written by the set-up, must not be used).
        let e = MptEntry {
            va: 0,
            len: u64::MAX,
            ..region(9, 0x11, MptKind::Physical, access::ALL, false, 0, 0)
        };
        let mut dut = with_region(backend, 9, e);
        let key = 9 << 8 | 0x11;
        let r = one(&mut dut, TptReq::lookup(key, PD, 0x1234_5678, 2 * 4096, access::LOCAL_WRITE));
        assert_eq!(r.status, status::OK);
        assert_eq!(r.pages, vec![0x1234_5678, 0x1234_6000, 0x1234_7000]);
        // The very top of the address space: the last page, and a span
        // across into it.
        let last = 0xffff_ffff_ffff_f000u64;
        let r = one(&mut dut, TptReq::lookup(key, PD, last + 0x10, 8, 0));
        assert_eq!((r.status, r.pages), (status::OK, vec![last + 0x10]));
        let r = one(&mut dut, TptReq::lookup(key, PD, last - 7, 8, 0));
        assert_eq!((r.status, r.pages), (status::OK, vec![last - 7, last]));
        assert_eq!(one(&mut dut, TptReq::lookup(key, PD, u64::MAX - 3, 8, 0)).status, status::OUT_OF_BOUNDS);
        // Keys, PDs and access are checked as for any region.
        assert_eq!(one(&mut dut, TptReq::lookup(key ^ 1, PD, 0, 8, 0)).status, status::TAG_MISMATCH);
        assert_eq!(one(&mut dut, TptReq::lookup(key, PD + 1, 0, 8, 0)).status, status::PD_MISMATCH);
        // Like an ordinary region, only deregistration kills its key.
        assert_eq!(one(&mut dut, TptReq::local_inv(key, PD)).status, status::NOT_INVALIDATABLE);
        assert_eq!(one(&mut dut, TptReq::remote_inv(key, PD)).status, status::NOT_INVALIDATABLE);
        assert_eq!(one(&mut dut, TptReq::hw2sw(9)).status, status::OK);
        assert_eq!(one(&mut dut, TptReq::lookup(key, PD, 0, 8, 0)).status, status::NOT_VALID);
    }
}

on_every_backend! {
    fn ranges_at_the_top_of_the_address_space(backend: Backend) {
        let top = u64::MAX; // the last byte of the address space
        let phys = |va, len| MptEntry {
            va,
            len,
            ..region(9, 0x11, MptKind::Physical, access::ALL, false, 0, 0)
        };
        let key = 9 << 8 | 0x11;
        // The repro: a region whose start plus length wraps is
        // refused (and so not used by the lookup that hung the RTL).
        let mut dut = WithMemory::new(open(backend, None, Pacing::RANDOM, 11).expect("open"));
        for (va, len) in [(0x800, top), (2, top), (top - 4095, 4097), (top, 2)] {
            let r = one(&mut dut, TptReq::sw2hw(9, phys(va, len)));
            assert_eq!(r.status, status::BAD_PARAM, "va {va:#x} len {len:#x}");
        }
        let r = one(&mut dut, TptReq::lookup(key, PD, 0xffff_ffff_ffff_f100, 4096, 0));
        assert_eq!(r.status, status::NOT_VALID, "nothing was registered");

        // mlx4's DMA region: start 0, length 2^64 - 1, so its last byte is
        // 2^64 - 2.
        let mut dut = with_region(backend, 9, phys(0, top));
        let look = |dut: &mut WithMemory<TptTransactor>, va: u64, len: u32| {
            let r = one(dut, TptReq::lookup(key, PD, va, len, 0));
            (r.status, r.pages)
        };
        let last_page = top - 4095;
        assert_eq!(look(&mut dut, top - 1, 1), (status::OK, vec![top - 1]), "the last byte");
        assert_eq!(look(&mut dut, top, 1).0, status::OUT_OF_BOUNDS, "one past the last byte");
        assert_eq!(look(&mut dut, last_page, 4095), (status::OK, vec![last_page]), "the last page");
        assert_eq!(look(&mut dut, last_page, 4096).0, status::OUT_OF_BOUNDS, "one past the last page");
        assert_eq!(look(&mut dut, 0xffff_ffff_ffff_f100, 4096).0, status::OUT_OF_BOUNDS, "across 2^64");
        assert_eq!(look(&mut dut, top, u32::MAX).0, status::OUT_OF_BOUNDS);
        assert_eq!(look(&mut dut, top, 0), (status::OK, vec![]), "length 0 touches nothing");
        assert_eq!(look(&mut dut, 0, 0), (status::OK, vec![]));
        assert_eq!(look(&mut dut, 0, 1), (status::OK, vec![0]), "the first byte");

        // A region that ends exactly at the top: its last byte is 2^64 - 1.
        assert_eq!(one(&mut dut, TptReq::hw2sw(9)).status, status::OK);
        assert_eq!(one(&mut dut, TptReq::sw2hw(9, phys(last_page, 4096))).status, status::OK);
        assert_eq!(look(&mut dut, last_page, 4096), (status::OK, vec![last_page]));
        assert_eq!(look(&mut dut, top, 1), (status::OK, vec![top]));
        assert_eq!(look(&mut dut, top, 2).0, status::OUT_OF_BOUNDS);
        assert_eq!(look(&mut dut, last_page - 1, 2).0, status::OUT_OF_BOUNDS, "one before");

        // A region of length 0 holds nothing.
        assert_eq!(one(&mut dut, TptReq::hw2sw(9)).status, status::OK);
        assert_eq!(one(&mut dut, TptReq::sw2hw(9, phys(top, 0))).status, status::OK);
        assert_eq!(look(&mut dut, top, 1).0, status::OUT_OF_BOUNDS);
        assert_eq!(look(&mut dut, top, 0), (status::OK, vec![]));
    }
}

on_every_backend! {
    fn a_wrapping_range_never_translates(backend: Backend) {
        // The host may write anything into ICM (an FMR map): a region whose
        // start plus length wraps still never lets an access cross 2^64.
        let mut dut = WithMemory::new(open(backend, None, Pacing::RANDOM, 13).expect("open"));
        let e = MptEntry {
            va: 0x800,
            len: u64::MAX,
            ..region(7, 1, MptKind::Fmr, access::ALL, false, 0, 0)
        };
        let reqs = [TptReq::host_write_mpt(7, e), TptReq::sync_tpt()];
        dut.transact(&reqs).expect("host write");
        let key = 7 << 8 | 1;
        let r = one(&mut dut, TptReq::lookup(key, PD, 0xffff_ffff_ffff_f100, 4096, 0));
        assert_eq!(r.status, status::OUT_OF_BOUNDS, "the issue's lookup, on a region the host wrote");
        let r = one(&mut dut, TptReq::lookup(key, PD, u64::MAX, 1, 0));
        assert_eq!(r.status, status::OK, "the last byte is inside, and reaches no further");
        assert_eq!(one(&mut dut, TptReq::lookup(key, PD, 0x7ff, 1, 0)).status, status::OUT_OF_BOUNDS);

        // A fast-register of a range that wraps is refused; the key stays dead.
        let fr = MptEntry {
            state: MptState::Invalid as u8,
            ..region(8, 2, MptKind::FastReg, access::ALL, false, 0, 1)
        };
        assert_eq!(one(&mut dut, TptReq::sw2hw(8, fr)).status, status::OK);
        let fkey = 8 << 8 | 3;
        let r = one(&mut dut, TptReq::fast_reg(fkey, PD, 0x1000, u64::MAX, access::ALL, 12));
        assert_eq!(r.status, status::BAD_RANGE);
        assert_eq!(one(&mut dut, TptReq::lookup(fkey, PD, 0x1000, 1, 0)).status, status::NOT_VALID);
        let r = one(&mut dut, TptReq::fast_reg(fkey, PD, 0, u64::MAX, access::ALL, 12));
        assert_eq!(r.status, status::OK, "start 0, length 2^64 - 1 ends below the top");
    }
}
