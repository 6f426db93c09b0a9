//! `hca bench qpc`: what a QP context lookup costs, in clock cycles of the
//! RTL: on a hit, on a miss to a clean line and on a miss to a dirty one,
//! with ICM answering after a fixed latency and never stalling.

use anyhow::{bail, Result};
use hca_engines::backend::verilator::Verilated;
use hca_engines::blocks::qpc::QpcStreams;
use hca_engines::stream::Pacing;
use hca_engines::transactor::StreamTransactor;
use hca_engines::verilated;
use hca_rtl::qpc::table::rule;
use hca_rtl::qpc::{attr, status, QpAttrs, QpState, QpType, QpcReq};
use hca_rtl::Transactor;

type Dut =
    hca_rtl::transactor::WithMemory<StreamTransactor<Verilated<verilated::qpc::Model>, QpcStreams>>;

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

/// Bring `qpn` to RTR as an RC QP (so received PSNs change its context).
fn to_rtr(d: &mut Dut, qpn: u32) -> Result<()> {
    let a = QpAttrs {
        qp_type: QpType::Rc as u8,
        port: 1,
        path_mtu: 5,
        ..QpAttrs::default()
    };
    let mut from = QpState::Reset;
    for to in [QpState::Init, QpState::Rtr] {
        let r = rule(from, to, QpType::Rc).expect("legal");
        let resp = d.transact(&[QpcReq::modify(qpn, to, attr::STATE | r.required, a)])?;
        if resp[0].status != status::OK {
            bail!("setting up QPN {qpn:#x} failed at {to:?}");
        }
        from = to;
    }
    Ok(())
}

/// Cycles per request for `reqs`, issued back to back.
fn cycles_per(d: &mut Dut, reqs: &[QpcReq]) -> Result<f64> {
    let c0 = d.cycles();
    d.transact(reqs)?;
    Ok((d.cycles() - c0) as f64 / reqs.len() as f64)
}

pub struct QpcBench {
    pub hit: f64,
    pub clean_miss: f64,
    pub dirty_miss: f64,
}

pub fn qpc(icm_latency: u64) -> Result<QpcBench> {
    const N: usize = 20_000;
    let mut d = dut(icm_latency)?;
    // Two QPNs on the same cache line: alternating them misses every time.
    let (a, b) = (0x10, 0x20);
    to_rtr(&mut d, a)?;
    to_rtr(&mut d, b)?;
    let hit = cycles_per(&mut d, &vec![QpcReq::query(a); N])?;
    let alternate = |f: fn(u32) -> QpcReq| -> Vec<QpcReq> {
        (0..N).map(|i| f(if i % 2 == 0 { a } else { b })).collect()
    };
    let clean = cycles_per(&mut d, &alternate(QpcReq::query))?;
    // An in-sequence PSN changes the context, so every eviction writes back.
    let mut psn = [0u32; 2];
    let dirty_reqs: Vec<QpcReq> = (0..N)
        .map(|i| {
            let (q, p) = if i % 2 == 0 {
                (a, &mut psn[0])
            } else {
                (b, &mut psn[1])
            };
            *p += 1;
            QpcReq::recv_psn(q, *p - 1, true)
        })
        .collect();
    let dirty = cycles_per(&mut d, &dirty_reqs)?;
    crate::outln!("hca bench qpc: QP context lookups on the Verilator build, ICM read latency {icm_latency} cycles");
    crate::outln!(
        "  hit                  {hit:>6.2} cycles/request  ({:.2} lookups per clock)",
        1.0 / hit
    );
    crate::outln!(
        "  miss, clean line     {clean:>6.2} cycles/request  (+{:.2} over a hit)",
        clean - hit
    );
    crate::outln!(
        "  miss, dirty line     {dirty:>6.2} cycles/request  (+{:.2} over a hit)",
        dirty - hit
    );
    Ok(QpcBench {
        hit,
        clean_miss: clean,
        dirty_miss: dirty,
    })
}
