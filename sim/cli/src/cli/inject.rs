//! `hca inject`: recorded or hand-made packets into an HCA's port, one at
//! a time, with what the HCA did with each: taken by a QP (and answered,
//! when it sent packets back), or dropped and why. The HCAs are the two
//! `hca traffic` builds, set up the same way (so a capture of `hca
//! traffic` names QPs that exist here, with the PSNs they expect); the
//! packets come from a pcap of ERF InfiniBand records, as `--pcap` writes
//! them and ibdump does.

use super::traffic::pair;
use crate::{outln, Backend};
use anyhow::{ensure, Context, Result};
use hca_abi::ib::{opcode, Packet};
use hca_fabric::Faults;
use hca_transport::Outcome;
use std::collections::BTreeMap;
use std::path::Path;

pub fn run(engine: Backend, pcap: &Path, port: usize) -> Result<bool> {
    ensure!(port <= 1, "--port {port}: the fabric has HCA ports 0 and 1");
    let file = std::fs::File::open(pcap).with_context(|| format!("--pcap {}", pcap.display()))?;
    let packets = hca_fabric::capture::read(file)?;
    let (f, mut x, mut y) = pair(engine, Faults::NONE, 1, 5, None)?;
    let endpoint = port;
    outln!(
        "hca inject: {} packets from {} into hca{port}'s port (LID {}), on the {engine} engine",
        packets.len(),
        pcap.display(),
        port + 1
    );
    outln!();
    outln!("| # | packet | what the HCA did |");
    outln!("|---|---|---|");
    let target = if port == 0 { &mut x } else { &mut y };
    // Receives posted as `hca traffic` posts them, so its SENDs land.
    for k in 0..64u64 {
        for qp in [target.rc, target.ud] {
            let sge = hca_driver::Sge {
                addr: super::traffic::IOVA + (1 << 20) + k * (16 << 10),
                len: 16 << 10,
                lkey: target.mr.lkey,
            };
            target.d.post_recv(&qp, &[sge])?;
        }
    }
    target.d.pci().record_rx(true);
    let mut tally: BTreeMap<String, u64> = BTreeMap::new();
    for (i, c) in packets.iter().enumerate() {
        let before = target.d.pci().transport_counters().clone();
        f.lock()
            .unwrap_or_else(|e| e.into_inner())
            .inject(endpoint, &c.packet);
        // Give the HCA its time: it takes the packet in and answers.
        target.d.poll_cq(&target.cq, 64)?;
        let after = target.d.pci().transport_counters().clone();
        let sent = after.tx_packets - before.tx_packets;
        let outcome = target.d.pci().take_rx_log();
        let mut what = match outcome.first() {
            Some(Outcome::Taken) if sent > 0 => format!(
                "taken, answered ({sent} packet{})",
                if sent == 1 { "" } else { "s" }
            ),
            Some(Outcome::Taken) => "taken".to_string(),
            Some(Outcome::Dropped(why)) => format!("dropped: {why}"),
            None => "not seen (the port took nothing)".to_string(),
        };
        // What else the engine counted for it: a NAK sent, a duplicate, a
        // replay, a delivery's syndrome.
        let notes: Vec<String> = after
            .events
            .iter()
            .filter(|(k, v)| before.get(k) != **v && !what.contains(**k))
            .map(|(k, v)| match v - before.get(k) {
                1 => k.to_string(),
                n => format!("{k} x{n}"),
            })
            .collect();
        if !notes.is_empty() {
            what.push_str(&format!("; {}", notes.join(", ")));
        }
        // The outcome without its counts and notes, for the tally.
        let key = what
            .split(';')
            .next()
            .unwrap_or(&what)
            .split(" (")
            .next()
            .unwrap_or(&what)
            .to_string();
        *tally.entry(key).or_default() += 1;
        outln!("| {} | {} | {what} |", i + 1, describe(&c.packet));
    }
    // Whatever the answers started (ACKs crossing to the other HCA) ends.
    for _ in 0..8 {
        x.d.poll_cq(&x.cq, 64)?;
        y.d.poll_cq(&y.cq, 64)?;
    }
    outln!();
    outln!("| outcome | packets |");
    outln!("|---|---|");
    for (k, n) in &tally {
        outln!("| {k} | {n} |");
    }
    Ok(true)
}

/// One line about a packet: its opcode, DLID, destination QP and PSN, or
/// why it does not parse.
fn describe(bytes: &[u8]) -> String {
    match Packet::decode(bytes) {
        Ok(p) => format!(
            "{} DLID {} QP {:#x} PSN {:#x}, {} bytes",
            opcode::info(p.h.bth.opcode).map_or("?", |i| i.name),
            p.h.lrh.dlid,
            p.h.bth.dest_qp,
            p.h.bth.psn,
            bytes.len()
        ),
        Err(m) => format!("{} bytes that do not parse ({m})", bytes.len()),
    }
}
