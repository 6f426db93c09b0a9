//! Each verbs object created, used and destroyed through the Rust driver,
//! on every backend: PDs, MRs (their keys translate through the TPT),
//! CQs (a CQ on each completion vector raises its events on that vector),
//! SRQs, QPs of each type walked to RTS with work requests posted,
//! address handles; and at the end the driver and the device hold
//! nothing.

mod common;

use common::{complete, lookup, up};
use hca_driver::mr::access;
use hca_driver::qp::qp_access;
use hca_driver::{attr, Arm, QpAttr, QpInit, QpState, QpType, SendWr, Sge, UdDest};
use hca_engines::Backend;

fn every_object(backend: Backend) {
    let mut d = up(backend);
    let idle = d.resources();
    let pd = d.alloc_pd().unwrap();

    // An MR over two pages: its key translates to them, until it goes.
    let buf = d.memory().alloc(8192, 4096).unwrap();
    let mr = d
        .reg_mr(&pd, buf.addr, 8192, 0x7000_0000, access::ALL)
        .unwrap();
    assert_eq!(
        lookup(&mut d, mr.lkey, pd.pdn, 0x7000_1000),
        Ok(vec![buf.addr + 0x1000]),
        "{backend}: the MR's second page"
    );
    let dma = d.get_dma_mr(&pd, access::LOCAL_WRITE).unwrap();
    assert_eq!(
        lookup(&mut d, dma.lkey, pd.pdn, 0x1234_5000),
        Ok(vec![0x1234_5000])
    );

    // A CQ on every completion vector: its events come on that vector.
    let n = d.comp_vectors();
    assert!(n >= 2, "{backend}: several completion vectors");
    let mut cqs = Vec::new();
    for k in 0..n {
        let cq = d.create_cq(63, k).unwrap();
        assert_eq!(cq.entries, 63);
        d.arm_cq(&cq, Arm::Next).unwrap();
        let _ = d.take_events();
        complete(&mut d, cq.cqn, 0x99, k);
        let ev = d.take_events();
        assert_eq!(
            ev.completions.len(),
            1,
            "{backend}: one event for CQ on vector {k}"
        );
        assert_eq!(ev.completions[0].cqn, cq.cqn);
        assert_eq!(
            ev.completions[0].vector,
            k + 1,
            "{backend}: completion vector {k} is MSI-X vector {}",
            k + 1
        );
        assert_eq!(
            ev.interrupts[k as usize + 1],
            1,
            "{backend}: one interrupt on its vector"
        );
        assert!(
            ev.interrupts
                .iter()
                .enumerate()
                .all(|(v, c)| v == k as usize + 1 || *c == 0),
            "{backend}: no other vector fired: {:?}",
            ev.interrupts
        );
        let wc = d.poll_cq(&cq, 8).unwrap();
        assert_eq!(wc.len(), 1);
        assert_eq!((wc[0].qpn, wc[0].wqe_index, wc[0].status), (0x99, k, 0));
        assert!(
            d.poll_cq(&cq, 8).unwrap().is_empty(),
            "{backend}: polled once"
        );
        // Not armed again: the next completion raises no event.
        complete(&mut d, cq.cqn, 0x99, 100);
        assert!(
            d.take_events().completions.is_empty(),
            "{backend}: disarmed after one event"
        );
        assert_eq!(d.poll_cq(&cq, 8).unwrap().len(), 1);
        cqs.push(cq);
    }
    d.modify_cq(&cqs[0], 4, 10).unwrap();

    // An SRQ with a limit, and receives posted to it.
    let srq = d.create_srq(&pd, 31, 2).unwrap();
    d.arm_srq(&srq, 4).unwrap();
    assert_eq!(d.query_srq(&srq).unwrap().limit_watermark, 4);
    // At the MR's iova: the device translates every key it is given.
    let sge = Sge {
        addr: 0x7000_0000,
        len: 256,
        lkey: mr.lkey,
    };
    for _ in 0..8 {
        d.post_srq_recv(&srq, &[sge]).unwrap();
    }

    // QPs of each type to RTS; a UD QP on the SRQ.
    let (scq, rcq) = (cqs[0], cqs[1]);
    let mut qps = Vec::new();
    for t in [QpType::Rc, QpType::Uc, QpType::Ud] {
        let init = QpInit {
            qp_type: t,
            send_cq: scq,
            recv_cq: rcq,
            srq: (t == QpType::Ud).then_some(srq),
            max_send_wr: 16,
            max_recv_wr: if t == QpType::Ud { 0 } else { 16 },
            max_send_sge: 2,
            max_recv_sge: if t == QpType::Ud { 0 } else { 2 },
        };
        let qp = d.create_qp(&pd, &init).unwrap();
        to_rts(&mut d, &qp, 0x1000 + qp.qpn);
        assert_eq!(d.qp_state(&qp).unwrap(), QpState::Rts);
        let q = d.query_qp(&qp).unwrap();
        assert_eq!(
            q.state,
            QpState::Rts as u8,
            "{backend}: the device holds {t:?} in RTS"
        );
        assert_eq!(q.local_qpn, qp.qpn);
        qps.push(qp);
    }
    let ah = d.create_ah(&pd, 1, 7, 0).unwrap();
    for qp in &qps {
        if qp.qp_type != QpType::Ud {
            d.post_recv(qp, &[sge]).unwrap();
        }
        let wr = SendWr {
            opcode: hca_abi::wqe::opcode::SEND,
            sges: vec![sge],
            signaled: true,
            solicited: false,
            imm: 0,
            remote: None,
            ud: (qp.qp_type == QpType::Ud).then_some(UdDest {
                ah,
                dqpn: 0x55,
                qkey: 0x1111,
            }),
            atomic: None,
        };
        d.post_send(qp, &wr).unwrap();
    }
    // The transport engine takes every send doorbell: each send goes out
    // (lost, as the port is not ACTIVE: no fabric here).
    assert_eq!(d.pci().firmware().stray_uar_writes, 0, "{backend}");
    let c = d.pci().transport_counters().clone();
    assert_eq!(c.get("tx_port_not_active"), 3, "{backend}: {c:?}");
    // UC and UD complete once sent; RC waits for an ACK that cannot come.
    let wc = d.poll_cq(&scq, 8).unwrap();
    let done: Vec<u32> = wc.iter().map(|w| w.qpn).collect();
    assert_eq!(done, vec![qps[1].qpn, qps[2].qpn], "{backend}: {wc:?}");
    assert!(
        wc.iter().all(|w| w.is_send && w.status == 0),
        "{backend}: {wc:?}"
    );

    for qp in &qps {
        d.destroy_qp(qp).unwrap();
    }
    d.destroy_srq(&srq).unwrap();
    for cq in &cqs {
        d.destroy_cq(cq).unwrap();
    }
    d.dereg_mr(&mr).unwrap();
    assert_eq!(
        lookup(&mut d, mr.lkey, pd.pdn, 0x7000_1000),
        Err("not_valid"),
        "{backend}: a deregistered key is dead"
    );
    d.dereg_mr(&dma).unwrap();
    d.dealloc_pd(&pd).unwrap();
    d.memory().free(buf);
    assert_eq!(d.resources(), idle, "{backend}: everything freed");
    let fw = d.pci().firmware().state_digest();
    assert!(
        fw.contains("hw_cqs=[]")
            && fw.contains("hw_mpts=[]")
            && fw.contains("live_qps={}")
            && fw.contains("hw_srqs: {}"),
        "{backend}: the device holds nothing: {fw}"
    );
    d.tear_down().unwrap();
}

/// RESET -> INIT -> RTR -> RTS with the attributes the IBTA requires.
pub fn to_rts(d: &mut hca_driver::Device<hca_device::HcaPci>, qp: &hca_driver::Qp, peer: u32) {
    let mut a = QpAttr {
        state: Some(QpState::Init),
        port: 1,
        pkey_index: 0,
        qkey: 0x1111,
        access: qp_access::REMOTE_READ | qp_access::REMOTE_WRITE,
        ..Default::default()
    };
    let base = attr::STATE | attr::PKEY_INDEX | attr::PORT;
    let m = match qp.qp_type {
        QpType::Ud => base | attr::QKEY,
        _ => base | attr::ACCESS_FLAGS,
    };
    d.modify_qp(qp, &a, m).unwrap();
    a.state = Some(QpState::Rtr);
    a.path_mtu = 5;
    a.dest_qpn = peer;
    a.rq_psn = 0x100;
    a.dlid = 3;
    a.max_dest_rd_atomic = 4;
    a.min_rnr_timer = 12;
    let m = match qp.qp_type {
        QpType::Ud => attr::STATE,
        QpType::Uc => attr::STATE | attr::AV | attr::PATH_MTU | attr::DEST_QPN | attr::RQ_PSN,
        QpType::Rc => {
            attr::STATE
                | attr::AV
                | attr::PATH_MTU
                | attr::DEST_QPN
                | attr::RQ_PSN
                | attr::MAX_DEST_RD_ATOMIC
                | attr::MIN_RNR_TIMER
        }
    };
    d.modify_qp(qp, &a, m).unwrap();
    a.state = Some(QpState::Rts);
    a.sq_psn = 0x200;
    a.timeout = 14;
    a.retry_cnt = 7;
    a.rnr_retry = 7;
    a.max_rd_atomic = 4;
    let m = match qp.qp_type {
        QpType::Rc => {
            attr::STATE
                | attr::SQ_PSN
                | attr::TIMEOUT
                | attr::RETRY_CNT
                | attr::RNR_RETRY
                | attr::MAX_QP_RD_ATOMIC
        }
        _ => attr::STATE | attr::SQ_PSN,
    };
    d.modify_qp(qp, &a, m).unwrap();
}

hca_engines::on_every_backend! {
    fn each_verbs_object_is_created_used_and_destroyed(backend: Backend) {
        every_object(backend)
    }
}

/// A send queue takes what it was sized for and no more until completions
/// are polled; a receive queue likewise. (The RC sends cannot complete:
/// the port has no fabric; the CQEs here are the device's stand-in.)
fn queues_fill_and_drain(backend: Backend) {
    let mut d = up(backend);
    let pd = d.alloc_pd().unwrap();
    let cq = d.create_cq(255, 0).unwrap();
    let init = QpInit {
        max_send_wr: 4,
        max_recv_wr: 4,
        ..common::small_qp_init(QpType::Rc, cq)
    };
    let qp = d.create_qp(&pd, &init).unwrap();
    to_rts(&mut d, &qp, 0x99);
    // Real memory through a DMA MR: the device gathers every send (they
    // are lost on the port, which has no fabric, and wait for ACKs).
    let page = d.memory().alloc(4096, 4096).unwrap();
    let dma = d.get_dma_mr(&pd, access::LOCAL_WRITE).unwrap();
    let sge = Sge {
        addr: page.addr,
        len: 16,
        lkey: dma.lkey,
    };
    let wr = SendWr {
        opcode: hca_abi::wqe::opcode::SEND,
        sges: vec![sge],
        signaled: false,
        solicited: false,
        imm: 0,
        remote: None,
        ud: None,
        atomic: None,
    };
    // 4 asked, more fit (the ring is a power of two past mlx4's spares).
    let mut posted = 0u16;
    while d.post_send(&qp, &wr).is_ok() {
        posted += 1;
        assert!(posted < 1000, "{backend}: the send queue never fills");
    }
    assert!(posted >= 4, "{backend}: {posted}");
    assert!(matches!(
        d.post_send(&qp, &wr),
        Err(hca_driver::Error::NoResources(_))
    ));
    // One send CQE for the third WQE retires the first three.
    let (pci, mem) = d.pci_and_memory();
    let cqe = hca_rtl::cq::Cqe {
        my_qpn: qp.qpn,
        wqe_index: 2,
        is_send: true,
        opcode: hca_abi::wqe::opcode::SEND,
        ..Default::default()
    };
    pci.complete(cq.cqn, cqe, false, mem.host()).unwrap();
    assert_eq!(d.poll_cq(&cq, 4).unwrap().len(), 1);
    for _ in 0..3 {
        d.post_send(&qp, &wr).unwrap();
    }
    assert!(
        d.post_send(&qp, &wr).is_err(),
        "{backend}: three freed, three taken"
    );
    for _ in 0..4 {
        d.post_recv(&qp, &[sge]).unwrap();
    }
    assert!(
        d.post_recv(&qp, &[sge]).is_err(),
        "{backend}: the receive queue holds 4"
    );
    common::complete(&mut d, cq.cqn, qp.qpn, 0);
    assert_eq!(d.poll_cq(&cq, 4).unwrap().len(), 1);
    d.post_recv(&qp, &[sge]).unwrap();
    d.destroy_qp(&qp).unwrap();
    d.destroy_cq(&cq).unwrap();
    d.dereg_mr(&dma).unwrap();
    d.memory().free(page);
    d.tear_down().unwrap();
}

hca_engines::on_every_backend! {
    fn work_queues_fill_and_completions_drain_them(backend: Backend) {
        queues_fill_and_drain(backend)
    }
}
