//! `hca traffic`: two simulated HCAs on one fabric (a switch, a link
//! each, with the faults asked for), both driven by the project's Rust
//! driver in process: each port taken to ACTIVE as a subnet manager on its
//! host would, an RC and a UD QP pair connected, then the chosen mix of
//! operations with every byte checked, and a summary: operations, bytes,
//! retransmissions, NAKs by kind, drops by reason, simulated time and
//! device cycles, wall time.

use crate::{outln, Backend};
use anyhow::{bail, ensure, Context, Result};
use hca_device::{blocks::device_on, FabricPort, HcaPci};
use hca_driver::mr::access;
use hca_driver::{
    AtomicArgs, Cq, Device, Mr, Peer, Profile, Qp, QpInit, QpType, SendWr, Sge, UdDest,
};
use hca_fabric::{Attach, Fabric, Faults, LinkConfig};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The operations `--ops` may name.
pub const OPS: [&str; 7] = [
    "send",
    "write",
    "read",
    "atomic",
    "masked-atomic",
    "send-inv",
    "ud",
];

pub struct TrafficArgs {
    pub engine: Backend,
    pub ops: Vec<String>,
    pub count: u64,
    pub size: u32,
    pub mtu: u32,
    pub faults: Faults,
    pub pcap: Option<std::path::PathBuf>,
    pub seed: u64,
}

const BUF: u64 = 4 << 20;
pub(crate) const IOVA: u64 = 0x4000_0000;
/// Where in each host's buffer things go: 64 slots of 16 KiB for SENDs
/// (and as many for their receives), the RDMA source and target, 64 slots
/// of 8 KiB for UD receives, the atomics' words.
const SLOT: u64 = 16 << 10;
const SEND_AT: u64 = 0;
const RECV_AT: u64 = 1 << 20;
const RDMA_AT: u64 = 2 << 20;
const UD_AT: u64 = 3 << 20;
const UD_SLOT: u64 = 8 << 10;
const WORD_AT: u64 = UD_AT + 64 * UD_SLOT;
const WINDOW: u32 = 16;

pub(crate) struct Host {
    pub d: Device<HcaPci>,
    pub pd: hca_driver::Pd,
    pub mr: Mr,
    pub buf: u64,
    pub cq: Cq,
    pub rc: Qp,
    pub ud: Qp,
    pub lid: u16,
}

pub(crate) fn mtu_code(mtu: u32) -> Result<u8> {
    match mtu {
        256 => Ok(1),
        512 => Ok(2),
        1024 => Ok(3),
        2048 => Ok(4),
        4096 => Ok(5),
        m => bail!("--mtu {m}: one of 256, 512, 1024, 2048, 4096"),
    }
}

fn host(engine: Backend, f: &Arc<Mutex<Fabric>>, ep: usize, lid: u16) -> Result<Host> {
    let dev = device_on(engine).context("opening the blocks")?;
    let mut d = Device::new(dev, Profile::default())?;
    d.pci()
        .attach(
            1,
            FabricPort {
                fabric: f.clone(),
                endpoint: ep,
            },
        )
        .map_err(anyhow::Error::msg)?;
    d.bring_up().context("bring-up")?;
    let pi = d
        .activate_port(1, lid, 1)
        .context("taking the port to ACTIVE")?;
    ensure!(
        pi.port_state == 4,
        "port 1 is in state {} after the Sets",
        pi.port_state
    );
    let pd = d.alloc_pd()?;
    let b = d.memory().alloc(BUF, 4096)?;
    let mr = d.reg_mr(&pd, b.addr, BUF, IOVA, access::ALL)?;
    let cq = d.create_cq(1024, 0)?;
    let init = |t| QpInit {
        qp_type: t,
        send_cq: cq,
        recv_cq: cq,
        srq: None,
        max_send_wr: 64,
        max_recv_wr: 64,
        max_send_sge: 1,
        max_recv_sge: 1,
    };
    let rc = d.create_qp(&pd, &init(QpType::Rc))?;
    let ud = d.create_qp(&pd, &init(QpType::Ud))?;
    d.connect_qp(&ud, 1, 0x0b1b, None, 0)?;
    Ok(Host {
        d,
        pd,
        mr,
        buf: b.addr,
        cq,
        rc,
        ud,
        lid,
    })
}

pub(crate) fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    done: BTreeMap<&'static str, u64>,
    bytes: u64,
    ud_sent: u64,
    ud_delivered: u64,
    adds: u64,
    masked_adds: u64,
}

/// Two HCAs on the `engine` through one switch whose links have
/// `faults` (drawn from `seed`), each port ACTIVE, an RC pair connected at
/// path MTU code `mtu` (PSNs that wrap past 2^24 early) and a UD QP each;
/// every packet captured into `pcap` when given.
pub(crate) fn pair(
    engine: Backend,
    faults: Faults,
    seed: u64,
    mtu: u8,
    pcap: Option<&std::path::Path>,
) -> Result<(Arc<Mutex<Fabric>>, Host, Host)> {
    let mut fabric = Fabric::new(seed);
    let s = fabric.add_switch("sw0", 2);
    let cfg = LinkConfig {
        faults,
        ..Default::default()
    };
    let eps: Vec<usize> = (0..2)
        .map(|k| fabric.add_endpoint(&format!("hca{k}/1")))
        .collect();
    for (k, e) in eps.iter().enumerate() {
        fabric
            .connect(Attach::Endpoint(*e), Attach::Switch(s, k as u8 + 1), cfg)
            .map_err(anyhow::Error::msg)?;
        fabric
            .switch_mut(s)
            .expect("made")
            .set_route(k as u16 + 1, k as u8 + 1)
            .map_err(anyhow::Error::msg)?;
    }
    if let Some(p) = pcap {
        let f = std::fs::File::create(p).with_context(|| format!("--pcap {}", p.display()))?;
        fabric.capture_to(Box::new(std::io::BufWriter::new(f)))?;
    }
    let f = Arc::new(Mutex::new(fabric));
    let mut x = host(engine, &f, eps[0], 1)?;
    let mut y = host(engine, &f, eps[1], 2)?;
    let (px, py) = (0xff_ff00u32, 0x20u32);
    let (xp, yp) = (
        Peer {
            qpn: x.rc.qpn,
            lid: x.lid,
            psn: px,
        },
        Peer {
            qpn: y.rc.qpn,
            lid: y.lid,
            psn: py,
        },
    );
    x.d.connect_qp_mtu(&x.rc, 1, 0, Some(yp), px, mtu)?;
    y.d.connect_qp_mtu(&y.rc, 1, 0, Some(xp), py, mtu)?;
    Ok((f, x, y))
}

pub fn run(a: TrafficArgs) -> Result<bool> {
    for o in &a.ops {
        ensure!(
            OPS.contains(&o.as_str()),
            "--ops {o}: one of {}",
            OPS.join(", ")
        );
    }
    ensure!(!a.ops.is_empty(), "--ops: at least one operation");
    a.faults.validate().map_err(anyhow::Error::msg)?;
    let code = mtu_code(a.mtu)?;
    ensure!(
        a.size as u64 <= SLOT,
        "--size {}: at most {SLOT} bytes",
        a.size
    );
    outln!(
        "hca traffic: two HCAs on the {} engine through one switch, path MTU {}, {} operations of {} bytes ({}), faults: drop {} corrupt {} duplicate {} reorder {}, seed {:#x}",
        a.engine, a.mtu, a.count, a.size, a.ops.join(","),
        a.faults.drop, a.faults.corrupt, a.faults.duplicate, a.faults.reorder, a.seed
    );
    let (f, mut x, mut y) = pair(a.engine, a.faults, a.seed, code, a.pcap.as_deref())?;
    let remote = pattern(a.seed ^ 0x5eed, a.size as usize);
    y.d.memory().write(y.buf + RDMA_AT, &remote)?;
    y.d.memory().write(y.buf + WORD_AT, &[0u8; 16])?;
    // Receives: 64 on each QP of y, each slot posted again once its
    // message is checked (they complete in the order they were posted).
    let rc_slot = |k: u64| Sge {
        addr: IOVA + RECV_AT + (k % 64) * SLOT,
        len: SLOT as u32,
        lkey: y.mr.lkey,
    };
    let ud_slot = |k: u64| Sge {
        addr: IOVA + UD_AT + (k % 64) * UD_SLOT,
        len: UD_SLOT as u32,
        lkey: y.mr.lkey,
    };
    for k in 0..64u64 {
        y.d.post_recv(&y.rc, &[rc_slot(k)])?;
        y.d.post_recv(&y.ud, &[ud_slot(k)])?;
    }
    let written = pattern(0x77, a.size as usize);
    let mut use_once: std::collections::VecDeque<Mr> = Default::default();
    let bar = ProgressBar::new(a.count).with_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} operations {per_sec}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_prefix("traffic");
    let start = Instant::now();
    let mut t = Tally::default();
    let (mut posted, mut outstanding) = (0u64, 0u32);
    let mut sends_posted = 0u64;
    let mut sends_checked = 0u64;
    // What was posted on each QP, in order: its completions come so.
    let mut pending: BTreeMap<u32, std::collections::VecDeque<&'static str>> = BTreeMap::new();
    while t.done.values().sum::<u64>() < a.count {
        if posted < a.count && outstanding < WINDOW {
            let op = OPS
                .iter()
                .find(|o| **o == a.ops[(posted % a.ops.len() as u64) as usize])
                .copied()
                .expect("checked");
            let sge = |h: &Host, at: u64, len: u32| Sge {
                addr: IOVA + at,
                len,
                lkey: h.mr.lkey,
            };
            let mut wr = SendWr {
                signaled: true,
                ..Default::default()
            };
            let mut qp = x.rc;
            match op {
                "send" | "send-inv" | "ud" => {
                    let data = pattern(sends_posted, a.size as usize);
                    let at = SEND_AT + (sends_posted % 64) * SLOT;
                    x.d.memory().write(x.buf + at, &data)?;
                    wr.sges = vec![sge(&x, at, a.size)];
                    wr.opcode = hca_abi::wqe::opcode::SEND;
                    if op == "ud" {
                        wr.sges[0].len = a.size.min(a.mtu);
                        qp = x.ud;
                        wr.ud = Some(UdDest {
                            ah: x.d.create_ah(&x.pd, 1, y.lid, 0)?,
                            dqpn: y.ud.qpn,
                            qkey: 0x0b1b,
                        });
                        t.ud_sent += 1;
                    } else {
                        sends_posted += 1;
                        if op == "send-inv" {
                            // A use-once key of y's, killed by this send.
                            let k = y.d.reg_mr(
                                &y.pd,
                                y.buf + WORD_AT + 0x1000,
                                4096,
                                0x7000_0000,
                                access::ALL,
                            )?;
                            wr.opcode = hca_abi::wqe::opcode::SEND_INVAL;
                            wr.imm = k.rkey;
                            use_once.push_back(k);
                        }
                    }
                }
                "write" => {
                    x.d.memory().write(x.buf + RDMA_AT, &written)?;
                    wr.opcode = hca_abi::wqe::opcode::RDMA_WRITE;
                    wr.sges = vec![sge(&x, RDMA_AT, a.size)];
                    wr.remote = Some((IOVA + RDMA_AT + (1 << 19), y.mr.rkey));
                }
                "read" => {
                    wr.opcode = hca_abi::wqe::opcode::RDMA_READ;
                    wr.sges = vec![sge(&x, RDMA_AT + (1 << 19), a.size)];
                    wr.remote = Some((IOVA + RDMA_AT, y.mr.rkey));
                }
                "atomic" => {
                    wr.opcode = hca_abi::wqe::opcode::ATOMIC_FA;
                    wr.sges = vec![sge(&x, WORD_AT, 8)];
                    wr.remote = Some((IOVA + WORD_AT, y.mr.rkey));
                    wr.atomic = Some(AtomicArgs {
                        swap_add: 1,
                        ..Default::default()
                    });
                    t.adds += 1;
                }
                _ => {
                    // Eight 8-bit lanes each counted up by one, no carry
                    // between them: a packed word of counters.
                    wr.opcode = hca_abi::wqe::opcode::MASKED_ATOMIC_FA;
                    wr.sges = vec![sge(&x, WORD_AT + 8, 8)];
                    wr.remote = Some((IOVA + WORD_AT + 8, y.mr.rkey));
                    wr.atomic = Some(AtomicArgs {
                        swap_add: 0x0101_0101_0101_0101,
                        compare_mask: 0x8080_8080_8080_8080,
                        ..Default::default()
                    });
                    t.masked_adds += 1;
                }
            }
            x.d.post_send(&qp, &wr)
                .with_context(|| format!("posting {op}"))?;
            pending.entry(qp.qpn).or_default().push_back(op);
            posted += 1;
            outstanding += 1;
            continue;
        }
        for w in x.d.poll_cq(&x.cq, 64)? {
            ensure!(w.status == 0, "a send completed in error: {w:?}");
            let op = pending
                .get_mut(&w.qpn)
                .and_then(|q| q.pop_front())
                .context("a completion for nothing posted")?;
            outstanding -= 1;
            *t.done.entry(op).or_default() += 1;
            t.bytes += if op.contains("atomic") {
                8
            } else {
                a.size as u64
            };
            match op {
                "read" => {
                    let mut got = vec![0u8; a.size as usize];
                    x.d.memory().read(x.buf + RDMA_AT + (1 << 19), &mut got)?;
                    ensure!(
                        got == remote,
                        "a READ brought bytes other than the remote's"
                    );
                }
                "write" => {
                    let mut got = vec![0u8; a.size as usize];
                    y.d.memory().read(y.buf + RDMA_AT + (1 << 19), &mut got)?;
                    ensure!(got == written, "a WRITE left other bytes at its target");
                }
                "send-inv" => {
                    // The key it killed is dead; its registration goes.
                    let k = use_once.pop_front().context("a use-once key")?;
                    y.d.dereg_mr(&k)?;
                }
                _ => {}
            }
            bar.set_position(t.done.values().sum());
        }
        for w in y.d.poll_cq(&y.cq, 64)? {
            ensure!(w.status == 0, "a receive completed in error: {w:?}");
            if w.qpn == y.ud.qpn {
                y.d.post_recv(&y.ud, &[ud_slot(t.ud_delivered)])?;
                t.ud_delivered += 1;
            } else {
                let k = sends_checked;
                let mut got = vec![0u8; w.byte_len as usize];
                y.d.memory()
                    .read(y.buf + RECV_AT + (k % 64) * SLOT, &mut got)?;
                ensure!(
                    got == pattern(k, a.size as usize),
                    "SEND {k} arrived with other bytes (or out of turn)"
                );
                y.d.post_recv(&y.rc, &[rc_slot(k)])?;
                sends_checked += 1;
            }
        }
    }
    bar.finish_and_clear();
    let wall = start.elapsed();
    // The words the atomics counted.
    let mut w = [0u8; 16];
    y.d.memory().read(y.buf + WORD_AT, &mut w)?;
    let adds = u64::from_be_bytes(w[..8].try_into().expect("8 bytes"));
    let lanes = u64::from_be_bytes(w[8..].try_into().expect("8 bytes"));
    ensure!(
        adds == t.adds,
        "the fetch-and-add counter is {adds}, {} were done",
        t.adds
    );
    let lane = (t.masked_adds & 0xff) * 0x0101_0101_0101_0101;
    ensure!(
        lanes == lane,
        "the packed counters read {lanes:#x}, want {lane:#x}"
    );
    let capture = f
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .finish_capture()
        .map_err(anyhow::Error::msg)?;
    let fs = f.lock().unwrap_or_else(|e| e.into_inner()).stats();
    let now = f.lock().unwrap_or_else(|e| e.into_inner()).now();
    let (cx, cy) = (
        x.d.pci().transport_counters().clone(),
        y.d.pci().transport_counters().clone(),
    );
    let cycles = x.d.pci().firmware().clock() + y.d.pci().firmware().clock();
    outln!();
    outln!("| operation | completed |");
    outln!("|---|---|");
    for (op, n) in &t.done {
        outln!("| {op} | {n} |");
    }
    outln!();
    outln!(
        "bytes {}, UD datagrams delivered {}/{} (UD is not retransmitted), SENDs checked in order {}, fetch-and-add counter {adds}, packed counters {lanes:#018x}",
        t.bytes, t.ud_delivered, t.ud_sent, sends_checked
    );
    outln!(
        "retransmitted packets {}, transport timeouts {}, NAKs sent: sequence {}, RNR {}; NAKs received: sequence {}, RNR {}, fatal {}; READs replayed {}, atomics replayed {}",
        cx.get("retransmitted"), cx.get("transport_timeout"),
        cy.get("seq_nak_sent"), cy.get("rnr_nak_sent"),
        cx.get("seq_nak_received"), cx.get("rnr_nak_received"), cx.get("fatal_nak_received"),
        cy.get("read_replayed"), cy.get("atomic_replayed")
    );
    let mut drops: BTreeMap<String, u64> = BTreeMap::new();
    for (who, c) in [("hca0", &cx), ("hca1", &cy)] {
        for (k, v) in &c.events {
            if k.starts_with("rx_") && !matches!(*k, "rx_duplicate" | "rx_out_of_sequence") {
                *drops.entry(format!("{who} {k}")).or_default() += v;
            }
        }
    }
    for ((sw, why), n) in &fs.switch_drops {
        drops.insert(format!("{sw} {why}"), *n);
    }
    outln!(
        "faults injected: dropped {}, corrupted {}, duplicated {}, reordered {}",
        fs.faults.dropped,
        fs.faults.corrupted,
        fs.faults.duplicated,
        fs.faults.reordered
    );
    if drops.is_empty() {
        outln!("drops: none");
    } else {
        outln!("drops by reason:");
        for (k, v) in &drops {
            outln!("  {k}: {v}");
        }
    }
    outln!(
        "simulated time {:.3} ms, device cycles {cycles} (the blocks' clock), wall time {:.2} s{}",
        now as f64 / 1e6,
        wall.as_secs_f64(),
        a.pcap
            .as_ref()
            .map(|p| format!(", {capture} packets captured in {}", p.display()))
            .unwrap_or_default()
    );
    Ok(true)
}
