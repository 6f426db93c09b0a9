//! 100,000 random HCR posts through the project's driver (random opcodes,
//! modifiers, parameters and mailbox contents; some on a fresh device,
//! polled, some after the driver's real bring-up, polled or completed by
//! event on its own EQs; stray doorbells and register writes between):
//! every one is answered (a busy HCR or a command that never completes
//! fails the test), the status is one of mlx4's, the firmware's trace has
//! exactly the one record with that status, and nothing panics. On every
//! backend of the blocks the firmware drives (the CQ/EQ engine, the TPT
//! and the QPC), where no command may run into a block's cycle bound.
//!
//! The random stream may take the driver's event path away (CLOSE_HCA,
//! HW2SW_EQ or MAP_EQ on its EQs, UNMAP_ICM of the EQC or MTT pages,
//! WRITE_MTT over its EQs' entries): such a command is posted by polling,
//! as mlx4 touches its EQs, and the driver goes back to events only if the
//! device refused it (a refusal changes nothing). The driver's own EQ
//! doorbells get stray writes only while it polls. Random addresses in
//! host memory fall in a range of the driver's memory kept for them.
//!
//! Replay a failure with the `HCA_SEED` it prints; `HCA_FUZZ_POSTS` sets
//! the number of posts.

mod common;

use common::*;
use hca_device::PciFunction as _;
use hca_driver::cmd::Cmd;
use hca_driver::Error;
use hca_engines::blocks::{cq, qpc, tpt};
use hca_engines::Backend;
use hca_firmware::bar0;
use hca_firmware::cmd::commands;
use hca_firmware::icm::ICM_PAGE;
use hca_firmware::opcode::{self as op, OPCODES};
use hca_firmware::{Engines, Firmware, Status};
use hca_testbench::stream::Pacing;
use hca_testbench::Seed;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The ICM addresses the map mailboxes name.
const ICM_SIZE: u64 = 1 << 32;
/// Host memory the random parameters point into: a range of the driver's
/// DMA memory of the fuzz's own, so that no random post writes over what
/// the driver keeps there (its EQs, its mailboxes, ICM).
const SCRATCH: u64 = 8 << 20;

/// Opcodes that may take the driver's event path away whenever they
/// succeed.
const EVENT_PATH: [u16; 4] = [
    op::CLOSE_HCA,
    op::UNMAP_ICM_AUX,
    op::UNMAP_FA,
    op::WRITE_MTT,
];

/// Whether `c` may take the driver's event path away if it succeeds.
fn touches_event_path(d: &Dev, c: &Cmd) -> bool {
    let eqs: Vec<u32> = d.eq_info().iter().map(|e| e.eqn).collect();
    let lowest = eqs.iter().copied().min().unwrap_or(0);
    match c.opcode & 0xfff {
        o if EVENT_PATH.contains(&o) => true,
        // One of the driver's EQs destroyed.
        op::HW2SW_EQ => eqs.contains(&c.in_modifier),
        // One of its EQs remapped, or events given to an EQ below its async
        // EQ (an event goes to the lowest-numbered EQ taking it).
        op::MAP_EQ => {
            let n = c.in_modifier & 0x3ff;
            eqs.contains(&n) || n < lowest
        }
        op::UNMAP_ICM => unmaps_event_path(d, c),
        _ => false,
    }
}

/// Whether UNMAP_ICM's pages (`in_modifier` of them from `in_param`)
/// reach the EQ contexts or the MTT the driver's EQs are found through.
fn unmaps_event_path(d: &Dev, c: &Cmd) -> bool {
    let Some(l) = d.init_hca() else { return false };
    let caps = hca_firmware::caps::device_caps();
    let eqc = (caps.eqc_entry_sz as u64) << l.log_num_eqs;
    let mtt = (caps.mtt_entry_sz as u64) << hca_driver::Profile::default().log_num_mtts;
    let end = c.in_param.saturating_add((c.in_modifier as u64) << 12);
    [(l.eqc_base, eqc), (l.mtt_base, mtt)]
        .iter()
        .any(|&(base, len)| c.in_param < base + len.max(ICM_PAGE) && base < end)
}

fn posts() -> u64 {
    std::env::var("HCA_FUZZ_POSTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
}

/// Where random parameters point: the fuzz's scratch memory.
#[derive(Clone, Copy)]
struct Scratch {
    base: u64,
    inbox: u64,
    outbox: u64,
}

impl Scratch {
    fn new(d: &mut Dev) -> Scratch {
        let base = alloc(d, SCRATCH, ICM_PAGE);
        Scratch {
            base,
            inbox: base,
            outbox: base + ICM_PAGE,
        }
    }
}

fn address(rng: &mut ChaCha8Rng, s: Scratch, mailbox: u64) -> u64 {
    match rng.gen_range(0..100) {
        0..=49 => mailbox,
        50..=69 => rng.gen(),
        70..=84 => s.base + rng.gen_range(0..SCRATCH),
        _ => OUTSIDE + rng.gen_range(0..1u64 << 32),
    }
}

/// Mailbox contents: random bytes, zeros, or map entries that are nearly
/// right (page-aligned host pages, small chunks, ICM addresses in range).
fn mailbox(rng: &mut ChaCha8Rng, s: Scratch) -> Vec<u8> {
    let mut b = vec![0u8; 4096];
    match rng.gen_range(0..10) {
        0..=2 => rng.fill(&mut b[..]),
        3..=6 => {
            for e in b.chunks_exact_mut(16) {
                let lg = rng.gen_range(0..4u64);
                let virt = rng.gen_range(0..ICM_SIZE / ICM_PAGE) * ICM_PAGE;
                let pa = s.base + rng.gen_range(0..SCRATCH / ICM_PAGE) * ICM_PAGE;
                e[..8].copy_from_slice(&virt.to_be_bytes());
                e[8..].copy_from_slice(&(pa | lg).to_be_bytes());
            }
        }
        _ => {}
    }
    b
}

fn modifier(rng: &mut ChaCha8Rng) -> u32 {
    match rng.gen_range(0..10) {
        0..=3 => rng.gen_range(0..8),
        4..=5 => rng.gen_range(1..=256),
        6 => rng.gen_range(0..4) << 8,
        7 => rng.gen::<u32>() | 1 << 31,
        _ => rng.gen(),
    }
}

/// The driver on a fresh device whose blocks run on `backend`.
fn fresh(backend: Backend, seed: u64) -> Dev {
    driver_on(Firmware::with_engines(Engines {
        cq: cq::open(backend, None, Pacing::FULL_SPEED, seed).expect("CQ/EQ engine"),
        tpt: tpt::open(backend, None, Pacing::RANDOM, seed).expect("TPT"),
        qpc: qpc::open(backend, None, Pacing::RANDOM, seed).expect("QPC"),
    }))
}

hca_engines::on_every_backend! {
    fn every_random_post_is_answered_with_a_status(backend: Backend) {
        // The same posts on the model engines and on `backend`: every
        // status equal, post by post (the firmware and the driver are
        // deterministic and the blocks are held equal to their models).
        let seed = Seed::from_env();
        println!("seed {seed}; replay with {}", seed.replay_hint());
        let got = fuzz(backend, seed);
        if backend != Backend::Model {
            let want = fuzz(Backend::Model, seed);
            assert_eq!(got.len(), want.len());
            if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
                panic!(
                    "post {i} on {backend}: {:?}, on the model {:?} (seed {seed})",
                    got[i], want[i]
                );
            }
        }
    }
}

/// Whether a write of `len` bytes at `off` in BAR2 reaches one of the
/// driver's EQ doorbells.
fn on_driver_eq(d: &Dev, off: u64, len: u64) -> bool {
    d.eq_info().iter().any(|e| {
        let at = eq_doorbell_offset(e.eqn);
        off < at + 4 && at < off + len
    })
}

/// Every post's opcode and status, in order.
fn fuzz(backend: Backend, seed: Seed) -> Vec<(u16, Status)> {
    let mut rng = seed.rng("hcr-fuzz");
    let implemented: Vec<u16> = commands().map(|c| c.opcode).collect();
    let total = posts();
    let mut done = 0u64;
    let mut statuses = Vec::new();
    let (mut ok, mut by_event) = (0u64, 0u64);
    let mut epochs = 0u64;
    while done < total {
        epochs += 1;
        let mut d = fresh(backend, seed.0 ^ epochs);
        // Whether the driver completes commands by event.
        let mut events = false;
        if rng.gen_bool(0.5) {
            d.bring_up()
                .unwrap_or_else(|e| panic!("seed {seed}: bring-up on {backend}: {e}"));
            if rng.gen_bool(0.3) {
                d.use_polling();
            } else {
                events = true;
            }
            if rng.gen_bool(0.5) {
                let _ = create_eq(
                    &mut d,
                    rng.gen_range(0..8),
                    rng.gen_range(1..6),
                    rng.gen_range(0..4),
                );
            }
        }
        let mut s = Scratch::new(&mut d);
        let _ = trace(&mut d);
        let epoch = rng.gen_range(50..2000).min(total - done);
        for _ in 0..epoch {
            let opcode = match rng.gen_range(0..10) {
                0..=5 => implemented[rng.gen_range(0..implemented.len())],
                6..=7 => OPCODES[rng.gen_range(0..OPCODES.len())].0,
                _ => rng.gen_range(0..0x1000),
            };
            let mbox = mailbox(&mut rng, s);
            d.memory().write(s.inbox, &mbox).expect("scratch memory");
            let c = Cmd {
                opcode,
                op_modifier: if rng.gen_bool(0.7) {
                    0
                } else {
                    rng.gen_range(0..16)
                },
                in_param: if opcode == op::SET_ICM_SIZE && rng.gen_bool(0.5) {
                    rng.gen_range(0..1u64 << 40)
                } else {
                    address(&mut rng, s, s.inbox)
                },
                in_modifier: modifier(&mut rng),
                out_param: address(&mut rng, s, s.outbox),
            };
            assert!(trace(&mut d).is_empty());
            let polled = events && touches_event_path(&d, &c);
            if polled {
                d.use_polling();
            }
            let (status, code) = match d.cmd(c) {
                Ok(_) => (Status::Ok, 0),
                Err(Error::Command { status, code, .. }) => (status, code),
                Err(e) => panic!(
                    "seed {seed}: {c:?} on {backend} ({}): {e}",
                    if events && !polled {
                        "by event"
                    } else {
                        "polled"
                    }
                ),
            };
            assert!(
                Status::from_code(code).is_some(),
                "seed {seed}: {c:?} answered with status {code:#x}"
            );
            let t = trace(&mut d);
            assert_eq!(
                t.len(),
                1,
                "seed {seed}: {c:?} left {} trace records",
                t.len()
            );
            assert_eq!(t[0].status, status);
            assert_eq!(t[0].event, events && !polled, "seed {seed}: {c:?}");
            // A block that overran its cycle bound is an INTERNAL_ERR whose
            // reason says so: none may.
            let detail = t[0].detail.as_deref().unwrap_or("");
            assert!(
                !(status == Status::InternalErr && detail.contains("its bound is")),
                "seed {seed}: {c:?} on {backend}: {detail}"
            );
            by_event += t[0].event as u64;
            if polled {
                if status == Status::Ok {
                    events = false;
                } else {
                    d.use_events().expect("the driver's EQs");
                }
            }
            ok += (status == Status::Ok) as u64;
            statuses.push((opcode, status));
            // Stray traffic between commands: doorbells through the PCI
            // function, BAR0 registers into the firmware.
            match rng.gen_range(0..100) {
                0..=4 => {
                    let eqn = rng.gen_range(0..12u32);
                    let (ci, arm): (u32, bool) = (rng.gen(), rng.gen());
                    let off = eq_doorbell_offset(eqn);
                    if !(events && on_driver_eq(&d, off, 4)) {
                        let v = (ci & 0xff_ffff) | (arm as u32) << 31;
                        let (pci, mem) = d.pci_and_memory();
                        pci.mmio_write(2, off, &v.to_be_bytes(), mem.host());
                    }
                }
                5..=6 => {
                    let off = rng.gen_range(0..bar0::BAR2_SIZE) & !3;
                    let v: u32 = rng.gen();
                    if !(events && on_driver_eq(&d, off, 4)) {
                        let (pci, mem) = d.pci_and_memory();
                        pci.mmio_write(2, off, &v.to_be_bytes(), mem.host());
                    }
                }
                7 => {
                    // Any BAR0 register but the HCR, which the driver drives.
                    let off = rng.gen_range(0..bar0::BAR0_SIZE) & !3;
                    let v: u32 = rng.gen();
                    if !(bar0::HCR_BASE..bar0::HCR_BASE + 28).contains(&off) {
                        with_fw(&mut d, |f, mem| f.mmio_write(off, &v.to_be_bytes(), mem));
                        if off == bar0::RESET {
                            d = fresh(backend, seed.0 ^ epochs);
                            s = Scratch::new(&mut d);
                            events = false;
                        }
                    }
                }
                _ => {}
            }
            if events {
                d.service_interrupts();
            } else {
                let _ = d.pci().take_msis();
            }
            let _ = trace(&mut d);
            done += 1;
        }
    }
    println!("{backend}: {done} posts in {epochs} epochs, {ok} answered OK, {by_event} by event");
    assert!(
        ok > 0,
        "seed {seed}: no post succeeded: the fuzz drives nothing"
    );
    assert!(
        by_event > 0,
        "seed {seed}: no post completed by event: the fuzz misses the event path"
    );
    statuses
}
