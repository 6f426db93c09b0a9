//! `hca bench cq`: the CQ and EQ engine's RTL in clock cycles (CQEs per
//! clock, a completion to its interrupt), and what moderation saves.

use anyhow::{bail, Result};
use hca_engines::backend::verilator::Verilated;
use hca_engines::blocks::cq::CqStreams;
use hca_engines::stream::Pacing;
use hca_engines::transactor::StreamTransactor;
use hca_engines::verilated;
use hca_rtl::cq::{status, Arm, CqReq, CqResp, Cqe};
use hca_rtl::Transactor;

type Dut =
    hca_rtl::transactor::WithMemory<StreamTransactor<Verilated<verilated::cq::Model>, CqStreams>>;

fn dut() -> Result<Dut> {
    let mut d = Dut::new(StreamTransactor::new(
        Verilated::default(),
        Pacing::FULL_SPEED,
        1,
    )?);
    d.mem = hca_abi::SparseIcm::with_linear_mtt(hca_rtl::cq::MTT_TABLE);
    d.env_mut().icm.stall_pct = 0;
    d.env_mut().icm.min_latency = 8;
    d.env_mut().icm.max_latency = 8;
    Ok(d)
}

fn run(d: &mut Dut, reqs: &[CqReq]) -> Result<(u64, Vec<CqResp>)> {
    let c0 = d.cycles();
    let resps = d.transact(reqs)?;
    for (r, resp) in reqs.iter().zip(&resps) {
        if resp.status != status::OK {
            bail!("{r:?} answered {}", status::name(resp.status));
        }
    }
    Ok((d.cycles() - c0, resps))
}

fn setup(d: &mut Dut, cqn: u32, eqn: u16) -> Result<()> {
    run(
        d,
        &[
            CqReq::Sw2HwEq {
                eqn,
                mtt: 0x1_0000 + eqn as u32 * 0x100,
                log_page: 0,
                log_size: 16,
                vector: eqn as u8,
            },
            CqReq::EqDoorbell {
                eqn,
                ci: 0,
                arm: true,
            },
            CqReq::Sw2HwCq {
                cqn,
                mtt: 0x2_0000 + cqn * 0x100,
                log_page: 0,
                log_size: 16,
                eqn,
            },
        ],
    )?;
    Ok(())
}

fn complete(cqn: u32, i: u32) -> CqReq {
    CqReq::Complete {
        cqn,
        cqe: Cqe {
            my_qpn: i,
            byte_cnt: 64,
            ..Cqe::default()
        },
        solicited: false,
    }
}

/// Completion events raised for `n` completions, one tick apart, with the
/// consumer re-arming the CQ (and EQ) after every event.
fn events(d: &mut Dut, cqn: u32, eqn: u16, n: u32, count: u16, period: u16) -> Result<u64> {
    setup(d, cqn, eqn)?;
    run(
        d,
        &[
            CqReq::Moderate { cqn, count, period },
            CqReq::ArmCq {
                cqn,
                arm: Arm::Next as u8,
                sn: 1,
                ci: 0,
            },
        ],
    )?;
    let (mut events, mut sn) = (0u64, 1u8);
    for i in 0..n {
        let (_, r) = run(d, &[complete(cqn, i), CqReq::Tick { cqn, ticks: 1 }])?;
        let fired = r.iter().map(|x| x.irqs.len() as u64).sum::<u64>();
        if fired > 0 {
            events += fired;
            sn = (sn + 1) & 3;
            run(
                d,
                &[
                    CqReq::ArmCq {
                        cqn,
                        arm: Arm::Next as u8,
                        sn,
                        ci: i + 1,
                    },
                    CqReq::EqDoorbell {
                        eqn,
                        ci: events as u32 & 0xff_ffff,
                        arm: true,
                    },
                ],
            )?;
        }
    }
    Ok(events)
}

pub fn cq(rate: f64) -> Result<()> {
    const N: u32 = 4096;
    let mut d = dut()?;
    setup(&mut d, 1, 1)?;
    // Back-to-back completions to one CQ, unarmed: the CQE path alone.
    run(&mut d, &[complete(1, 0)])?;
    let reqs: Vec<CqReq> = (1..=N).map(|i| complete(1, i)).collect();
    let (cycles, _) = run(&mut d, &reqs)?;
    let per_cqe = cycles as f64 / N as f64;
    // A completion that raises an event and its interrupt.
    run(
        &mut d,
        &[
            CqReq::SetCi { cqn: 1, ci: N + 1 },
            CqReq::ArmCq {
                cqn: 1,
                arm: Arm::Next as u8,
                sn: 1,
                ci: N + 1,
            },
        ],
    )?;
    let (to_irq, r) = run(&mut d, &[complete(1, 0)])?;
    if r[0].irqs.is_empty() {
        bail!("the armed completion raised no interrupt");
    }
    crate::outln!("hca bench cq: the CQ and EQ engine's RTL on the Verilator build");
    crate::outln!(
        "  CQE path              {per_cqe:>6.2} cycles per completion ({:.3} CQEs per clock)",
        1.0 / per_cqe
    );
    crate::outln!("  completion to MSI-X   {to_irq:>6} cycles (request in to interrupt out, CQE and EQE written)");
    crate::outln!("moderation: {N} completions one tick apart, at {rate:.0} completions/s (a tick is the gap between two)");
    let base = events(&mut d, 10, 2, N, 0, 0)?;
    crate::outln!(
        "  {:>5} {:>6} {:>8} {:>15}",
        "count",
        "period",
        "events",
        "events/s saved"
    );
    for (i, (count, period)) in [(0u16, 0u16), (4, 0), (16, 0), (0, 8), (16, 32), (64, 16)]
        .into_iter()
        .enumerate()
    {
        let e = if i == 0 {
            base
        } else {
            events(&mut d, 10 + i as u32, 2 + (i as u16 % 6), N, count, period)?
        };
        let saved = (base - e.min(base)) as f64 / N as f64 * rate;
        crate::outln!("  {count:>5} {period:>6} {e:>8} {saved:>15.0}");
    }
    Ok(())
}
