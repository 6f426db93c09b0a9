//! The firmware's event path on every backend of the CQ/EQ engine: EQs
//! and CQs created through the MTT, MAP_EQ, and commands completed by event (the
//! NOP interrupt test mlx4_core runs): an EQE with mlx4's layout and owner
//! bit lands in host memory and the EQ's MSI-X vector is raised, once per
//! arming, across the wrap of the EQ.

use hca_engines::blocks::cq;
use hca_engines::Backend;
use hca_firmware::blocks::cq::CqBackend as Engine;
use hca_firmware::host::Host;
use hca_firmware::opcode as op;
use hca_firmware::{Command, Firmware, Status};
use hca_testbench::stream::Pacing;

const ASYNC_EQ: u32 = 5;
const VECTOR: u8 = 1;
const CMD_EVENT: u64 = 1 << 0x0a;

fn host(backend: Backend) -> Host {
    let engine: Engine = cq::open(backend, None, Pacing::FULL_SPEED, 0).expect("CQ engine");
    let mut h = Host::new(Firmware::with_engine(engine));
    h.bring_up();
    h
}

fn nop_by_event(h: &mut Host, token: u16) -> Status {
    h.post(Command {
        opcode: op::NOP,
        in_modifier: 0x1f,
        token,
        event: true,
        ..Default::default()
    })
    .status
}

fn events_and_completions(backend: Backend) {
    let mut h = host(backend);
    assert_eq!(h.fw.engine().0, backend.name());
    let log = 3;
    let (s, pages) = h.create_eq(ASYNC_EQ, log, VECTOR, 16);
    assert_eq!(s, Status::Ok);
    // Every EQE starts the hardware's.
    for k in 0..8 {
        assert_eq!(
            h.eqe(&pages, k)[31] & 0x80,
            0x80,
            "EQE {k} not handed to hardware"
        );
    }
    assert_eq!(h.cmd(op::MAP_EQ, 0, CMD_EVENT, ASYNC_EQ), Status::Ok);
    let _ = h.fw.take_interrupts();

    // Twenty NOPs by event: two passes and a half round the 8-entry EQ,
    // the driver re-arming after every event, as mlx4_eq_int does.
    for n in 0..20u64 {
        let token = 0x100 + n as u16;
        assert_eq!(nop_by_event(&mut h, token), Status::Ok);
        let e = h.eqe(&pages, n % 8);
        assert_eq!(e[1], 0x0a, "event type CMD");
        assert_eq!(u16::from_be_bytes([e[6], e[7]]), token, "token");
        assert_eq!(e[0x0f], 0, "status OK");
        let owner = e[31] & 0x80 != 0;
        assert_eq!(
            owner,
            (n / 8) % 2 == 1,
            "owner bit of EQE {n}: software owns it this pass"
        );
        assert_eq!(
            h.fw.take_interrupts(),
            vec![VECTOR as u16],
            "one interrupt per armed event"
        );
        h.eq_doorbell(ASYNC_EQ, (n + 1) as u32, true);
        assert!(h.fw.take_interrupts().is_empty());
    }

    // An event fires the armed EQ once; a doorbell that only moves the
    // consumer index leaves it disarmed: the next event lands silently.
    assert_eq!(nop_by_event(&mut h, 6), Status::Ok);
    assert_eq!(h.fw.take_interrupts(), vec![VECTOR as u16]);
    h.eq_doorbell(ASYNC_EQ, 21, false);
    assert_eq!(nop_by_event(&mut h, 7), Status::Ok);
    assert_eq!(
        u16::from_be_bytes([h.eqe(&pages, 21 % 8)[6], h.eqe(&pages, 21 % 8)[7]]),
        7
    );
    assert!(h.fw.take_interrupts().is_empty());
    // A failing command completes by event too, with its status.
    h.eq_doorbell(ASYNC_EQ, 22, true);
    let c = Command {
        opcode: 0x061, // UPDATE_QP: Ethernet and SR-IOV only, not implemented
        token: 9,
        event: true,
        ..Default::default()
    };
    assert_eq!(h.post(c).status, Status::BadOp);
    let e = h.eqe(&pages, 22 % 8);
    assert_eq!((e[1], e[0x0f]), (0x0a, Status::BadOp.code()));
    assert_eq!(h.fw.take_interrupts(), vec![VECTOR as u16]);

    // Unmapped: the completion has nowhere to go, and the trace says so.
    let _ = h.fw.take_trace();
    assert_eq!(
        h.cmd(op::MAP_EQ, 0, CMD_EVENT, ASYNC_EQ | 1 << 31),
        Status::Ok
    );
    assert_eq!(nop_by_event(&mut h, 8), Status::Ok);
    let t = h.fw.take_trace();
    assert!(
        t[1].detail
            .as_deref()
            .unwrap_or("")
            .contains("completion event lost"),
        "{:?}",
        t[1]
    );

    // EQ commands on bad input change nothing.
    let before = h.fw.state_digest();
    assert_eq!(h.create_eq(ASYNC_EQ, 3, VECTOR, 32).0, Status::BadResState);
    assert_eq!(h.create_eq(8, 3, VECTOR, 32).0, Status::BadIndex);
    let huge = hca_firmware::eq::EqContext {
        log_eq_size: 23,
        mtt_base_addr_l: 8 * 16,
        ..Default::default()
    };
    assert_eq!(
        h.cmd_in(op::SW2HW_EQ, 0, &huge.encode(), 6),
        Status::BadParam
    );
    assert_eq!(h.cmd(op::MAP_EQ, 0, CMD_EVENT, 9), Status::BadIndex);
    assert_eq!(h.cmd(op::HW2SW_EQ, 1, 0, 6), Status::BadResState);
    // An EQ whose MTT entries are not present.
    let ctx = hca_firmware::eq::EqContext {
        log_eq_size: 3,
        mtt_base_addr_l: 8 * 200,
        ..Default::default()
    };
    assert_eq!(
        h.cmd_in(op::SW2HW_EQ, 0, &ctx.encode(), 6),
        Status::BadParam
    );
    assert_eq!(h.fw.state_digest(), before);

    // A CQ on the EQ: its CQEs handed to hardware, its arm doorbell taken.
    let (s, cq_pages) = h.create_cq(1, 4, ASYNC_EQ as u8, 64);
    assert_eq!(s, Status::Ok);
    for k in 0..16 {
        assert_eq!(
            h.eqe(&cq_pages, k)[31] & 0x80,
            0x80,
            "CQE {k} not handed to hardware"
        );
    }
    let stray = h.fw.stray_uar_writes;
    h.cq_arm(1, 2, 0, 0);
    assert_eq!(
        h.fw.stray_uar_writes, stray,
        "the arm doorbell reached the engine"
    );
    assert!(h.fw.take_interrupts().is_empty(), "nothing to report yet");
    let before = h.fw.state_digest();
    assert_eq!(h.create_cq(1, 4, ASYNC_EQ as u8, 80).0, Status::BadResState);
    assert_eq!(
        h.create_cq(2, 4, 6, 80).0,
        Status::BadParam,
        "EQ 6 is not the hardware's"
    );
    let huge = hca_firmware::cq::CqContext {
        log_size: 23,
        comp_eqn: ASYNC_EQ as u8,
        mtt_base_addr_l: 8 * 80,
        ..Default::default()
    };
    assert_eq!(
        h.cmd_in(op::SW2HW_CQ, 0, &huge.encode(), 2),
        Status::BadParam
    );
    let past = 1u32 << Host::init_hca_params().log_num_cqs;
    assert_eq!(h.create_cq(past, 4, ASYNC_EQ as u8, 80).0, Status::BadIndex);
    assert_eq!(
        h.cmd(op::HW2SW_CQ, 0, 0, 1),
        Status::BadOp,
        "mlx4 never asks for the context"
    );
    assert_eq!(h.cmd(op::HW2SW_CQ, 1, 0, 2), Status::BadResState);
    assert_eq!(h.fw.state_digest(), before);
    assert_eq!(h.cmd(op::HW2SW_CQ, 1, 0, 1), Status::Ok);

    assert_eq!(h.cmd(op::HW2SW_EQ, 1, 0, ASYNC_EQ), Status::Ok);
    assert_eq!(h.cmd(op::CLOSE_HCA, 0, 0, 0), Status::Ok);
}

hca_engines::on_every_backend! {
    fn cq_eq_engine(backend: Backend) {
        events_and_completions(backend)
    }
}
