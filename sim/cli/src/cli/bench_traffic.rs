//! `hca bench traffic`: what the simulated HCAs carry per second, side by
//! side on every engine backend, in one run: for SEND, RDMA WRITE, RDMA
//! READ at several sizes and for fetch-and-add, messages and bytes per
//! second of wall time, the blocks' clock cycles per message, and the
//! share of the transport engine's wall time spent in the RTL blocks'
//! requests; then RC goodput through links that drop 1% of packets as a
//! ratio to the same run without loss.

use super::traffic::{pair, Host, IOVA};
use crate::{outln, Backend};
use anyhow::{ensure, Result};
use hca_driver::{AtomicArgs, SendWr, Sge};
use hca_fabric::Faults;
use std::time::Instant;

/// Messages outstanding at once.
const WINDOW: u64 = 16;

/// What one run measured.
struct Figures {
    messages: u64,
    bytes: u64,
    seconds: f64,
    cycles: u64,
    /// Wall seconds in the transport engine, and in the blocks within it.
    engine_s: f64,
    blocks_s: f64,
    sim_ns: u64,
}

fn sge(h: &Host, at: u64, len: u32) -> Sge {
    Sge {
        addr: IOVA + at,
        len,
        lkey: h.mr.lkey,
    }
}

/// `count` operations `op` of `size` bytes from x to y; wall time and what
/// the devices counted.
fn measure(engine: Backend, op: &str, size: u32, count: u64, faults: Faults) -> Result<Figures> {
    let (f, mut x, mut y) = pair(engine, faults, 3, 5, None)?;
    for _ in 0..64 {
        y.d.post_recv(&y.rc, &[sge(&y, 1 << 20, 64 << 10)])?;
    }
    let start = Instant::now();
    let (mut posted, mut done, mut received) = (0u64, 0u64, 0u64);
    while done < count {
        while posted < count && posted - done < WINDOW {
            let mut wr = SendWr {
                signaled: true,
                sges: vec![sge(&x, 0, size)],
                ..Default::default()
            };
            match op {
                "send" => wr.opcode = hca_abi::wqe::opcode::SEND,
                "write" => {
                    wr.opcode = hca_abi::wqe::opcode::RDMA_WRITE;
                    wr.remote = Some((IOVA + (2 << 20), y.mr.rkey));
                }
                "read" => {
                    wr.opcode = hca_abi::wqe::opcode::RDMA_READ;
                    wr.remote = Some((IOVA + (2 << 20), y.mr.rkey));
                }
                _ => {
                    wr.opcode = hca_abi::wqe::opcode::ATOMIC_FA;
                    wr.sges = vec![sge(&x, 0, 8)];
                    wr.remote = Some((IOVA + (3 << 20), y.mr.rkey));
                    wr.atomic = Some(AtomicArgs {
                        swap_add: 1,
                        ..Default::default()
                    });
                }
            }
            x.d.post_send(&x.rc, &wr)?;
            posted += 1;
        }
        for w in x.d.poll_cq(&x.cq, 64)? {
            ensure!(w.status == 0, "{op} completed in error: {w:?}");
            done += 1;
        }
        for w in y.d.poll_cq(&y.cq, 64)? {
            ensure!(w.status == 0, "a receive completed in error: {w:?}");
            received += 1;
            y.d.post_recv(&y.rc, &[sge(&y, 1 << 20, 64 << 10)])?;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    if op == "send" {
        // The last receives complete after the sends they answer.
        while received < count {
            received += y.d.poll_cq(&y.cq, 64)?.len() as u64;
        }
    }
    let (ex, bx) = x.d.pci().transport_wall();
    let (ey, by) = y.d.pci().transport_wall();
    let sim_ns = f.lock().unwrap_or_else(|e| e.into_inner()).now();
    Ok(Figures {
        messages: count,
        bytes: count * if op == "atomic" { 8 } else { size as u64 },
        seconds,
        cycles: x.d.pci().block_cycles() + y.d.pci().block_cycles(),
        engine_s: (ex + ey).as_secs_f64(),
        blocks_s: (bx + by).as_secs_f64(),
        sim_ns,
    })
}

fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

pub fn traffic(count: u64) -> Result<()> {
    ensure!(count > 0, "--count 0: nothing to measure");
    outln!(
        "hca bench traffic: RC between two HCAs through a switch, path MTU 4096, {WINDOW} outstanding; {count} messages per row ({} on rtl)",
        (count / 10).max(10)
    );
    outln!();
    outln!("| engine | operation | bytes | messages/s | bytes/s | block cycles/message | blocks' share of engine time |");
    outln!("|---|---|---|---|---|---|---|");
    let rows: &[(&str, u32)] = &[
        ("send", 64),
        ("send", 4096),
        ("send", 65536),
        ("write", 64),
        ("write", 65536),
        ("read", 64),
        ("read", 65536),
        ("atomic", 8),
    ];
    for engine in Backend::ALL {
        let n = if engine == Backend::Rtl {
            (count / 10).max(10)
        } else {
            count
        };
        for (op, size) in rows {
            let m = measure(engine, op, *size, n, Faults::NONE)?;
            outln!(
                "| {engine} | {op} | {size} | {} | {}B | {:.1} | {:.0}% |",
                rate(m.messages as f64 / m.seconds),
                rate(m.bytes as f64 / m.seconds),
                m.cycles as f64 / m.messages as f64,
                100.0 * m.blocks_s / m.engine_s.max(1e-9)
            );
        }
    }
    outln!();
    outln!("RC goodput with 1% of packets dropped on each link, against the same run without loss (model engine, 4 KiB SENDs):");
    outln!();
    outln!("| links | wall messages/s | simulated goodput (bytes per simulated second) | ratio to lossless |");
    outln!("|---|---|---|---|");
    let clean = measure(Backend::Model, "send", 4096, count, Faults::NONE)?;
    let lossy = measure(Backend::Model, "send", 4096, count, Faults::loss(0.01))?;
    let goodput = |m: &Figures| m.bytes as f64 / (m.sim_ns.max(1) as f64 / 1e9);
    for (name, m) in [("lossless", &clean), ("1% drop", &lossy)] {
        outln!(
            "| {name} | {} | {}B/s | {:.2} |",
            rate(m.messages as f64 / m.seconds),
            rate(goodput(m)),
            goodput(m) / goodput(&clean)
        );
    }
    outln!();
    outln!(
        "Goodput is measured on the fabric's simulated time (link rate 32 Gb/s, 100 ns per link, a lost packet costing a sequence NAK's round trip, or the 67 ms transport timeout (code 14) when nothing follows it); wall rates are this machine's, all rows measured in this run."
    );
    Ok(())
}
