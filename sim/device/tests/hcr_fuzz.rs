//! 100,000 random HCR posts (random opcodes, modifiers, parameters and
//! mailbox contents, some after a real bring-up, with stray doorbells and
//! register writes between): every one is answered, GO clears, the toggle
//! is echoed, the status is one of mlx4's, and nothing panics. On every
//! backend of the blocks the firmware drives (the CQ/EQ engine and the
//! TPT), where no command may run into a block's cycle bound.
//!
//! Replay a failure with the `HCA_SEED` it prints; `HCA_FUZZ_POSTS` sets
//! the number of posts.

use hca_engines::blocks::{cq, qpc, tpt};
use hca_engines::Backend;
use hca_firmware::bar0;
use hca_firmware::cmd::commands;
use hca_firmware::host::{Host, ICM_SIZE, MEM_BASE, MEM_SIZE};
use hca_firmware::icm::ICM_PAGE;
use hca_firmware::opcode::{self as op, OPCODES};
use hca_firmware::{Command, Engines, Firmware, HostMemory, Status};
use hca_testbench::stream::Pacing;
use hca_testbench::Seed;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

fn posts() -> u64 {
    std::env::var("HCA_FUZZ_POSTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
}

fn address(rng: &mut ChaCha8Rng, mailbox: u64) -> u64 {
    match rng.gen_range(0..100) {
        0..=49 => mailbox,
        50..=69 => rng.gen(),
        70..=84 => MEM_BASE + rng.gen_range(0..MEM_SIZE as u64),
        _ => MEM_BASE + MEM_SIZE as u64 + rng.gen_range(0..1u64 << 32),
    }
}

/// Mailbox contents: random bytes, zeros, or map entries that are nearly
/// right (page-aligned host pages, small chunks, ICM addresses in range).
fn mailbox(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut b = vec![0u8; 4096];
    match rng.gen_range(0..10) {
        0..=2 => rng.fill(&mut b[..]),
        3..=6 => {
            for e in b.chunks_exact_mut(16) {
                let lg = rng.gen_range(0..4u64);
                let virt = rng.gen_range(0..ICM_SIZE / ICM_PAGE) * ICM_PAGE;
                let pa = MEM_BASE + rng.gen_range(0..(MEM_SIZE as u64 / ICM_PAGE)) * ICM_PAGE;
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

/// A host with a fresh device whose blocks run on `backend`.
fn fresh(backend: Backend, seed: u64) -> Host {
    Host::new(Firmware::with_engines(Engines {
        cq: cq::open(backend, None, Pacing::FULL_SPEED, seed).expect("CQ/EQ engine"),
        tpt: tpt::open(backend, None, Pacing::RANDOM, seed).expect("TPT"),
        qpc: qpc::open(backend, None, Pacing::RANDOM, seed).expect("QPC"),
    }))
}

hca_engines::on_every_backend! {
    fn every_random_post_is_answered_with_a_status(backend: Backend) {
        // The same posts on the model engines and on `backend`: every
        // status equal, post by post (the firmware is deterministic and the
        // blocks are held equal to their models).
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

/// Every post's opcode and status, in order.
fn fuzz(backend: Backend, seed: Seed) -> Vec<(u16, Status)> {
    let mut rng = seed.rng("hcr-fuzz");
    let implemented: Vec<u16> = commands().map(|c| c.opcode).collect();
    let total = posts();
    let mut done = 0u64;
    let mut statuses = Vec::new();
    let mut ok = 0u64;
    let mut epochs = 0u64;
    while done < total {
        epochs += 1;
        let mut h = fresh(backend, seed.0 ^ epochs);
        if rng.gen_bool(0.5) {
            h.bring_up();
            if rng.gen_bool(0.5) {
                let _ = h.create_eq(
                    rng.gen_range(0..8),
                    rng.gen_range(1..6),
                    rng.gen_range(0..4),
                    0,
                );
            }
        }
        let _ = h.fw.take_trace();
        let epoch = rng.gen_range(50..2000).min(total - done);
        for _ in 0..epoch {
            let opcode = match rng.gen_range(0..10) {
                0..=5 => implemented[rng.gen_range(0..implemented.len())],
                6..=7 => OPCODES[rng.gen_range(0..OPCODES.len())].0,
                _ => rng.gen_range(0..0x1000),
            };
            let mbox = mailbox(&mut rng);
            h.mem.write(h.inbox, &mbox).unwrap();
            let c = Command {
                opcode,
                op_modifier: if rng.gen_bool(0.7) {
                    0
                } else {
                    rng.gen_range(0..16)
                },
                in_param: if opcode == op::SET_ICM_SIZE && rng.gen_bool(0.5) {
                    rng.gen_range(0..1u64 << 40)
                } else {
                    address(&mut rng, h.inbox)
                },
                in_modifier: modifier(&mut rng),
                out_param: address(&mut rng, h.outbox),
                token: rng.gen(),
                event: rng.gen_bool(0.2),
            };
            let before = h.fw.take_trace().len();
            assert_eq!(before, 0);
            let done_c = h.post(c);
            assert!(
                Status::from_code(done_c.code).is_some(),
                "seed {seed}: {c:?} answered with status {:#x}",
                done_c.code
            );
            let t = h.fw.take_trace();
            assert_eq!(
                t.len(),
                1,
                "seed {seed}: {c:?} left {} trace records",
                t.len()
            );
            assert_eq!(t[0].status, done_c.status);
            // A block that overran its cycle bound is an INTERNAL_ERR whose
            // reason says so: none may.
            let detail = t[0].detail.as_deref().unwrap_or("");
            assert!(
                !(done_c.status == Status::InternalErr && detail.contains("its bound is")),
                "seed {seed}: {c:?} on {backend}: {detail}"
            );
            ok += (done_c.status == Status::Ok) as u64;
            statuses.push((opcode, done_c.status));
            // Stray traffic between commands.
            match rng.gen_range(0..100) {
                0..=4 => {
                    let eqn = rng.gen_range(0..12u32);
                    h.eq_doorbell(eqn, rng.gen(), rng.gen());
                }
                5..=6 => {
                    let off = rng.gen_range(0..bar0::BAR2_SIZE) & !3;
                    h.fw.uar_write(off, &rng.gen::<u32>().to_be_bytes(), &mut h.mem);
                }
                7 => {
                    // Any BAR0 register but the HCR, which the host drives.
                    let off = rng.gen_range(0..bar0::BAR0_SIZE) & !3;
                    if !(bar0::HCR_BASE..bar0::HCR_BASE + 28).contains(&off) {
                        h.fw.mmio_write(off, &rng.gen::<u32>().to_be_bytes(), &mut h.mem);
                        if off == bar0::RESET {
                            h = fresh(backend, seed.0 ^ epochs);
                        }
                        let _ = h.fw.take_trace();
                    }
                }
                _ => {}
            }
            let _ = h.fw.take_interrupts();
            done += 1;
        }
    }
    println!("{backend}: {done} posts in {epochs} epochs, {ok} answered OK");
    assert!(
        ok > 0,
        "seed {seed}: no post succeeded: the fuzz drives nothing"
    );
    statuses
}
