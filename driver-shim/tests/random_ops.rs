//! A seeded random run of driver operations on every backend: creates,
//! modifies, destroys, maps, unmaps, resizes, posts and completions in
//! random order, multicast attaches and detaches, a good share with bad
//! arguments (sizes out of range,
//! unknown or destroyed handles, illegal transitions, misaligned buffers,
//! objects still in use). Nothing may panic; every failure is one of the
//! driver's typed errors; at the end, with everything destroyed, the
//! driver holds nothing and the device's tables are empty. The seed is
//! printed; `HCA_SEED=<seed>` replays a run.

mod common;

use common::up;
use hca_abi::qp_state::{attr, rule};
use hca_abi::wqe::opcode as wop;
use hca_device::HcaPci;
use hca_driver::mr::access;
use hca_driver::{
    Arm, Cq, Device, Error, FmrMap, FmrPool, Mr, Pd, Qp, QpAttr, QpInit, QpState, QpType, SendWr,
    Sge, Srq,
};
use hca_engines::Backend;
use hca_rtl::cq::Cqe;
use hca_testbench::Seed;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

#[derive(Default)]
struct Live {
    pds: Vec<Pd>,
    mrs: Vec<(Mr, hca_driver::dma::DmaBuf)>,
    cqs: Vec<Cq>,
    srqs: Vec<Srq>,
    qps: Vec<Qp>,
    pools: Vec<FmrPool>,
    maps: Vec<(FmrPool, FmrMap)>,
    /// Handles already destroyed, to use again.
    dead_cqs: Vec<Cq>,
    dead_qps: Vec<Qp>,
    dead_mrs: Vec<Mr>,
}

/// An operation that found nothing to act on (tallied apart).
fn skip() -> Error {
    Error::InvalidArgument("skipped: no object to act on".into())
}

fn pick<T: Copy>(r: &mut ChaCha8Rng, v: &[T]) -> Option<T> {
    v.choose(r).copied()
}

fn attrs(r: &mut ChaCha8Rng, to: QpState) -> QpAttr {
    QpAttr {
        state: Some(to),
        port: if r.gen_ratio(1, 20) {
            r.gen_range(0..4)
        } else {
            1
        },
        pkey_index: 0,
        qkey: r.gen(),
        access: r.gen_range(0..8),
        path_mtu: if r.gen_ratio(1, 20) {
            r.gen_range(0..8)
        } else {
            5
        },
        dest_qpn: r.gen_range(0..1 << 24),
        rq_psn: r.gen_range(0..1 << 24),
        sq_psn: r.gen_range(0..1 << 24),
        dlid: r.gen(),
        sl: r.gen_range(0..16),
        timeout: r.gen_range(0..32),
        retry_cnt: r.gen_range(0..8),
        rnr_retry: r.gen_range(0..8),
        min_rnr_timer: r.gen_range(0..32),
        max_rd_atomic: r.gen_range(0..17),
        max_dest_rd_atomic: r.gen_range(0..17),
    }
}

/// One random operation. Returns its name and what it gave.
fn step(
    d: &mut Device<HcaPci>,
    r: &mut ChaCha8Rng,
    l: &mut Live,
) -> (&'static str, Result<(), Error>) {
    let bogus_pd = Pd {
        pdn: r.gen_range(0..1 << 16),
    };
    let pd = if r.gen_ratio(1, 10) {
        Some(bogus_pd)
    } else {
        pick(r, &l.pds)
    };
    match r.gen_range(0..23) {
        0 => ("alloc_pd", d.alloc_pd().map(|p| l.pds.push(p))),
        1 => {
            let Some(p) = pd else {
                return ("dealloc_pd", Err(skip()));
            };
            let res = d.dealloc_pd(&p);
            if res.is_ok() {
                l.pds.retain(|x| *x != p);
            }
            ("dealloc_pd", res)
        }
        2 => {
            let Some(p) = pd else {
                return ("reg_mr", Err(skip()));
            };
            let pages = r.gen_range(1..6u64);
            let buf = match d.memory().alloc(pages * 4096, 4096) {
                Ok(b) => b,
                Err(e) => return ("reg_mr", Err(e)),
            };
            let off = if r.gen_ratio(1, 8) {
                r.gen_range(1..4096)
            } else {
                0
            };
            let len = if r.gen_ratio(1, 10) {
                0
            } else {
                r.gen_range(1..=pages * 4096 - off)
            };
            let acc = if r.gen_ratio(1, 10) {
                r.gen()
            } else {
                r.gen::<u8>() & access::ALL
            };
            match d.reg_mr(
                &p,
                buf.addr + off,
                len,
                r.gen_range(0..1u64 << 40) & !0xfff,
                acc,
            ) {
                Ok(m) => {
                    l.mrs.push((m, buf));
                    ("reg_mr", Ok(()))
                }
                Err(e) => {
                    d.memory().free(buf);
                    ("reg_mr", Err(e))
                }
            }
        }
        3 => {
            if r.gen_ratio(1, 4) {
                if let Some(m) = pick(r, &l.dead_mrs) {
                    return ("dereg_mr", d.dereg_mr(&m));
                }
            }
            if l.mrs.is_empty() {
                return ("dereg_mr", Err(skip()));
            }
            let i = r.gen_range(0..l.mrs.len());
            let (m, buf) = l.mrs[i];
            let res = d.dereg_mr(&m);
            if res.is_ok() {
                l.mrs.remove(i);
                d.memory().free(buf);
                l.dead_mrs.push(m);
            }
            ("dereg_mr", res)
        }
        4 => {
            let n = if r.gen_ratio(1, 10) {
                r.gen()
            } else {
                r.gen_range(1..600)
            };
            let v = if r.gen_ratio(1, 10) {
                r.gen_range(0..10)
            } else {
                r.gen_range(0..d.comp_vectors())
            };
            ("create_cq", d.create_cq(n, v).map(|c| l.cqs.push(c)))
        }
        5 => {
            let dead = r.gen_ratio(1, 5);
            let Some(c) = (if dead {
                pick(r, &l.dead_cqs)
            } else {
                pick(r, &l.cqs)
            }) else {
                return ("destroy_cq", Err(skip()));
            };
            let res = d.destroy_cq(&c);
            if res.is_ok() {
                l.cqs.retain(|x| x.cqn != c.cqn);
                l.dead_cqs.push(c);
            }
            ("destroy_cq", res)
        }
        6 => {
            if l.cqs.is_empty() {
                return ("resize_cq", Err(skip()));
            }
            let i = r.gen_range(0..l.cqs.len());
            let n = if r.gen_ratio(1, 10) {
                r.gen_range(0..3)
            } else {
                r.gen_range(1..600)
            };
            let mut c = l.cqs[i];
            let res = d.resize_cq(&mut c, n);
            l.cqs[i] = c;
            ("resize_cq", res)
        }
        7 => {
            let Some(c) = pick(r, &l.cqs) else {
                return ("poll_cq", Err(skip()));
            };
            ("poll_cq", d.poll_cq(&c, r.gen_range(0..40)).map(|_| ()))
        }
        8 => {
            let Some(c) = pick(r, &l.cqs) else {
                return ("arm_cq", Err(skip()));
            };
            let a = if r.gen() { Arm::Next } else { Arm::Solicited };
            ("arm_cq", d.arm_cq(&c, a))
        }
        9 => {
            let Some(c) = pick(r, &l.cqs) else {
                return ("modify_cq", Err(skip()));
            };
            ("modify_cq", d.modify_cq(&c, r.gen(), r.gen()))
        }
        10 => {
            // A completion as the transport engine will post one; the CQ
            // may be full (the engine refuses: not a driver error).
            let Some(c) = pick(r, &l.cqs) else {
                return ("complete", Err(skip()));
            };
            let cqe = Cqe {
                my_qpn: r.gen_range(0..1 << 24),
                wqe_index: r.gen(),
                ..Default::default()
            };
            let (pci, mem) = d.pci_and_memory();
            let _ = pci.complete(c.cqn, cqe, r.gen(), mem.host());
            d.service_interrupts();
            ("complete", Ok(()))
        }
        11 => {
            let Some(p) = pd else {
                return ("create_srq", Err(skip()));
            };
            let n = if r.gen_ratio(1, 10) {
                r.gen()
            } else {
                r.gen_range(1..300)
            };
            let g = if r.gen_ratio(1, 10) {
                r.gen_range(0..64)
            } else {
                r.gen_range(1..4)
            };
            ("create_srq", d.create_srq(&p, n, g).map(|s| l.srqs.push(s)))
        }
        12 => {
            let Some(s) = pick(r, &l.srqs) else {
                return ("destroy_srq", Err(skip()));
            };
            let res = d.destroy_srq(&s);
            if res.is_ok() {
                l.srqs.retain(|x| x.srqn != s.srqn);
            }
            ("destroy_srq", res)
        }
        13 => {
            let Some(s) = pick(r, &l.srqs) else {
                return ("srq", Err(skip()));
            };
            if r.gen() {
                ("arm_srq", d.arm_srq(&s, r.gen()))
            } else {
                let n = r.gen_range(0..5);
                let sges = vec![
                    Sge {
                        addr: 0x1000,
                        len: 64,
                        lkey: r.gen()
                    };
                    n
                ];
                ("post_srq_recv", d.post_srq_recv(&s, &sges))
            }
        }
        14 => {
            let (Some(p), Some(sc)) = (pd, pick(r, &l.cqs)) else {
                return ("create_qp", Err(skip()));
            };
            let rc = if r.gen_ratio(1, 10) {
                pick(r, &l.dead_cqs).unwrap_or(sc)
            } else {
                pick(r, &l.cqs).unwrap_or(sc)
            };
            let t = *QpType::ALL.choose(r).expect("types");
            let srq = if r.gen_ratio(1, 3) {
                pick(r, &l.srqs)
            } else {
                None
            };
            let wr = |r: &mut ChaCha8Rng| {
                if r.gen_ratio(1, 10) {
                    r.gen()
                } else {
                    r.gen_range(1..200)
                }
            };
            let init = QpInit {
                qp_type: t,
                send_cq: sc,
                recv_cq: rc,
                srq,
                max_send_wr: wr(r),
                max_recv_wr: wr(r),
                max_send_sge: if r.gen_ratio(1, 10) {
                    r.gen_range(0..40)
                } else {
                    r.gen_range(1..4)
                },
                max_recv_sge: if r.gen_ratio(1, 10) {
                    r.gen_range(0..40)
                } else {
                    r.gen_range(1..4)
                },
            };
            ("create_qp", d.create_qp(&p, &init).map(|q| l.qps.push(q)))
        }
        15 | 16 => {
            let dead = r.gen_ratio(1, 10);
            let Some(q) = (if dead {
                pick(r, &l.dead_qps)
            } else {
                pick(r, &l.qps)
            }) else {
                return ("modify_qp", Err(skip()));
            };
            let cur = d.qp_state(&q).unwrap_or(QpState::Reset);
            // Mostly the next step towards RTS, so QPs get there.
            let to = match cur {
                QpState::Reset if r.gen_ratio(3, 5) => QpState::Init,
                QpState::Init if r.gen_ratio(3, 5) => QpState::Rtr,
                QpState::Rtr if r.gen_ratio(3, 5) => QpState::Rts,
                QpState::Rts if r.gen_ratio(3, 5) => QpState::Rts,
                _ => *QpState::ALL.choose(r).expect("states"),
            };
            // Mostly what the table requires, sometimes anything.
            let mask = match rule(cur, to, q.qp_type) {
                Some(ru) if !r.gen_ratio(1, 5) => {
                    attr::STATE | ru.required | (ru.optional & r.gen::<u32>())
                }
                _ => r.gen::<u32>() & ((1 << attr::BITS) - 1) | attr::STATE,
            };
            ("modify_qp", d.modify_qp(&q, &attrs(r, to), mask))
        }
        17 => {
            let Some(q) = pick(r, &l.qps) else {
                return ("destroy_qp", Err(skip()));
            };
            let res = d.destroy_qp(&q);
            if res.is_ok() {
                l.qps.retain(|x| x.qpn != q.qpn);
                l.dead_qps.push(q);
            }
            ("destroy_qp", res)
        }
        18 => {
            let Some(q) = pick(r, &l.qps) else {
                return ("post", Err(skip()));
            };
            let sges = vec![
                Sge {
                    addr: 0x2000,
                    len: r.gen_range(0..9000),
                    lkey: r.gen()
                };
                r.gen_range(0..3)
            ];
            if r.gen() {
                return ("post_recv", d.post_recv(&q, &sges));
            }
            let ud = q.qp_type == QpType::Ud;
            // Mostly a well-formed request for the QP's type.
            let sane = r.gen_ratio(4, 5);
            let op = if sane {
                match q.qp_type {
                    QpType::Ud => wop::SEND,
                    QpType::Uc => *[wop::SEND, wop::RDMA_WRITE].choose(r).expect("ops"),
                    QpType::Rc => *[wop::SEND, wop::SEND_IMM, wop::RDMA_WRITE, wop::RDMA_READ]
                        .choose(r)
                        .expect("ops"),
                }
            } else {
                *[
                    wop::SEND,
                    wop::SEND_IMM,
                    wop::RDMA_WRITE,
                    wop::RDMA_READ,
                    wop::ATOMIC_CS,
                    0x1f,
                ]
                .choose(r)
                .expect("ops")
            };
            let rdma = matches!(op, wop::RDMA_WRITE | wop::RDMA_READ);
            let remote = (if sane { rdma } else { r.gen() }).then(|| (r.gen(), r.gen()));
            let want_ah = if sane { ud } else { r.gen() };
            let ah = if want_ah {
                pick(r, &l.pds).and_then(|p| {
                    d.create_ah(
                        &p,
                        if sane { 1 } else { r.gen_range(0..3) },
                        r.gen(),
                        r.gen_range(0..16),
                    )
                    .ok()
                })
            } else {
                None
            };
            let wr = SendWr {
                opcode: op,
                sges,
                signaled: r.gen(),
                solicited: r.gen(),
                imm: r.gen(),
                remote,
                ud: ah.map(|ah| hca_driver::UdDest {
                    ah,
                    dqpn: r.gen(),
                    qkey: r.gen(),
                }),
                atomic: None,
            };
            ("post_send", d.post_send(&q, &wr))
        }
        19 => {
            let Some(p) = pd else {
                return ("create_fmr_pool", Err(skip()));
            };
            let size = if r.gen_ratio(1, 10) {
                0
            } else {
                r.gen_range(1..5)
            };
            let pages = if r.gen_ratio(1, 10) {
                r.gen()
            } else {
                r.gen_range(1..9)
            };
            let batch = r.gen_range(0..4);
            (
                "create_fmr_pool",
                d.create_fmr_pool(&p, size, pages, batch, access::ALL)
                    .map(|f| l.pools.push(f)),
            )
        }
        20 => {
            let Some(f) = pick(r, &l.pools) else {
                return ("fmr_map", Err(skip()));
            };
            if r.gen_ratio(1, 3) {
                if l.maps.is_empty() {
                    return ("fmr_unmap", Err(skip()));
                }
                let i = r.gen_range(0..l.maps.len());
                let (pool, m) = l.maps[i];
                let res = d.fmr_unmap(&pool, &m).map(|_| ());
                if res.is_ok() {
                    l.maps.remove(i);
                }
                return ("fmr_unmap", res);
            }
            let n = r.gen_range(0..(f.max_pages + 2).min(12));
            let pages: Vec<u64> = (0..n)
                .map(|i| 0x10_0000 + i as u64 * 4096 + if r.gen_ratio(1, 20) { 8 } else { 0 })
                .collect();
            (
                "fmr_map",
                d.fmr_map(&f, &pages, r.gen_range(0..1u64 << 30) & !0xfff)
                    .map(|m| l.maps.push((f, m))),
            )
        }
        22 => {
            // Multicast: a few groups, two of them hashing alike.
            let Some(q) = pick(r, &l.qps) else {
                return ("mcast", Err(skip()));
            };
            let mut gid = [
                0xff,
                0x12,
                0x40,
                0x1b,
                0xff,
                0xff,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                r.gen_range(0..3),
            ];
            if r.gen_ratio(1, 4) {
                gid.swap(2, 4);
                gid.swap(3, 5);
            }
            if r.gen_ratio(1, 20) {
                gid[0] = r.gen();
            }
            if r.gen() {
                ("attach_mcast", d.attach_mcast(&q, &gid, r.gen()))
            } else {
                // Mostly a group the QP is in.
                let mine = d.mcast_groups(&q).unwrap_or_default();
                let gid = match mine.choose(r) {
                    Some(g) if r.gen_ratio(3, 4) => *g,
                    _ => gid,
                };
                ("detach_mcast", d.detach_mcast(&q, &gid))
            }
        }
        _ => {
            let Some(f) = pick(r, &l.pools) else {
                return ("destroy_fmr_pool", Err(skip()));
            };
            if r.gen() {
                return ("fmr_flush", d.fmr_flush(&f));
            }
            let res = d.destroy_fmr_pool(&f);
            if res.is_ok() {
                l.pools.retain(|x| x.id != f.id);
                l.maps.retain(|(p, _)| p.id != f.id);
            }
            ("destroy_fmr_pool", res)
        }
    }
}

fn run(backend: Backend, ops: u64) {
    let seed = Seed::from_env();
    println!("driver random ops on {backend}: HCA_SEED={seed}");
    let mut r = ChaCha8Rng::seed_from_u64(seed.0);
    let mut d = up(backend);
    let idle = d.resources();
    let mut l = Live::default();
    let mut tally: BTreeMap<(&str, String), u64> = BTreeMap::new();
    for n in 0..ops {
        let (what, res) = step(&mut d, &mut r, &mut l);
        let outcome = match &res {
            Ok(()) => "ok".to_string(),
            Err(Error::Command { status, .. }) => format!("command {status}"),
            Err(Error::Timeout { .. }) | Err(Error::Busy { .. }) => {
                panic!("seed {seed}, op {n} {what}: the device stopped answering: {res:?}")
            }
            Err(Error::Device(m)) => panic!("seed {seed}, op {n} {what}: {m}"),
            Err(Error::InvalidArgument(m)) if m.starts_with("skipped") => "skipped".to_string(),
            Err(e) => match e {
                Error::NoResources(_) => "no resources",
                Error::InvalidArgument(_) => "invalid argument",
                Error::QpTransition { .. } => "QP transition",
                Error::NoSuchObject { .. } => "no such object",
                Error::InUse(_) => "in use",
                Error::Dma(_) => "dma",
                _ => "other",
            }
            .to_string(),
        };
        *tally.entry((what, outcome)).or_default() += 1;
        // Keep each live set small, so the tables do not fill up and every
        // kind of operation finds objects: the oldest goes.
        if l.qps.len() > 24 {
            let q = l.qps.remove(0);
            d.destroy_qp(&q)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        }
        if l.mrs.len() > 24 {
            let (m, buf) = l.mrs.remove(0);
            d.dereg_mr(&m)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            d.memory().free(buf);
        }
        if l.cqs.len() > 24 {
            // Only a CQ no QP or SRQ uses can go.
            let c = l.cqs[0];
            if d.destroy_cq(&c).is_ok() {
                l.cqs.remove(0);
            }
        }
    }
    let count = |w: &str| -> u64 {
        tally
            .iter()
            .filter(|((_, o), _)| o == w)
            .map(|(_, c)| c)
            .sum()
    };
    let (ok, skipped) = (count("ok"), count("skipped"));
    let failed: u64 = tally.values().sum::<u64>() - ok - skipped;
    println!(
        "{ops} operations: {ok} succeeded, {failed} refused, {skipped} found nothing to act on"
    );
    for ((what, o), c) in &tally {
        println!("  {what:<18} {o:<28} {c}");
    }
    assert!(
        failed > ops / 20 && ok > ops / 4,
        "seed {seed}: both outcomes common"
    );
    for what in [
        "create_qp",
        "modify_qp",
        "post_send",
        "post_recv",
        "fmr_map",
        "resize_cq",
        "reg_mr",
        "create_srq",
        "attach_mcast",
        "detach_mcast",
    ] {
        assert!(
            tally.get(&(what, "ok".to_string())).copied().unwrap_or(0) > 20,
            "seed {seed}: {what} rarely succeeds: the stimulus does not reach it"
        );
    }
    // Everything down, users first.
    for q in std::mem::take(&mut l.qps) {
        d.destroy_qp(&q)
            .unwrap_or_else(|e| panic!("seed {seed}: destroy QP: {e}"));
    }
    for s in std::mem::take(&mut l.srqs) {
        d.destroy_srq(&s)
            .unwrap_or_else(|e| panic!("seed {seed}: destroy SRQ: {e}"));
    }
    for c in std::mem::take(&mut l.cqs) {
        d.destroy_cq(&c)
            .unwrap_or_else(|e| panic!("seed {seed}: destroy CQ: {e}"));
    }
    for f in std::mem::take(&mut l.pools) {
        d.destroy_fmr_pool(&f)
            .unwrap_or_else(|e| panic!("seed {seed}: destroy pool: {e}"));
    }
    for (m, buf) in std::mem::take(&mut l.mrs) {
        d.dereg_mr(&m)
            .unwrap_or_else(|e| panic!("seed {seed}: dereg: {e}"));
        d.memory().free(buf);
    }
    for p in std::mem::take(&mut l.pds) {
        d.dealloc_pd(&p)
            .unwrap_or_else(|e| panic!("seed {seed}: dealloc PD: {e}"));
    }
    assert_eq!(d.resources(), idle, "seed {seed}: everything freed");
    assert!(
        d.mcg_table().unwrap().is_empty(),
        "seed {seed}: the MCG table is empty"
    );
    let fw = d.pci().firmware().state_digest();
    for empty in ["hw_cqs=[]", "hw_mpts=[]", "live_qps={}", "hw_srqs: {}"] {
        assert!(
            fw.contains(empty),
            "seed {seed}: the device still holds objects ({empty}): {fw}"
        );
    }
    d.tear_down()
        .unwrap_or_else(|e| panic!("seed {seed}: teardown: {e}"));
}

hca_engines::on_every_backend! {
    fn a_hundred_thousand_random_driver_operations(backend: Backend) {
        run(backend, 100_000)
    }
}
