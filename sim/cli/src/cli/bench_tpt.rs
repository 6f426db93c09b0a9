//! `hca bench tpt`: what the TPT costs, in clock cycles of its RTL: a
//! lookup on a hit and on a miss, and each way of killing a key - remote
//! invalidation, local invalidation, and FMR unmap made visible by a
//! SYNC_TPT shared by a batch of 1, 16 or 256 keys.

use anyhow::{bail, Result};
use hca_engines::backend::verilator::Verilated;
use hca_engines::blocks::tpt::{TptStreams, CACHE_LINES};
use hca_engines::stream::Pacing;
use hca_engines::transactor::StreamTransactor;
use hca_engines::verilated;
use hca_rtl::tpt::layout::MptEntry;
use hca_rtl::tpt::{access, status, MptKind, MptState, TptReq};
use hca_rtl::Transactor;

type Dut =
    hca_rtl::transactor::WithMemory<StreamTransactor<Verilated<verilated::tpt::Model>, TptStreams>>;

const PD: u32 = 7;

fn dut(icm_latency: u64) -> Result<Dut> {
    let mut d = Dut::new(StreamTransactor::new(
        Verilated::default(),
        Pacing::FULL_SPEED,
        1,
    )?);
    let env = d.env_mut();
    env.stall_pct = 0;
    env.min_latency = icm_latency;
    env.max_latency = icm_latency;
    Ok(d)
}

fn region(index: u32, kind: MptKind) -> MptEntry {
    MptEntry {
        state: MptState::Valid as u8,
        tag: 1,
        access: access::ALL,
        remote_inv: true,
        kind: kind as u8,
        log_page: 12,
        pd: PD,
        va: 0x10_0000,
        len: 0x1000,
        mtt_base: index,
    }
}

fn key(index: u32) -> u32 {
    index << 8 | 1
}

/// Run `reqs`, all expected OK; return the cycles they took.
fn cycles(d: &mut Dut, reqs: &[TptReq]) -> Result<u64> {
    let c0 = d.cycles();
    for (r, resp) in reqs.iter().zip(d.transact(reqs)?) {
        if resp.status != status::OK {
            bail!("{r:x?} answered {}", status::name(resp.status));
        }
    }
    Ok(d.cycles() - c0)
}

/// Register `n` regions of `kind` at indices `base..base + n`.
fn register(d: &mut Dut, base: u32, n: u32, kind: MptKind) -> Result<()> {
    let reqs: Vec<TptReq> = (base..base + n)
        .flat_map(|i| {
            [
                TptReq::write_mtt(i, 0x1_0000_0000 + ((i as u64) << 12)),
                TptReq::sw2hw(i, region(i, kind)),
            ]
        })
        .collect();
    cycles(d, &reqs).map(|_| ())
}

fn per(total: u64, n: usize) -> f64 {
    total as f64 / n as f64
}

pub fn tpt(icm_latency: u64) -> Result<()> {
    const N: usize = 4096;
    let lines = CACHE_LINES as u32;
    let mut d = dut(icm_latency)?;
    register(&mut d, 0, 2 * lines, MptKind::FastReg)?;
    let probe = |i: u32, len: u32| TptReq::lookup(key(i), PD, 0x10_0000, len, access::REMOTE_READ);

    // Lookups: the same key (a hit), and two keys on one line (a miss each).
    cycles(&mut d, &[probe(3, 0)])?;
    let hit_check = per(cycles(&mut d, &vec![probe(3, 0); N])?, N);
    let hit_page = per(cycles(&mut d, &vec![probe(3, 8); N])?, N);
    let thrash: Vec<TptReq> = (0..N)
        .map(|i| probe(if i % 2 == 0 { 3 } else { 3 + lines }, 0))
        .collect();
    let miss_check = per(cycles(&mut d, &thrash)?, N);

    // Killing keys the HCA sees at once: each entry cached, as right after use.
    let kill = |d: &mut Dut, base: u32, make: fn(u32) -> TptReq| -> Result<f64> {
        register(d, base, lines, MptKind::FastReg)?;
        cycles(
            d,
            &(base..base + lines)
                .map(|i| probe(i, 0))
                .collect::<Vec<_>>(),
        )?;
        let t = cycles(d, &(base..base + lines).map(make).collect::<Vec<_>>())?;
        Ok(per(t, lines as usize))
    };
    let remote = kill(&mut d, 0x100, |i| TptReq::remote_inv(key(i), PD))?;
    let local = kill(&mut d, 0x200, |i| TptReq::local_inv(key(i), PD))?;

    // FMR unmap: the host writes ICM (no HCA cycles), one SYNC_TPT per
    // batch, and afterwards every entry the HCA was using must be fetched
    // again: here a working set as large as the cache.
    let mut fmr = Vec::new();
    for batch in [1u32, 16, 256] {
        let base = 0x1000;
        register(&mut d, base, batch, MptKind::Fmr)?;
        let hot: Vec<TptReq> = (0..lines).map(|i| probe(i, 0)).collect();
        cycles(&mut d, &hot)?;
        let unmaps: Vec<TptReq> = (base..base + batch)
            .map(|i| {
                TptReq::host_write_mpt(
                    i,
                    MptEntry {
                        state: MptState::Invalid as u8,
                        ..region(i, MptKind::Fmr)
                    },
                )
            })
            .collect();
        cycles(&mut d, &unmaps)?;
        let sync = cycles(&mut d, &[TptReq::sync_tpt()])?;
        let refill = cycles(&mut d, &hot)? as f64 - hit_check * lines as f64;
        // Back to HCA ownership for the next batch.
        cycles(
            &mut d,
            &(base..base + batch).map(TptReq::hw2sw).collect::<Vec<_>>(),
        )?;
        fmr.push((batch, sync, refill, (sync as f64 + refill) / batch as f64));
    }

    crate::outln!("hca bench tpt: the TPT's RTL on the Verilator build, {CACHE_LINES} MPT cache lines, ICM read latency {icm_latency} cycles");
    crate::outln!("lookups");
    crate::outln!(
        "  hit, checks only       {hit_check:>7.2} cycles  ({:.2} lookups per clock)",
        1.0 / hit_check
    );
    crate::outln!(
        "  hit, one page          {hit_page:>7.2} cycles  (the MTT entry is read from ICM)"
    );
    crate::outln!(
        "  miss, checks only      {miss_check:>7.2} cycles  (+{:.2} for the MPT fill)",
        miss_check - hit_check
    );
    crate::outln!("killing a key, cycles per key");
    crate::outln!("  remote invalidation    {remote:>7.2}  (Send with Invalidate: checks, entry written through)");
    crate::outln!("  local invalidation     {local:>7.2}");
    for (batch, sync, refill, each) in &fmr {
        crate::outln!(
            "  FMR unmap, batch {batch:>3}   {each:>7.2}  (SYNC_TPT {sync} + refetching a {lines}-entry working set {refill:.0}, over {batch} keys)"
        );
    }
    Ok(())
}
