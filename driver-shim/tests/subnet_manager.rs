//! The fabric's subnet manager brings three Rust-driver HCAs up over the
//! wire, on every backend: each HCA's MAD agent answers the SM's
//! directed-route SMPs through the firmware's SMA, every port ends ACTIVE
//! with a LID of its own and the SM's LID as master, and the driver hears
//! PORT_CHANGE. Then the SA answers a PathRecord query (the peer's LID
//! from its GID) and IPoIB's broadcast join (its MLID and Q_Key, the
//! switch's multicast table naming every member), and a UD datagram
//! addressed from the path record crosses the fabric. Nothing was
//! configured by hand: no LID set through MAD_IFC, no route in the switch.

mod common;

use hca_abi::entries::eqe::event;
use hca_abi::ib::sa::IPOIB_QKEY;
use hca_device::{FabricPort, HcaPci};
use hca_driver::mad_agent::MadAgent;
use hca_driver::mr::access;
use hca_driver::{Device, QpInit, QpType, SendWr, Sge, UdDest};
use hca_engines::Backend;
use hca_fabric::sa::ipoib_broadcast;
use hca_fabric::sm::SM_LID;
use hca_fabric::{Attach, Fabric, LinkConfig, Phase};
use std::sync::{Arc, Mutex};

const HOSTS: usize = 3;

struct Host {
    d: Device<HcaPci>,
    agent: MadAgent,
}

fn subnet(backend: Backend) -> (Arc<Mutex<Fabric>>, Vec<Host>) {
    let mut f = Fabric::new(11);
    let s = f.add_switch("sw0", HOSTS as u8 + 1);
    f.add_subnet_manager(s).unwrap();
    let mut eps = Vec::new();
    for k in 0..HOSTS {
        let e = f.add_endpoint(&format!("hca{k}/1"));
        f.connect(
            Attach::Endpoint(e),
            Attach::Switch(s, k as u8 + 1),
            LinkConfig::default(),
        )
        .unwrap();
        eps.push(e);
    }
    let f = Arc::new(Mutex::new(f));
    let mut hosts = Vec::new();
    for (k, e) in eps.into_iter().enumerate() {
        let mut d = common::device(backend);
        d.pci()
            .firmware_mut()
            .set_node_guid(0x0002_c903_0000_0100 + 0x100 * k as u64);
        d.pci()
            .attach(
                1,
                FabricPort {
                    fabric: f.clone(),
                    endpoint: e,
                },
            )
            .unwrap();
        d.bring_up().unwrap();
        let agent = d.start_mad_agent(1).unwrap();
        hosts.push(Host { d, agent });
    }
    (f, hosts)
}

/// Serve every host's agent until every port is ACTIVE (or give up).
fn until_active(hosts: &mut [Host]) -> bool {
    for _ in 0..20_000 {
        let mut all = true;
        for h in hosts.iter_mut() {
            h.d.serve(&mut h.agent).unwrap();
            all &= h.d.port_info(1).unwrap().port_state == 4;
        }
        if all {
            return true;
        }
    }
    false
}

fn brought_up(backend: Backend) {
    let (f, mut hosts) = subnet(backend);
    assert!(until_active(&mut hosts), "{backend}: every port ACTIVE");
    let mut lids = Vec::new();
    for (k, h) in hosts.iter_mut().enumerate() {
        h.d.service_interrupts();
        let pi = h.d.port_info(1).unwrap();
        assert_eq!(pi.master_sm_lid, SM_LID, "{backend}: host {k}");
        assert_ne!(pi.lid, 0);
        lids.push(pi.lid);
        let ev = h.d.take_events();
        assert!(
            ev.async_events
                .iter()
                .any(|e| e.event_type == event::PORT_CHANGE && e.subtype == 4),
            "{backend}: host {k} heard its port go ACTIVE: {:?}",
            ev.async_events
        );
        assert!(h.agent.counters.get("smp_answered").copied().unwrap_or(0) >= 5);
    }
    let mut sorted = lids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        HOSTS,
        "{backend}: LIDs of their own: {lids:?}"
    );
    {
        let fab = f.lock().unwrap();
        let sm = fab.subnet_manager().unwrap();
        for (p, (phase, lid)) in sm.ports().into_iter().enumerate().skip(1).take(HOSTS) {
            assert_eq!(phase, Phase::Active, "{backend}: switch port {p}");
            assert_eq!(lid, lids[p - 1]);
        }
    }

    // The SA: host 0 asks the path to host 1's GID.
    let gid1 = hosts[1].d.port_gid(1).unwrap();
    let h0 = &mut hosts[0];
    let path = h0.d.path_record(&mut h0.agent, &gid1).unwrap();
    assert_eq!(path.record.dlid, lids[1], "{backend}: {path:?}");
    assert_eq!(path.record.slid, lids[0]);
    assert_eq!(path.dgid, gid1);
    let mut unknown = gid1;
    unknown[15] ^= 0x55;
    assert!(
        h0.d.path_record(&mut h0.agent, &unknown).is_err(),
        "{backend}: no path to a GID nobody has"
    );

    // IPoIB's broadcast group: every host joins it.
    let bcast = ipoib_broadcast();
    let mut mlids = Vec::new();
    for h in hosts.iter_mut() {
        let g = h.d.mc_join(&mut h.agent, &bcast, IPOIB_QKEY).unwrap();
        assert_eq!(g.mgid, bcast);
        assert_eq!(g.record.qkey, IPOIB_QKEY, "{backend}: {g:?}");
        mlids.push(g.record.mlid);
    }
    assert!(mlids.iter().all(|m| *m == mlids[0] && *m >= 0xc000));
    {
        let fab = f.lock().unwrap();
        let groups = fab.subnet_manager().unwrap().sa.groups();
        let b = groups.iter().find(|g| g.0 == bcast).unwrap();
        assert_eq!(b.2, HOSTS, "{backend}: every host a member");
    }
    let h2 = &mut hosts[2];
    h2.d.mc_leave(&mut h2.agent, &bcast).unwrap();

    // A UD datagram from host 0 to host 1 at the LID the path gave.
    let mut qps = Vec::new();
    for h in hosts.iter_mut().take(2) {
        let pd = h.d.alloc_pd().unwrap();
        let b = h.d.memory().alloc(8192, 4096).unwrap();
        let mr =
            h.d.reg_mr(&pd, b.addr, 8192, b.addr, access::LOCAL_WRITE)
                .unwrap();
        let cq = h.d.create_cq(16, 0).unwrap();
        let qp =
            h.d.create_qp(
                &pd,
                &QpInit {
                    qp_type: QpType::Ud,
                    send_cq: cq,
                    recv_cq: cq,
                    srq: None,
                    max_send_wr: 4,
                    max_recv_wr: 4,
                    max_send_sge: 1,
                    max_recv_sge: 1,
                },
            )
            .unwrap();
        h.d.connect_qp(&qp, 1, IPOIB_QKEY, None, 0).unwrap();
        qps.push((pd, b, mr, cq, qp));
    }
    let (_, b1, mr1, cq1, qp1) = qps[1];
    hosts[1]
        .d
        .post_recv(
            &qp1,
            &[Sge {
                addr: b1.addr,
                len: 4096,
                lkey: mr1.lkey,
            }],
        )
        .unwrap();
    let (pd0, b0, mr0, _, qp0) = qps[0];
    let msg: Vec<u8> = (0..200u32).map(|i| (i * 13 + 5) as u8).collect();
    let h0 = &mut hosts[0];
    h0.d.memory().write(b0.addr, &msg).unwrap();
    let ah = h0.d.create_ah(&pd0, 1, path.record.dlid, 0).unwrap();
    h0.d.post_send(
        &qp0,
        &SendWr {
            opcode: hca_abi::wqe::opcode::SEND,
            sges: vec![Sge {
                addr: b0.addr,
                len: msg.len() as u32,
                lkey: mr0.lkey,
            }],
            signaled: false,
            solicited: false,
            imm: 0,
            remote: None,
            ud: Some(UdDest {
                ah,
                dqpn: qp1.qpn,
                qkey: IPOIB_QKEY,
            }),
            atomic: None,
        },
    )
    .unwrap();
    let mut got = Vec::new();
    for _ in 0..500 {
        hosts[0].d.service_interrupts();
        got.extend(hosts[1].d.poll_cq(&cq1, 4).unwrap());
        if !got.is_empty() {
            break;
        }
    }
    assert_eq!(got.len(), 1, "{backend}: the datagram arrived: {got:?}");
    assert_eq!((got[0].status, got[0].slid), (0, lids[0]));
    let mut back = vec![0u8; msg.len()];
    hosts[1].d.memory().read(b1.addr + 40, &mut back).unwrap();
    assert_eq!(back, msg);
    for h in hosts {
        let mut d = h.d;
        d.stop_mad_agent(h.agent).unwrap();
    }
}

hca_engines::on_every_backend! {
    fn the_subnet_manager_brings_every_port_up(backend: Backend) {
        brought_up(backend)
    }
}
