//! FMR pools through the Rust driver, on every backend, checked through
//! the TPT on ICM the driver wrote: a mapped FMR's key translates to its
//! pages; unmapped but not yet synced it still translates (the TPT answers
//! from its cache); after the SYNC_TPT the pool posts when its batch of
//! dirty FMRs is full, the old keys are dead and the remapped keys live.

mod common;

use common::{lookup, up};
use hca_driver::mr::access;
use hca_engines::Backend;

const IOVA: u64 = 0x4000_0000;

fn unmapped_translates_until_sync(backend: Backend) {
    let mut d = up(backend);
    let pd = d.alloc_pd().unwrap();
    let pool = d.create_fmr_pool(&pd, 4, 8, 2, access::ALL).unwrap();
    let pages: Vec<u64> = (0..3)
        .map(|_| d.memory().alloc(4096, 4096).unwrap().addr)
        .collect();

    let a = d.fmr_map(&pool, &pages[..2], IOVA).unwrap();
    assert_eq!(
        lookup(&mut d, a.key, pd.pdn, IOVA + 0x1000),
        Ok(vec![pages[1]]),
        "{backend}: mapped"
    );
    assert_eq!(
        d.fmr_unmap(&pool, &a),
        Ok(false),
        "{backend}: one dirty, no sync yet"
    );
    assert_eq!(
        lookup(&mut d, a.key, pd.pdn, IOVA + 0x1000),
        Ok(vec![pages[1]]),
        "{backend}: unmapped but not synced: the TPT still translates"
    );

    let b = d.fmr_map(&pool, &pages[2..], IOVA).unwrap();
    assert_ne!(a.key, b.key, "{backend}: a new key per map");
    let b2 = d.fmr_map(&pool, &pages[..1], IOVA + 0x10_0000).unwrap();
    assert_eq!(d.fmr_pool_syncs(&pool).unwrap(), 0);
    // In use (so the TPT holds it), then unmapped.
    assert_eq!(
        lookup(&mut d, b.key, pd.pdn, IOVA),
        Ok(vec![pages[2]]),
        "{backend}: mapped"
    );
    assert_eq!(d.fmr_unmap(&pool, &b), Ok(false));
    assert_eq!(
        lookup(&mut d, b.key, pd.pdn, IOVA),
        Ok(vec![pages[2]]),
        "{backend}: unmapped, not synced"
    );
    assert_eq!(
        d.fmr_unmap(&pool, &b2),
        Ok(true),
        "{backend}: the batch is full: SYNC_TPT"
    );
    assert_eq!(d.fmr_pool_syncs(&pool).unwrap(), 1);
    for (m, what) in [(a, "first"), (b, "second"), (b2, "third")] {
        assert!(
            lookup(&mut d, m.key, pd.pdn, IOVA).is_err(),
            "{backend}: the {what} map's key is dead after SYNC_TPT"
        );
    }
    // A fresh map translates at once (its entry is read from ICM).
    let c = d.fmr_map(&pool, &pages, IOVA).unwrap();
    assert_eq!(
        lookup(&mut d, c.key, pd.pdn, IOVA + 0x2000),
        Ok(vec![pages[2]]),
        "{backend}: remapped"
    );
    // Bad maps are refused with nothing changed.
    assert!(d.fmr_map(&pool, &[], IOVA).is_err());
    assert!(d.fmr_map(&pool, &[pages[0] + 1], IOVA).is_err());
    assert!(d.fmr_unmap(&pool, &a).is_err(), "{backend}: unmapped twice");
    assert_eq!(lookup(&mut d, c.key, pd.pdn, IOVA), Ok(vec![pages[0]]));

    d.fmr_unmap(&pool, &c).unwrap();
    d.fmr_flush(&pool).unwrap();
    d.destroy_fmr_pool(&pool).unwrap();
    d.dealloc_pd(&pd).unwrap();
    assert_eq!(d.resources().fmrs, 0);
    d.tear_down().unwrap();
}

hca_engines::on_every_backend! {
    fn an_unmapped_fmr_translates_until_sync_tpt(backend: Backend) {
        unmapped_translates_until_sync(backend)
    }
}
