//! `hca bringup`: the project's Rust driver brings one simulated HCA up
//! from reset in process (no UML), prints what it found, creates one of
//! every verbs object, tears everything down and prints every command it
//! posted: by name and status, how many, and the device clock cycles they
//! took.

use crate::{outln, Backend};
use anyhow::{bail, Context, Result};
use hca_device::blocks::firmware_on;
use hca_device::HcaPci;
use hca_driver::mr::access;
use hca_driver::{Device, Peer, Profile, QpInit, QpType};

pub struct BringupArgs {
    pub engine: Backend,
    pub vectors: u8,
    pub log: String,
}

fn init_log(level: &str) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(format!("hca_driver={level}"))
        .with_context(|| {
            format!("--log {level:?}: not a level (error, warn, info, debug, trace)")
        })?;
    // A second call (tests run several) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
    Ok(())
}

fn log2(v: u8) -> String {
    format!("2^{v}")
}

pub fn run(a: BringupArgs) -> Result<bool> {
    init_log(&a.log)?;
    if a.vectors == 0 {
        bail!("--vectors 0: a CQ needs a completion vector");
    }
    let fw = firmware_on(a.engine).context("opening the blocks")?;
    let profile = Profile {
        comp_vectors: a.vectors,
        ..Profile::default()
    };
    let mut d = Device::new(HcaPci::with_firmware(fw), profile)?;
    outln!(
        "hca bringup: the Rust driver on the {} engine, {} completion vector{} asked",
        a.engine,
        a.vectors,
        if a.vectors == 1 { "" } else { "s" }
    );
    let b = d.bring_up().context("bring-up")?;
    let c = *d.caps().expect("queried");
    outln!();
    outln!(
        "HCA {}, firmware {}, {} port{}, ICM laid out over {} MiB, {} MSI-X vectors ({} for completions), special QPs from {:#x}",
        b.board_id,
        b.fw_version,
        b.ports,
        if b.ports == 1 { "" } else { "s" },
        b.icm_size >> 20,
        b.vectors,
        b.vectors - 1,
        b.special_qp_base
    );
    outln!(
        "capabilities: QPs {} ({} reserved), SRQs {}, CQs {}, MPTs {}, EQs {}, QP depth {}, CQ depth {}, gathers {} send / {} receive, message {}",
        log2(c.log_max_qps),
        1u32 << c.log_rsvd_qps,
        log2(c.log_max_srqs),
        log2(c.log_max_cqs),
        log2(c.log_max_mpts),
        1u32 << c.log_max_eqs,
        log2(c.log_max_qp_sz),
        log2(c.log_max_cq_sz),
        c.max_sg_sq,
        c.max_sg_rq,
        log2(c.log_max_msg)
    );
    if (b.vectors - 1) < a.vectors as u16 {
        outln!(
            "completion vectors: {} asked, the device has room for {} (as mlx4, the driver takes what there is)",
            a.vectors,
            b.vectors - 1
        );
    }
    for port in 1..=b.ports {
        let p = d.query_port(port)?;
        outln!(
            "port {port}: link {}, IB MTU code {}, width mask {:#x}, {} GIDs, {} P_Keys",
            if p.link_up { "up" } else { "down" },
            p.ib_mtu,
            p.width,
            1u32 << p.log_max_gids,
            1u32 << p.log_max_pkeys
        );
    }
    outln!();
    outln!("objects:");
    let pd = d.alloc_pd()?;
    outln!("  PD {:#x}", pd.pdn);
    let buf = d.memory().alloc(16 << 10, 4096)?;
    let mr = d.reg_mr(&pd, buf.addr, 16 << 10, 0x1000_0000, access::ALL)?;
    outln!("  MR of 16 KiB at iova 0x10000000: lkey {:#x}", mr.lkey);
    let dma = d.get_dma_mr(&pd, access::LOCAL_WRITE)?;
    outln!("  DMA MR: lkey {:#x}", dma.lkey);
    let mut cqs = Vec::new();
    for k in 0..d.comp_vectors() {
        let cq = d.create_cq(255, k)?;
        d.arm_cq(&cq, hca_driver::Arm::Next)?;
        outln!(
            "  CQ {:#x} of {} CQEs on completion vector {k}, armed",
            cq.cqn,
            cq.entries
        );
        cqs.push(cq);
    }
    d.modify_cq(&cqs[0], 16, 8)?;
    let mut big = cqs[0];
    d.resize_cq(&mut big, 1023)?;
    cqs[0] = big;
    outln!(
        "  CQ {:#x} moderated (16 CQEs / 8 us) and resized to {}",
        big.cqn,
        big.entries
    );
    let srq = d.create_srq(&pd, 127, 2)?;
    d.arm_srq(&srq, 16)?;
    outln!("  SRQ {:#x} of {} WQEs, limit 16", srq.srqn, srq.max_wr);
    let mut qps = Vec::new();
    for t in [QpType::Rc, QpType::Uc, QpType::Ud] {
        let init = QpInit {
            qp_type: t,
            send_cq: cqs[0],
            recv_cq: *cqs.last().expect("one CQ at least"),
            srq: (t == QpType::Ud).then_some(srq),
            max_send_wr: 64,
            max_recv_wr: if t == QpType::Ud { 0 } else { 64 },
            max_send_sge: 2,
            max_recv_sge: if t == QpType::Ud { 0 } else { 2 },
        };
        let qp = d.create_qp(&pd, &init)?;
        let peer = (t != QpType::Ud).then_some(Peer {
            qpn: qp.qpn,
            lid: 1,
            psn: 0x10,
        });
        d.connect_qp(&qp, 1, 0x1111_1111, peer, 0x20)?;
        let q = d.query_qp(&qp)?;
        outln!(
            "  {} QP {:#x}: RESET -> INIT -> RTR -> RTS (the device reports state {})",
            t.name().to_uppercase(),
            qp.qpn,
            q.state
        );
        qps.push(qp);
    }
    // IPoIB's IPv4 broadcast group on the default P_Key.
    let gid: [u8; 16] = [
        0xff, 0x12, 0x40, 0x1b, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
    ];
    let ud = *qps.last().expect("the UD QP");
    d.attach_mcast(&ud, &gid, true)?;
    let table = d.mcg_table()?;
    outln!(
        "  UD QP {:#x} attached to ff12:401b:ffff::ffff:ffff (MCG entry {:#x}, {} member)",
        ud.qpn,
        table.first().map_or(0, |e| e.0),
        table.first().map_or(0, |e| e.2.len())
    );
    let pool = d.create_fmr_pool(&pd, 4, 8, 2, access::ALL)?;
    let pages: Vec<u64> = (0..2).map(|i| buf.addr + i * 4096).collect();
    let m1 = d.fmr_map(&pool, &pages, 0x2000_0000)?;
    let m2 = d.fmr_map(&pool, &pages[..1], 0x3000_0000)?;
    d.fmr_unmap(&pool, &m1)?;
    let synced = d.fmr_unmap(&pool, &m2)?;
    outln!(
        "  FMR pool of 4 x 8 pages: mapped keys {:#x} and {:#x}, unmapped{}",
        m1.key,
        m2.key,
        if synced { ", batch full: SYNC_TPT" } else { "" }
    );
    d.detach_mcast(&ud, &gid)?;
    for qp in &qps {
        d.destroy_qp(qp)?;
    }
    d.destroy_srq(&srq)?;
    for cq in &cqs {
        d.destroy_cq(cq)?;
    }
    d.destroy_fmr_pool(&pool)?;
    d.dereg_mr(&mr)?;
    d.dereg_mr(&dma)?;
    d.dealloc_pd(&pd)?;
    d.memory().free(buf);
    d.tear_down().context("teardown")?;
    let after = d.resources();
    outln!(
        "teardown: every object destroyed, ports closed, EQs gone, CLOSE_HCA, ICM and the firmware area returned; {} bytes of host memory still held (the two command mailboxes)",
        after.dma_bytes
    );
    outln!();
    summary(&d)?;
    Ok(true)
}

fn summary(d: &Device<HcaPci>) -> Result<()> {
    let stats = d.command_stats();
    let w = stats.keys().map(|(n, _)| n.len()).max().unwrap_or(7).max(7);
    outln!(
        "{:<w$}  {:<13}  {:>5}  {:>10}  {:>10}",
        "command",
        "status",
        "count",
        "cycles",
        "per command"
    );
    let (mut n, mut cyc) = (0u64, 0u64);
    for ((name, status), c) in stats {
        outln!(
            "{:<w$}  {:<13}  {:>5}  {:>10}  {:>10}",
            name,
            status,
            c.count,
            c.cycles,
            c.cycles / c.count.max(1)
        );
        n += c.count;
        cyc += c.cycles;
    }
    outln!("{:<w$}  {:<13}  {:>5}  {:>10}", "total", "", n, cyc);
    Ok(())
}
