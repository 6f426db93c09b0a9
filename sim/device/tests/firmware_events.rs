//! The firmware's event path on every backend of the CQ/EQ engine, with
//! the project's driver brought up on it (its async EQ on vector 0 and a
//! completion EQ per vector, commands completed by event, as mlx4_core
//! after its NOP interrupt test): command completions land in the async
//! EQ as EQEs with mlx4's layout and owner bit, one interrupt per arming,
//! across the wrap of the EQ; a failing command completes by event with
//! its status; with the completion event unmapped it is lost and the trace
//! says so. An EQ and a CQ of the test's own (raw SW2HW_EQ and SW2HW_CQ
//! through the MTT) take completion events the way the transport engine
//! will post them: the EQ's interrupt once per arming, a doorbell that
//! only moves the consumer index leaving it disarmed; and the EQ and CQ
//! commands on bad input change nothing.

mod common;

use common::*;
use hca_driver::cmd::Mode;
use hca_driver::Error;
use hca_engines::blocks::cq;
use hca_engines::Backend;
use hca_firmware::blocks::cq::CqBackend as Engine;
use hca_firmware::opcode as op;
use hca_firmware::{Firmware, Status};
use hca_testbench::stream::Pacing;

/// An EQ and a CQ the driver does not use.
const RAW_EQ: u32 = 5;
const OTHER_EQ: u32 = 6;
const CQ: u32 = 1;
const CQ2: u32 = 2;
const VECTOR: u8 = 1;
const CMD_EVENT: u64 = 1 << 0x0a;

fn host(backend: Backend) -> Dev {
    let engine: Engine = cq::open(backend, None, Pacing::FULL_SPEED, 0).expect("CQ engine");
    up_on(Firmware::with_engine(engine))
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().unwrap())
}

/// Interrupts the driver took since the last call, by vector.
fn interrupts(d: &mut Dev) -> Vec<u64> {
    d.take_events().interrupts
}

/// One interrupt on vector `v`, none on the others.
fn one_on(d: &Dev, v: usize) -> Vec<u64> {
    let mut w = vec![0; d.vectors() as usize];
    w[v] = 1;
    w
}

/// Command completions by event on the driver's async EQ.
fn command_completions(d: &mut Dev) {
    assert_eq!(d.command_mode(), Mode::Events);
    let eq = d.eq_info()[0];
    assert_eq!(eq.vector, 0, "the async EQ is on vector 0");
    let n = eq.entries as u64;
    let at = |d: &mut Dev, k: u64| {
        let mut b = [0u8; 32];
        d.memory()
            .read(eq.buf.addr + 32 * (k % n), &mut b)
            .expect("host memory");
        b
    };
    let _ = interrupts(d);
    // Bring-up's commands by event took the first EQEs; every one past
    // them is still the hardware's.
    let start = eq.ci as u64;
    assert!(start < n);
    for k in start..n {
        assert_eq!(at(d, k)[31] & 0x80, 0x80, "EQE {k} not handed to hardware");
    }

    // NOPs by event, two passes and a half round the EQ from where
    // bring-up left it: the driver re-arms after every event, as
    // mlx4_eq_int does.
    let mut last_token: Option<u16> = None;
    for k in start..start + 2 * n + n / 2 {
        assert_eq!(status(d.cmd_none(op::NOP, 0, 0, 0x1f)), Status::Ok);
        let e = at(d, k);
        assert_eq!(e[1], 0x0a, "event type CMD");
        let token = u16::from_be_bytes([e[6], e[7]]);
        assert_ne!(token, 0, "tokens are never 0");
        if let Some(t) = last_token {
            assert_eq!(token, t.wrapping_add(1), "the token of the command posted");
        }
        last_token = Some(token);
        assert_eq!(e[0x0f], 0, "status OK");
        let owner = e[31] & 0x80 != 0;
        assert_eq!(
            owner,
            (k / n) % 2 == 1,
            "owner bit of EQE {k}: software owns it this pass"
        );
        assert_eq!(
            interrupts(d),
            one_on(d, 0),
            "one interrupt per armed event, none from the re-arming doorbell"
        );
        assert_eq!(d.eq_info()[0].ci as u64, k + 1, "the driver took EQE {k}");
    }
    assert_eq!(d.stale_command_events(), 0);

    // A failing command completes by event too, with its status.
    let k = d.eq_info()[0].ci as u64;
    let r = d.cmd_none(0x061, 0, 0, 0); // UPDATE_QP: Ethernet and SR-IOV only, not implemented
    assert_eq!(status(r), Status::BadOp);
    let e = at(d, k);
    assert_eq!((e[1], e[0x0f]), (0x0a, Status::BadOp.code()));
    assert_eq!(
        u16::from_be_bytes([e[6], e[7]]),
        last_token.unwrap().wrapping_add(1)
    );
    assert_eq!(interrupts(d), one_on(d, 0));

    // Unmapped: the completion has nowhere to go, the driver waits in
    // vain, and the trace says so. The routing is changed by polling,
    // as mlx4 does before it touches its EQs.
    let async_eqn = eq.eqn;
    d.use_polling();
    let _ = trace(d);
    assert_eq!(
        cmd(d, op::MAP_EQ, 0, CMD_EVENT, async_eqn | 1 << 31),
        Status::Ok
    );
    d.use_events().expect("events");
    let r = d.cmd_none(op::NOP, 0, 0, 0x1f);
    assert!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
    let t = trace(d);
    assert!(
        t[1].detail
            .as_deref()
            .unwrap_or("")
            .contains("completion event lost"),
        "{:?}",
        t[1]
    );
    // Mapped back, commands complete by event again.
    d.use_polling();
    assert_eq!(cmd(d, op::MAP_EQ, 0, CMD_EVENT, async_eqn), Status::Ok);
    d.use_events().expect("events");
    assert_eq!(status(d.cmd_none(op::NOP, 0, 0, 0x1f)), Status::Ok);
    assert_eq!(interrupts(d), one_on(d, 0));
}

/// An EQ and a CQ of the test's own: completions as the transport engine
/// will post them, interrupts taken straight from the firmware.
fn completion_events(d: &mut Dev, backend: Backend) {
    let log = 3;
    let (s, pages) = create_eq(d, RAW_EQ, log, VECTOR);
    assert_eq!(s, Status::Ok, "{backend}");
    // Every EQE starts the hardware's.
    for k in 0..8 {
        assert_eq!(
            entry(d, &pages, k)[31] & 0x80,
            0x80,
            "EQE {k} not handed to hardware"
        );
    }
    // A CQ on the EQ (the driver has created none): its CQEs handed to
    // hardware, its arm doorbell taken.
    let (s, cq_pages) = create_cq(d, CQ, 6, RAW_EQ as u8);
    assert_eq!(s, Status::Ok);
    for k in 0..64 {
        assert_eq!(
            entry(d, &cq_pages, k)[31] & 0x80,
            0x80,
            "CQE {k} not handed to hardware"
        );
    }
    let stray = fw(d).stray_uar_writes;
    cq_arm(d, CQ, 2, 0, 0);
    assert_eq!(
        fw(d).stray_uar_writes,
        stray,
        "the arm doorbell reached the engine"
    );
    assert!(fw(d).take_interrupts().is_empty(), "nothing to report yet");

    // Twenty completion events: two passes and a half round the 8-entry
    // EQ, the EQ re-armed after every event (mlx4_eq_int) and the CQ too
    // (req_notify_cq).
    for n in 0..20u64 {
        complete_into(d, CQ, 0x40, n as u16);
        let e = entry(d, &pages, n % 8);
        assert_eq!(e[1], 0x00, "event type COMP");
        assert_eq!(be32(&e[4..]) & 0xff_ffff, CQ, "the CQN");
        let owner = e[31] & 0x80 != 0;
        assert_eq!(
            owner,
            (n / 8) % 2 == 1,
            "owner bit of EQE {n}: software owns it this pass"
        );
        assert_eq!(
            fw(d).take_interrupts(),
            vec![VECTOR as u16],
            "one interrupt per armed event"
        );
        eq_doorbell(d, RAW_EQ, (n + 1) as u32, true);
        assert!(fw(d).take_interrupts().is_empty());
        cq_arm(d, CQ, 2, (n + 1) as u8, (n + 1) as u32);
        assert!(fw(d).take_interrupts().is_empty());
    }

    // An event fires the armed EQ once; a doorbell that only moves the
    // consumer index leaves it disarmed: the next event lands silently.
    complete_into(d, CQ, 0x40, 20);
    assert_eq!(fw(d).take_interrupts(), vec![VECTOR as u16]);
    eq_doorbell(d, RAW_EQ, 21, false);
    cq_arm(d, CQ, 2, 21, 21);
    complete_into(d, CQ, 0x40, 21);
    assert_eq!(be32(&entry(d, &pages, 21 % 8)[4..]) & 0xff_ffff, CQ);
    assert!(fw(d).take_interrupts().is_empty());
    // Armed with that EQE outstanding, the EQ interrupts at once.
    eq_doorbell(d, RAW_EQ, 21, true);
    assert_eq!(fw(d).take_interrupts(), vec![VECTOR as u16]);
    eq_doorbell(d, RAW_EQ, 22, true);

    // EQ commands on bad input change nothing.
    let past_eq = 1u32 << layout(d).log_num_eqs;
    let good_mtt = {
        let p = pages_of(d, 1);
        mtt_for(d, &p)
    };
    // MTT entries not present: allocated, never written.
    let absent = d.mtt_alloc(1).expect("MTT entries");
    let at = d.icm_addr("MTT", absent.first as u64).expect("MTT mapped");
    d.memory().write_u64(at, 0).expect("host memory");
    let before = fw(d).state_digest();
    assert_eq!(create_eq(d, RAW_EQ, 3, VECTOR).0, Status::BadResState);
    assert_eq!(create_eq(d, past_eq, 3, VECTOR).0, Status::BadIndex);
    let huge = hca_firmware::eq::EqContext {
        log_eq_size: 23,
        mtt_base_addr_l: good_mtt.offset() as u32,
        ..Default::default()
    };
    assert_eq!(
        cmd_in(d, op::SW2HW_EQ, 0, &huge.encode(), OTHER_EQ),
        Status::BadParam
    );
    assert_eq!(
        cmd(d, op::MAP_EQ, 0, CMD_EVENT, past_eq + 1),
        Status::BadIndex
    );
    assert_eq!(cmd(d, op::HW2SW_EQ, 1, 0, OTHER_EQ), Status::BadResState);
    // An EQ whose MTT entries are not present.
    let ctx = hca_firmware::eq::EqContext {
        log_eq_size: 3,
        mtt_base_addr_l: absent.offset() as u32,
        ..Default::default()
    };
    assert_eq!(
        cmd_in(d, op::SW2HW_EQ, 0, &ctx.encode(), OTHER_EQ),
        Status::BadParam
    );
    assert_eq!(fw(d).state_digest(), before);

    // CQ commands on bad input change nothing.
    let before = fw(d).state_digest();
    assert_eq!(create_cq(d, CQ, 4, RAW_EQ as u8).0, Status::BadResState);
    assert_eq!(
        create_cq(d, CQ2, 4, OTHER_EQ as u8).0,
        Status::BadParam,
        "EQ 6 is not the hardware's"
    );
    let huge = hca_firmware::cq::CqContext {
        log_size: 23,
        comp_eqn: RAW_EQ as u8,
        mtt_base_addr_l: good_mtt.offset() as u32,
        ..Default::default()
    };
    assert_eq!(
        cmd_in(d, op::SW2HW_CQ, 0, &huge.encode(), CQ2),
        Status::BadParam
    );
    let past = 1u32 << layout(d).log_num_cqs;
    assert_eq!(create_cq(d, past, 4, RAW_EQ as u8).0, Status::BadIndex);
    assert_eq!(
        cmd(d, op::HW2SW_CQ, 0, 0, CQ),
        Status::BadOp,
        "mlx4 never asks for the context"
    );
    assert_eq!(cmd(d, op::HW2SW_CQ, 1, 0, CQ2), Status::BadResState);
    assert_eq!(fw(d).state_digest(), before);
    assert_eq!(cmd(d, op::HW2SW_CQ, 1, 0, CQ), Status::Ok);
    assert_eq!(cmd(d, op::HW2SW_EQ, 1, 0, RAW_EQ), Status::Ok);
}

fn events_and_completions(backend: Backend) {
    let mut d = host(backend);
    assert_eq!(fw(&mut d).engine().0, backend.name());
    command_completions(&mut d);
    completion_events(&mut d, backend);
    // And the driver takes everything down: its EQs, CLOSE_HCA, ICM.
    assert_eq!(d.tear_down(), Ok(()), "{backend}");
    assert!(fw(&mut d).layout().is_none());
}

hca_engines::on_every_backend! {
    fn cq_eq_engine(backend: Backend) {
        events_and_completions(backend)
    }
}
