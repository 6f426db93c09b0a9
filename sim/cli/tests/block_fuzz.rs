//! Hostile input for every `hca block` interface on every backend: 100,000
//! seeded lines per block (`common::fuzz`), every field's boundary values
//! among them. Every line is answered, in order, with no panic and no
//! request over its cycle bound (an overrun would be answered as an error
//! naming its bound, and is looked for), and the clocked backends answer
//! exactly as the model does. `HCA_SEED` replays; `HCA_FUZZ_LINES` sets
//! the count.

mod common;

use common::fuzz::{lines, Op, F};
use hca_cli::cli::jsonl::Totals;
use hca_cli::{on_every_backend, Backend};
use hca_testbench::Seed;

type Serve = fn(Backend, &[u8], &mut Vec<u8>) -> anyhow::Result<(Totals, u64)>;

fn count() -> usize {
    std::env::var("HCA_FUZZ_LINES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
}

/// Serve the block's fuzz input on the model and on `backend`; compare.
fn fuzz(block: &str, ops: &[Op], serve: Serve, backend: Backend) {
    let seed = Seed::from_env();
    println!(
        "{block} fuzz on {backend}: seed {seed} (replay with {})",
        seed.replay_hint()
    );
    let (input, n) = lines(&mut seed.rng(&format!("fuzz-{block}")), ops, count());
    let run = |b: Backend| {
        let mut out = Vec::new();
        let (totals, cycles) = serve(b, &input, &mut out)
            .unwrap_or_else(|e| panic!("{block} on {b} stopped: {e:#} (seed {seed})"));
        (
            String::from_utf8(out).expect("UTF-8 answers"),
            totals,
            cycles,
        )
    };
    let (want, wt, _) = run(Backend::Model);
    let (got, totals, cycles) = if backend == Backend::Model {
        (want.clone(), wt, 0)
    } else {
        run(backend)
    };
    assert_eq!(
        totals.lines, n,
        "{block} on {backend}: one answer per line (seed {seed})"
    );
    let answers: Vec<&str> = got.lines().collect();
    assert_eq!(
        answers.len() as u64,
        n,
        "{block} on {backend}: answers (seed {seed})"
    );
    let mut ok = 0;
    for (i, (g, w)) in answers.iter().zip(want.lines()).enumerate() {
        let v: serde_json::Value = serde_json::from_str(g).expect("every answer is JSON");
        assert!(v.is_object(), "{g}");
        let err = v["error"].as_str().unwrap_or("");
        assert!(
            !err.contains("its bound is"),
            "line {}: overrun on {backend}: {err} (seed {seed})",
            i + 1
        );
        assert_eq!(
            g,
            &w,
            "line {} on {backend} differs from the model (seed {seed})",
            i + 1
        );
        ok += v.get("error").is_none() as u64;
    }
    println!(
        "{block} on {backend}: {n} lines, {ok} requests served, {} refused; {cycles} cycles",
        n - ok
    );
    // The generator must reach the block, not only the parser.
    assert!(
        ok > n / 4,
        "{block}: only {ok} of {n} lines reached the block (seed {seed})"
    );
}

const ATOMIC_ADDR: &[u64] = &[0, 8, 16, 24, 2048, 4080, 4088, 4096, 4095, 7, 1 << 32];
const DATA: &[u64] = &[0, 1, 5, 0xff, 0x8080_8080_8080_8080, u64::MAX];
const ATOMIC: &[Op] = &[
    ("read", &[("addr", F::W(ATOMIC_ADDR))]),
    (
        "write",
        &[("addr", F::W(ATOMIC_ADDR)), ("value", F::W(DATA))],
    ),
    (
        "cas",
        &[
            ("addr", F::W(ATOMIC_ADDR)),
            ("compare", F::W(DATA)),
            ("swap", F::W(DATA)),
        ],
    ),
    ("fadd", &[("addr", F::W(ATOMIC_ADDR)), ("add", F::W(DATA))]),
    (
        "masked_cas",
        &[
            ("addr", F::W(ATOMIC_ADDR)),
            ("compare", F::W(DATA)),
            ("swap", F::W(DATA)),
            ("compare_mask", F::W(DATA)),
            ("swap_mask", F::W(DATA)),
        ],
    ),
    (
        "masked_fadd",
        &[
            ("addr", F::W(ATOMIC_ADDR)),
            ("add", F::W(DATA)),
            ("nocarry_mask", F::W(DATA)),
        ],
    ),
];

const QPN: F = F::U(24, &[0, 1, 5, 16, 0xff_ffff]);
const PSN: F = F::U(24, &[0, 1, 0xff_fffe, 0xff_ffff]);
const STATES: &[&str] = &["reset", "init", "rtr", "rts", "sqe", "sqd", "err"];
const ATTRS: &[(&str, F)] = &[
    ("qp_type", F::Name(&["rc", "uc", "ud"])),
    ("pd", F::U(24, &[1, 2])),
    ("send_cqn", F::U(24, &[1])),
    ("recv_cqn", F::U(24, &[2])),
    ("srqn", F::U(24, &[0])),
    ("srq", F::Flag),
    ("access_flags", F::U(3, &[7])),
    ("pkey_index", F::U(16, &[0])),
    ("port", F::U(8, &[1, 2])),
    ("qkey", F::U(32, &[0x1111_1111])),
    ("dlid", F::U(16, &[1])),
    ("sl", F::U(4, &[0])),
    ("path_mtu", F::U(3, &[1, 3, 5])),
    ("timeout", F::U(5, &[14])),
    ("retry_cnt", F::U(3, &[7])),
    ("rnr_retry", F::U(3, &[7])),
    ("rq_psn", PSN),
    ("max_rd_atomic", F::U(8, &[1])),
    ("min_rnr_timer", F::U(5, &[12])),
    ("sq_psn", PSN),
    ("max_dest_rd_atomic", F::U(8, &[1])),
    ("dest_qpn", QPN),
    ("en_sqd_async_notify", F::Flag),
];
const QPC: &[Op] = &[
    (
        "modify",
        &[
            ("qpn", QPN),
            ("to", F::Name(STATES)),
            ("attrs", F::Obj(ATTRS)),
        ],
    ),
    (
        "modify",
        &[
            ("qpn", QPN),
            ("to", F::Name(STATES)),
            ("attrs", F::Obj(ATTRS)),
        ],
    ),
    (
        "modify",
        &[
            ("qpn", QPN),
            ("to", F::Name(STATES)),
            ("attr_mask", F::U(27, &[1, 0x1ffff])),
        ],
    ),
    (
        "modify",
        &[
            ("qpn", QPN),
            ("to", F::Name(STATES)),
            ("attrs", F::Obj(&[("alt_path", F::Flag), ("cap", F::Flag)])),
        ],
    ),
    ("query", &[("qpn", QPN)]),
    (
        "send_psn",
        &[("qpn", QPN), ("count", F::U(16, &[1, 4095, 4096]))],
    ),
    ("recv_psn", &[("qpn", QPN), ("psn", PSN), ("last", F::Flag)]),
    ("retry", &[("qpn", QPN), ("rnr", F::Flag)]),
    ("ack", &[("qpn", QPN)]),
    ("send_error", &[("qpn", QPN)]),
];

const NUM_MPTS: u64 = hca_rtl::tpt::NUM_MPTS as u64;
const INDEX: F = F::U(24, &[0, 1, 5, 7, NUM_MPTS - 1, NUM_MPTS]);
const KEY: F = F::U(
    32,
    &[
        0x100,
        0x101,
        0x501,
        0x5ff,
        0x701,
        0x700,
        (NUM_MPTS - 1) << 8,
        NUM_MPTS << 8,
    ],
);
const PD: F = F::U(24, &[1, 2]);
const VA: F = F::W(&[0, 0x800, 0x1000, 0x7000, 0x7ff0, u64::MAX - 0xfff]);
const LEN: F = F::W(&[0, 1, 0x1000, 0x2000, 0x10000, u64::MAX]);
const ACCESS: &[&str] = &[
    "local_read",
    "local_write",
    "remote_read",
    "remote_write",
    "atomic",
];
const MTT: F = F::U(24, &[0, 1, 16, 17, (1 << 20) - 1, 1 << 20]);
const ADDR: F = F::W(&[0, 0x1000, 0x1_0000_0000, !0xfff]);
const ENTRY: &[(&str, F)] = &[
    ("state", F::Name(&["free", "valid", "invalid"])),
    ("tag", F::U(8, &[1, 0xff])),
    ("access", F::Names(ACCESS)),
    ("remote_inv", F::Flag),
    ("kind", F::Name(&["mr", "fmr", "fast_reg", "physical"])),
    ("log_page", F::U(6, &[12, 12, 13, 30, 31])),
    ("pd", PD),
    ("va", VA),
    ("len", LEN),
    ("mtt_base", MTT),
];
/// Lookups run 16 pages at most (a 4 GiB one would walk 2^20 pages on the
/// rust-hdl simulation), but their boundary values all appear.
const LOOKUP_LEN: F = F::U(16, &[0, 1, 8, 0x1000, 0x1001, 0x2000]);
const TPT: &[Op] = &[
    (
        "lookup",
        &[
            ("key", KEY),
            ("pd", PD),
            ("va", VA),
            ("len", LOOKUP_LEN),
            ("access", F::Names(ACCESS)),
        ],
    ),
    (
        "lookup",
        &[
            ("key", KEY),
            ("pd", PD),
            ("va", VA),
            ("len", LOOKUP_LEN),
            ("access", F::Names(ACCESS)),
        ],
    ),
    // The longest lookup, only where it crosses the top of the space.
    (
        "lookup",
        &[
            ("key", KEY),
            ("pd", PD),
            (
                "va",
                F::Only(&[u64::MAX, u64::MAX - 0xfff, 2 + !0xffff_ffff]),
            ),
            ("len", F::Only(&[0xffff_ffff])),
            ("access", F::U(5, &[])),
        ],
    ),
    ("sw2hw_mpt", &[("index", INDEX), ("entry", F::Obj(ENTRY))]),
    ("sw2hw_mpt", &[("index", INDEX), ("entry", F::Obj(ENTRY))]),
    ("hw2sw_mpt", &[("index", INDEX)]),
    ("query_mpt", &[("index", INDEX)]),
    ("write_mtt", &[("mtt", MTT), ("addr", ADDR)]),
    ("local_inv", &[("key", KEY), ("pd", PD)]),
    ("remote_inv", &[("key", KEY), ("pd", PD)]),
    (
        "fast_reg",
        &[
            ("key", KEY),
            ("pd", PD),
            ("va", VA),
            ("len", LEN),
            ("access", F::Names(ACCESS)),
            ("log_page", F::U(6, &[12, 31])),
        ],
    ),
    ("sync_tpt", &[]),
    (
        "host_write_mpt",
        &[("index", INDEX), ("entry", F::Obj(ENTRY))],
    ),
    ("host_write_mtt", &[("mtt", MTT), ("addr", ADDR)]),
];

const CQN: F = F::U(32, &[0, 1, 2, (1 << 16) - 1, 1 << 16]);
const EQN: F = F::U(16, &[0, 1, 7, 8]);
const QUEUE_MTT: F = F::U(24, &[0, 1, 0x1000, 0xff_ffff]);
const LOG_PAGE: F = F::U(4, &[0, 1, 8, 9, 15]);
const LOG: F = F::U(8, &[0, 1, 2, 4, 22, 23]);
const CI: F = F::U(24, &[0, 1, 2, 0xff_ffff]);
const CQE: &[(&str, F)] = &[
    ("my_qpn", F::U(24, &[1])),
    ("immed", F::U(32, &[])),
    ("byte_cnt", F::U(32, &[64])),
    ("opcode", F::U(5, &[0, 0x1e])),
    ("is_send", F::Flag),
    ("syndrome", F::U(8, &[])),
];
const EQE: &[(&str, F)] = &[
    ("type", F::U(8, &[0, 4, 9, 0x0a, 0x0f, 0x13, 0x20])),
    ("subtype", F::U(8, &[])),
    ("d0", F::U(32, &[1])),
    ("d3", F::W(&[])),
];
const CQ: &[Op] = &[
    (
        "sw2hw_cq",
        &[
            ("cqn", CQN),
            ("mtt", QUEUE_MTT),
            ("log_page", LOG_PAGE),
            ("log_size", LOG),
            ("eqn", EQN),
        ],
    ),
    ("hw2sw_cq", &[("cqn", CQN)]),
    (
        "resize",
        &[
            ("cqn", CQN),
            ("mtt", QUEUE_MTT),
            ("log_page", LOG_PAGE),
            ("log_size", LOG),
        ],
    ),
    (
        "moderate",
        &[
            ("cqn", CQN),
            ("count", F::U(16, &[0, 1, 4])),
            ("period", F::U(16, &[0, 1, 8])),
        ],
    ),
    (
        "sw2hw_eq",
        &[
            ("eqn", EQN),
            ("mtt", QUEUE_MTT),
            ("log_page", LOG_PAGE),
            ("log_size", LOG),
            ("vector", F::U(8, &[0, 1, 31])),
        ],
    ),
    ("hw2sw_eq", &[("eqn", EQN)]),
    (
        "map_eq",
        &[
            ("eqn", EQN),
            ("types", F::W(&[1, 1 << 4, 1 << 9, u64::MAX])),
            ("unmap", F::Flag),
        ],
    ),
    (
        "complete",
        &[("cqn", CQN), ("cqe", F::Obj(CQE)), ("solicited", F::Flag)],
    ),
    (
        "complete",
        &[("cqn", CQN), ("cqe", F::Obj(CQE)), ("solicited", F::Flag)],
    ),
    ("set_ci", &[("cqn", CQN), ("ci", CI)]),
    (
        "arm_cq",
        &[
            ("cqn", CQN),
            ("arm", F::Name(&["next", "solicited"])),
            ("sn", F::U(2, &[])),
            ("ci", CI),
        ],
    ),
    ("tick", &[("cqn", CQN), ("ticks", F::U(16, &[1, 8]))]),
    ("eq_doorbell", &[("eqn", EQN), ("ci", CI), ("arm", F::Flag)]),
    ("event", &[("eqe", F::Obj(EQE))]),
];

on_every_backend! {
    fn atomic(backend: Backend) {
        fuzz("atomic", ATOMIC, |b, i, o| hca_cli::cli::jsonl::serve::<hca_cli::cli::block_atomic::Atomic>(b, None, None, i, o), backend)
    }
}

on_every_backend! {
    fn qpc(backend: Backend) {
        fuzz("qpc", QPC, |b, i, o| hca_cli::cli::jsonl::serve::<hca_cli::cli::block_qpc::Qpc>(b, None, None, i, o), backend)
    }
}

on_every_backend! {
    fn tpt(backend: Backend) {
        fuzz("tpt", TPT, |b, i, o| hca_cli::cli::jsonl::serve::<hca_cli::cli::block_tpt::Tpt>(b, None, None, i, o), backend)
    }
}

on_every_backend! {
    fn cq(backend: Backend) {
        fuzz("cq", CQ, |b, i, o| hca_cli::cli::jsonl::serve::<hca_cli::cli::block_cq::Cq>(b, None, None, i, o), backend)
    }
}
