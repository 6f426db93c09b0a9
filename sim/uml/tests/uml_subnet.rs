//! Two UML kernels, each running the upstream mlx4_core and mlx4_ib
//! against an HCA of its own, share one simulated fabric, on every
//! backend. The fabric's subnet manager brings both ports up over the
//! wire through Linux's own MAD path (ib_mad, mlx4_ib's MAD_IFC to the
//! firmware's SMA): each kernel's sysfs shows its port ACTIVE, LinkUp,
//! with a LID of its own, the one the SM gave that port, and the SM's LID
//! as its SM LID. No kernel message of warning severity or worse names
//! mlx4 or the InfiniBand core, every command the drivers posted
//! completed OK, the device took everything the kernels sent, and the
//! capture of the subnet's bring-up decodes in tshark with no malformed
//! field or bad CRC. Nothing is left running or on disk.

mod common;

use common::{kernel, left_nothing, ONE};
use hca_engines::Backend;
use hca_fabric::sm::SM_LID;
use hca_fabric::Phase;
use hca_firmware::Status;
use hca_uml::{self as uml, guest, GuestPort, Options};
use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

const HOSTS: usize = 2;

fn two_hosts_come_active(engine: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("subnet.pcap");
    let k = kernel();
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let run = uml::run(
        &k,
        &Options {
            engine,
            hosts: HOSTS,
            guest_script: Some(guest::wait_for_active(30)),
            pcap: Some(pcap.clone()),
            timeout: Duration::from_secs(150),
            ..Default::default()
        },
        Arc::new(AtomicBool::new(false)),
        &mut |_, _| {},
    )
    .expect("running UML");
    assert_eq!(run.hosts.len(), HOSTS);
    let mut lids = BTreeSet::new();
    for (h, r) in run.hosts.iter().enumerate() {
        let dump = || format!("host {h}'s kernel log:\n{}\n", r.kernel_log.join("\n"));
        assert!(!r.timed_out, "host {h} timed out\n{}", dump());
        assert!(
            r.uml_exit.contains("exit status: 0"),
            "host {h}: UML {}\n{}",
            r.uml_exit,
            dump()
        );
        let port = GuestPort::from_log(&r.kernel_log)
            .unwrap_or_else(|| panic!("host {h} reported no port\n{}", dump()));
        assert!(port.active(), "host {h}: port {port:?}\n{}", dump());
        assert_eq!(port.phys_state, "5: LinkUp", "host {h}");
        assert_eq!(port.sm_lid, Some(SM_LID), "host {h}: SM LID");
        let lid = port.lid.expect("a LID");
        assert!(
            (1..0xc000).contains(&lid) && lid != SM_LID,
            "host {h}: LID {lid:#x} is no unicast LID of its own"
        );
        // The LID the SM gave the switch port the host hangs on.
        assert_eq!(
            run.sm_ports[h + 1].1,
            lid,
            "host {h}: the kernel's LID is not the SM's"
        );
        lids.insert(lid);

        let severe: Vec<_> = guest::severe_messages(&r.kernel_log)
            .into_iter()
            .filter(|(_, m)| {
                let m = m.to_lowercase();
                m.contains("mlx4") || m.contains("ib_") || m.contains("infiniband")
            })
            .collect();
        assert!(
            severe.is_empty(),
            "host {h}: kernel messages of warning severity or worse: {severe:?}"
        );
        let refused: Vec<_> = r
            .commands()
            .filter(|c| c.status != Status::Ok)
            .map(|c| c.line())
            .collect();
        assert!(refused.is_empty(), "host {h}: {refused:?}");
        assert_eq!(r.pci_stats.malformed, 0, "host {h}: device warnings");
        assert!(
            r.transport.get("mlx_smp_sent") >= 4,
            "host {h}: the agent answered too few SMPs: {:?}",
            r.transport.events
        );
        left_nothing(r);
    }
    assert_eq!(lids.len(), HOSTS, "the LIDs are not distinct: {lids:?}");
    assert!(
        run.sm_ports[1..].iter().all(|(p, _)| *p == Phase::Down),
        "every port's link went down when its kernel powered off: {:?}",
        run.sm_ports
    );
    assert_eq!(run.fabric.sm.get("sm_port_active"), Some(&(HOSTS as u64)));

    let (path, n) = run.pcap.clone().expect("a capture");
    assert_eq!(path, pcap);
    assert!(n > 0);
    assert_eq!(hca_fabric::capture::tshark_check(&pcap), Ok(n as usize));
}

hca_engines::on_every_backend! {
    fn two_kernels_share_a_subnet(backend: Backend) {
        two_hosts_come_active(backend)
    }
}
