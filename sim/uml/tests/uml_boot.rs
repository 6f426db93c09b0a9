//! The upstream Linux mlx4 driver, in User-Mode Linux, against the
//! simulated HCA, with the CQ/EQ engine on every backend: from the kernel
//! log and the device's command trace, mlx4_core read the project's
//! firmware version and capabilities, mapped its firmware area and ICM,
//! completed INIT_HCA and QUERY_ADAPTER, enabled MSI-X, passed its NOP
//! interrupt test and finished its probe (SET_PORT taken); ib_mad
//! brought QP0 and QP1 to RTS on the QPC block; the
//! first command it could not complete is the one docs/uml.md names (none
//! today); and nothing is left running or on disk.
//!
//! The kernel is built by scripts/build-uml-kernel.sh (cached outside the
//! clone; scripts/test.sh builds it before the tests run).

use hca_device::DeviceEvent;
use hca_engines::Backend;
use hca_firmware::opcode as op;
use hca_firmware::Status;
use hca_firmware::{caps, fw};

mod common;

use common::{kernel, left_nothing, repo, ONE};
use hca_uml::{self as uml, Options, Report};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// The command docs/uml.md says the driver stops at, and the refusals
/// before it that are part of the protocol (`NAME/STATUS`).
fn documented_stop() -> (String, Vec<String>) {
    let doc = std::fs::read_to_string(repo().join("docs/uml.md")).expect("docs/uml.md");
    let marker = |tag: &str| -> Option<String> {
        let at = doc.find(tag)? + tag.len();
        Some(doc[at..].split("-->").next().unwrap().trim().to_string())
    };
    let stop = marker("<!-- first-refused: ").expect("docs/uml.md names the first refused command");
    let expected = marker("<!-- expected-refusals: ")
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    (stop, expected)
}

fn boot(opts: Options) -> Report {
    let k = kernel();
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let mut run =
        uml::run(&k, &opts, Arc::new(AtomicBool::new(false)), &mut |_, _| {}).expect("running UML");
    run.hosts.remove(0)
}

fn has(log: &[String], what: &str) -> bool {
    log.iter().any(|l| l.contains(what))
}

fn boot_and_check(engine: Backend) {
    let r = boot(Options {
        engine,
        ..Default::default()
    });
    let log = &r.kernel_log;
    let dump = || format!("kernel log:\n{}\n", log.join("\n"));
    assert!(!r.timed_out, "UML timed out\n{}", dump());
    assert!(
        r.uml_exit.contains("exit status: 0"),
        "UML: {}\n{}",
        r.uml_exit,
        dump()
    );
    assert_eq!(r.device_end, "UML closed the connection");

    // The firmware version and capabilities, as the driver printed them.
    let version = format!(
        "FW version {}.{}.{:03} (cmd intf rev {})",
        fw::FW_MAJOR,
        fw::FW_MINOR,
        fw::FW_SUBMINOR,
        fw::CMD_IF_REV
    );
    assert!(has(log, &version), "no `{version}`\n{}", dump());
    let c = caps::device_caps();
    let qps = format!(
        "Max QPs: {}, reserved QPs: {}",
        1u64 << c.log_max_qps,
        1u64 << c.log_rsvd_qps
    );
    assert!(has(log, &qps), "no `{qps}`\n{}", dump());
    assert!(has(log, "Atomic ops support"), "{}", dump());
    assert!(has(log, "for FW"), "no firmware area mapped\n{}", dump());
    assert!(has(log, "for ICM aux"), "{}", dump());
    assert!(has(log, "NOP command IRQ test passed"), "{}", dump());
    assert!(
        !has(log, "virt-pci delay"),
        "an MMIO read went unanswered\n{}",
        dump()
    );
    assert!(
        !has(log, "mlx4_core: probe of"),
        "mlx4_core's probe failed\n{}",
        dump()
    );
    assert!(
        has(log, "mlx4_ib_add"),
        "mlx4_ib never saw the device\n{}",
        dump()
    );

    // The device's side.
    let cmds: Vec<_> = r.commands().collect();
    let ok = |o: u16| cmds.iter().any(|c| c.opcode == o && c.status == Status::Ok);
    for o in [
        op::QUERY_FW,
        op::MAP_FA,
        op::RUN_FW,
        op::QUERY_DEV_CAP,
        op::QUERY_PORT,
        op::SET_ICM_SIZE,
        op::MAP_ICM_AUX,
        op::MAP_ICM,
        op::INIT_HCA,
        op::QUERY_ADAPTER,
        op::SW2HW_EQ,
        op::MAP_EQ,
        op::CONF_SPECIAL_QP,
        op::SET_PORT,
        op::MAD_IFC,
        op::DIAG_RPRT,
        op::SW2HW_MPT,
        op::HW2SW_MPT,
        op::SW2HW_CQ,
        op::HW2SW_CQ,
        op::RST2INIT_QP,
        op::INIT2RTR_QP,
        op::INIT_PORT,
        op::RTR2RTS_QP,
        op::TO_RST_QP,
        op::CLOSE_PORT,
        op::CLOSE_HCA,
        op::UNMAP_FA,
    ] {
        assert!(ok(o), "{} never completed OK", op::name(o));
    }
    assert!(
        cmds.iter().any(|c| c.opcode == op::NOP
            && c.event
            && c.status == Status::Ok
            && c.detail.is_none()),
        "no NOP completed by event"
    );
    assert!(
        r.events
            .iter()
            .any(|e| matches!(e, DeviceEvent::Config(s) if s == "MSI-X enabled")),
        "MSI-X never enabled"
    );
    assert!(
        r.events.iter().any(|e| matches!(e, DeviceEvent::Msi(_))),
        "no MSI-X interrupt sent"
    );
    let warnings: Vec<_> = r
        .events
        .iter()
        .filter_map(|e| match e {
            DeviceEvent::Warning(w) => Some(w),
            _ => None,
        })
        .collect();
    assert!(
        warnings.is_empty(),
        "the kernel sent what the device could not take: {warnings:?}"
    );
    // ib_mad brings QP0 and QP1 of port 1 to RTS (the special QPs at the
    // base CONF_SPECIAL_QP gave: QP0 of port 1 there, QP1 two above).
    let base = cmds
        .iter()
        .find(|c| c.opcode == op::CONF_SPECIAL_QP && c.status == Status::Ok)
        .map(|c| c.in_modifier)
        .expect("CONF_SPECIAL_QP");
    for qpn in [base, base + 2] {
        assert!(
            cmds.iter().any(|c| c.opcode == op::RTR2RTS_QP
                && c.in_modifier & 0xff_ffff == qpn
                && c.status == Status::Ok),
            "QP {qpn:#x} never reached RTS"
        );
    }
    for failure in [
        "Couldn't change QP",
        "Couldn't start port",
        "Couldn't open port",
    ] {
        assert!(!has(log, failure), "ib_mad: `{failure}`\n{}", dump());
    }
    let (stop, expected) = documented_stop();
    let first = cmds
        .iter()
        .find(|c| {
            c.status != Status::Ok && !expected.contains(&format!("{}/{}", c.name, c.status.name()))
        })
        .map(|c| c.name);
    let documented = (stop != "none").then_some(stop.as_str());
    assert_eq!(first, documented, "first command not completed");

    left_nothing(&r);
}

#[test]
fn interrupted_mid_probe_leaves_nothing_behind() {
    // What Ctrl-C does to `hca uml`: the stop flag, set here the moment the
    // driver's INIT_HCA completes, in the middle of the probe.
    let k = kernel();
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let opts = Options {
        engine: Backend::Model,
        ..Default::default()
    };
    let mut run = uml::run(&k, &opts, stop, &mut |_, l| {
        if let uml::Line::Device(DeviceEvent::Command(c)) = l {
            if c.opcode == op::INIT_HCA {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
    })
    .expect("running UML");
    let r = run.hosts.remove(0);
    assert!(r.interrupted);
    assert!(r.uml_exit.contains("interrupted"), "{}", r.uml_exit);
    assert!(
        !r.commands().any(|c| c.opcode == op::CLOSE_HCA),
        "UML was stopped before the driver finished"
    );
    left_nothing(&r);
}

hca_engines::on_every_backend! {
    fn mlx4_bring_up(backend: Backend) {
        boot_and_check(backend)
    }
}
