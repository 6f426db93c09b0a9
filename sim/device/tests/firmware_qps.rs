//! The QP state commands through the firmware on every backend of the QPC
//! block, with mailboxes filled as mlx4_ib fills them: a UD QP walked to
//! RTS and given a new Q_Key (IPoIB), an RC QP through every state, the
//! special QPs (service type MLX), QUERY_QP's answer, 2RST_QP leaving ICM
//! zero, and the refusals, each leaving the device as it was. The
//! commands go through the project's driver; the special QPs are the ones
//! its bring-up configured, the other QPNs ones it has not handed out,
//! their QPC chunk mapped as the driver maps it for its own.

mod common;

use common::*;
use hca_abi::cmd::qp::{optpar, st, MlxQpMailbox};
use hca_engines::Backend;
use hca_firmware::opcode as op;
use hca_firmware::qp::COPY_WORD;
use hca_firmware::Status;

/// Ordinary QPs the tests post raw commands on (the driver allocates
/// from just past its special QPs and has allocated none).
const Q: u32 = 0x100;

/// The driver up, and the base of the special QPs its bring-up gave
/// CONF_SPECIAL_QP.
fn host(backend: Backend) -> (Dev, u32) {
    let mut d = driver(backend);
    let b = d.bring_up().expect("bring-up");
    let special = b.special_qp_base;
    assert_eq!(fw(&mut d).special_qp_base(), special);
    for qpn in (special..special + 8).chain(Q..Q + 0x20) {
        map_object(&mut d, "QPC", qpn);
    }
    (d, special)
}

/// What mlx4_ib sends for every transition of a kernel QP: the state and
/// service type, the sizes, the UAR page, CQs, PD, params1's fixed bits.
fn context(qpn: u32, state: u8, service: u8) -> MlxQpMailbox {
    MlxQpMailbox {
        state,
        st: service,
        pm_state: 3,
        pd: 5,
        mtu: 5,
        msg_max: 13,
        rq_log_size: 7,
        rq_log_stride: 2,
        sq_log_size: 8,
        sq_log_stride: 2,
        usr_page: 1,
        local_qpn: qpn,
        ack_req_freq: 8,
        fre: true,
        cqn_send: 3,
        cqn_recv: 4,
        ..Default::default()
    }
}

fn modify(d: &mut Dev, opcode: u16, qpn: u32, m: &MlxQpMailbox) -> Status {
    cmd_in(d, opcode, 0, &m.encode(), qpn)
}

fn query(d: &mut Dev, qpn: u32) -> MlxQpMailbox {
    let (s, out) = cmd_out(d, op::QUERY_QP, 0, qpn);
    assert_eq!(s, Status::Ok, "QUERY_QP {qpn:#x}");
    MlxQpMailbox::decode(&out)
}

/// Everything a refused command must leave as it was: the firmware's
/// state and the QP as QUERY_QP shows it.
fn snapshot(d: &mut Dev, qpn: u32) -> (String, MlxQpMailbox) {
    (fw(d).state_digest(), query(d, qpn))
}

/// RST2INIT_QP as mlx4 sends it: the doorbell record, the MTT and the
/// reserved L_Key with it.
fn rst2init(
    d: &mut Dev,
    qpn: u32,
    service: u8,
    optpar_mask: u32,
    f: impl Fn(&mut MlxQpMailbox),
) -> Status {
    let mut m = context(qpn, 1, service);
    m.opt_param_mask = optpar_mask;
    m.db_rec_addr = 0x12_3440;
    m.mtt_base_l = 0x800;
    m.log_page_size = 0;
    m.rlkey = true;
    m.sq_no_prefetch = false;
    f(&mut m);
    modify(d, op::RST2INIT_QP, qpn, &m)
}

/// The QP's ICM entry from the host's side, word by word.
fn icm_words(d: &mut Dev, qpn: u32, words: std::ops::Range<u8>) -> Vec<u64> {
    let qpc_base = layout(d).qpc_base;
    let entry = hca_firmware::caps::device_caps().qpc_entry_sz as u64;
    words
        .map(|w| {
            let icm = qpc_base + qpn as u64 * entry + 8 * w as u64;
            let host = icm_host(d, icm);
            read_u64(d, host)
        })
        .collect()
}

fn ud_to_rts_and_a_new_qkey(backend: Backend) {
    let (mut d, _) = host(backend);
    let q = Q;
    assert_eq!(
        rst2init(&mut d, q, st::UD, optpar::PKEY_INDEX | optpar::Q_KEY, |m| {
            m.pkey_index = 0;
            m.qkey = 0;
        }),
        Status::Ok
    );
    let mut m = context(q, 2, st::UD);
    m.sched_queue = 0x83; // port 1, as mlx4 writes it for UD at INIT2RTR
    m.counter_index = 0x7f;
    m.opt_param_mask = optpar::COUNTER_INDEX;
    assert_eq!(modify(&mut d, op::INIT2RTR_QP, q, &m), Status::Ok);
    let mut m = context(q, 3, st::UD);
    m.next_send_psn = 0;
    assert_eq!(modify(&mut d, op::RTR2RTS_QP, q, &m), Status::Ok);
    let mut m = context(q, 3, st::UD);
    m.qkey = 0x8001_b000;
    m.opt_param_mask = optpar::Q_KEY;
    assert_eq!(modify(&mut d, op::RTS2RTS_QP, q, &m), Status::Ok);
    let got = query(&mut d, q);
    assert_eq!(
        (got.state, got.st, got.qkey),
        (3, st::UD, 0x8001_b000),
        "{backend}"
    );
    assert_eq!(
        (
            got.db_rec_addr,
            got.mtt_base(),
            got.sq_log_size,
            got.rq_log_size,
            got.usr_page,
            got.rlkey
        ),
        (0x12_3440, 0x800, 8, 7, 1, true),
        "{backend}: what the block does not keep is kept beside it"
    );
    assert_eq!(
        (got.sched_queue, got.counter_index, got.local_qpn),
        (0x83, 0x7f, q),
        "{backend}"
    );
    assert_eq!(
        with_fw(&mut d, |f, mem| f.qp(q, mem))
            .expect("context")
            .qkey,
        0x8001_b000,
        "{backend}"
    );
}

fn rc_through_every_state(backend: Backend) {
    let (mut d, _) = host(backend);
    let q = Q + 1;
    assert_eq!(
        rst2init(
            &mut d,
            q,
            st::RC,
            optpar::RRE | optpar::RWE | optpar::RAE | optpar::PKEY_INDEX,
            |m| {
                m.rwe = true;
                m.rre = true;
                m.pkey_index = 2;
            }
        ),
        Status::Ok
    );
    let mut m = context(q, 2, st::RC);
    m.mtu = 4;
    m.remote_qpn = 0x99;
    m.next_recv_psn = 0x1234;
    m.rra = 3; // 8 responder resources
    m.min_rnr_timer = 12;
    m.rlid = 0x17;
    m.sched_queue = 0x83 | 0x40 | 5 << 2; // port 2, SL 5
    m.grh = true;
    m.rgid_lo = 0xfe80_0000_0000_0001;
    m.opt_param_mask =
        optpar::PRIMARY_ADDR_PATH | optpar::SCHED_QUEUE | optpar::RNR_TIMEOUT | optpar::RRA_MAX;
    assert_eq!(modify(&mut d, op::INIT2RTR_QP, q, &m), Status::Ok);
    let mut m = context(q, 3, st::RC);
    m.next_send_psn = 0xff_fff0;
    m.ack_timeout = 14;
    m.retry_count = 7;
    m.rnr_retry = 6;
    m.sra = 2; // 4 reads and atomics outstanding
    m.opt_param_mask =
        optpar::ACK_TIMEOUT | optpar::RETRY_COUNT | optpar::RNR_RETRY | optpar::SRA_MAX;
    assert_eq!(modify(&mut d, op::RTR2RTS_QP, q, &m), Status::Ok);
    let got = query(&mut d, q);
    assert_eq!(
        (
            got.state,
            got.mtu,
            got.remote_qpn,
            got.next_recv_psn,
            got.next_send_psn,
            got.rra,
            got.sra
        ),
        (3, 4, 0x99, 0x1234, 0xff_fff0, 3, 2),
        "{backend}"
    );
    assert_eq!(
        (
            got.rlid,
            got.sched_queue >> 6 & 1,
            got.sched_queue >> 2 & 0xf,
            got.grh,
            got.rgid_lo
        ),
        (0x17, 1, 5, true, 0xfe80_0000_0000_0001),
        "{backend}: the path"
    );
    assert_eq!(
        (
            got.ack_timeout,
            got.retry_count,
            got.rnr_retry,
            got.min_rnr_timer
        ),
        (14, 7, 6, 12),
        "{backend}"
    );
    assert_eq!(
        (got.rre, got.rwe, got.rae, got.pkey_index),
        (true, true, false, 2),
        "{backend}"
    );
    // RTS2SQD with the SQ-drained event asked for (in_modifier bit 31).
    let m = context(q, 5, st::RC);
    assert_eq!(
        cmd_in(&mut d, op::RTS2SQD_QP, 0, &m.encode(), q | 1 << 31),
        Status::Ok
    );
    assert!(
        with_fw(&mut d, |f, mem| f.qp(q, mem))
            .expect("context")
            .sqd_notify,
        "{backend}"
    );
    assert_eq!(
        modify(&mut d, op::SQD2SQD_QP, q, &context(q, 5, st::RC)),
        Status::Ok
    );
    assert_eq!(
        modify(&mut d, op::SQD2RTS_QP, q, &context(q, 3, st::RC)),
        Status::Ok
    );
    assert_eq!(
        modify(&mut d, op::TO_ERR_QP, q, &context(q, 6, st::RC)),
        Status::Ok
    );
    assert_eq!(query(&mut d, q).state, 6, "{backend}");
    assert_eq!(cmd(&mut d, op::TO_RST_QP, 2, 0, q), Status::Ok);
    assert_eq!(query(&mut d, q), MlxQpMailbox::default(), "{backend}");
    assert!(
        icm_words(&mut d, q, 0..COPY_WORD + 32)
            .iter()
            .all(|w| *w == 0),
        "{backend}: the reset QP's ICM entry is zero"
    );
}

fn special_qps(backend: Backend) {
    let (mut d, special_base) = host(backend);
    for (qpn, port) in [
        (special_base, 1),
        (special_base + 1, 2),
        (special_base + 2, 1),
        (special_base + 3, 2),
    ] {
        assert_eq!(
            rst2init(
                &mut d,
                qpn,
                st::MLX,
                optpar::PKEY_INDEX | optpar::Q_KEY,
                |m| {
                    m.mtu = 5;
                    m.msg_max = 11;
                    m.qkey = if qpn >= special_base + 2 {
                        0x8001_0000
                    } else {
                        0
                    };
                }
            ),
            Status::Ok,
            "{backend}: QP {qpn:#x}"
        );
        assert_eq!(
            with_fw(&mut d, |f, mem| f.qp(qpn, mem))
                .expect("context")
                .port,
            port,
            "{backend}: QP {qpn:#x}'s port"
        );
        let mut m = context(qpn, 2, st::MLX);
        m.sched_queue = (port - 1) << 6 | if qpn < special_base + 2 { 0x3f } else { 0x83 };
        assert_eq!(
            modify(&mut d, op::INIT2RTR_QP, qpn, &m),
            Status::Ok,
            "{backend}"
        );
        assert_eq!(
            modify(&mut d, op::RTR2RTS_QP, qpn, &context(qpn, 3, st::MLX)),
            Status::Ok,
            "{backend}"
        );
        assert_eq!(query(&mut d, qpn).st, st::MLX, "{backend}");
    }
    assert_eq!(
        rst2init(&mut d, Q + 0x10, st::MLX, 0, |_| {}),
        Status::BadParam,
        "{backend}: MLX off the special QPs"
    );
    assert_eq!(
        rst2init(&mut d, special_base + 4, st::UD, 0, |_| {}),
        Status::Ok,
        "{backend}: base+4.. are ordinary QPs"
    );
}

fn refusals_change_nothing(backend: Backend) {
    let (mut d, _) = host(backend);
    let q = Q + 2;
    assert_eq!(rst2init(&mut d, q, st::UD, 0, |_| {}), Status::Ok);
    let before = snapshot(&mut d, q);
    assert_eq!(
        modify(&mut d, op::RTR2RTS_QP, q, &context(q, 3, st::UD)),
        Status::BadQpState,
        "{backend}"
    );
    assert_eq!(
        snapshot(&mut d, q),
        before,
        "{backend}: RTR2RTS_QP of an INIT QP"
    );
    assert_eq!(
        modify(&mut d, op::RST2INIT_QP, q, &context(q, 1, st::UD)),
        Status::BadQpState,
        "{backend}"
    );
    assert_eq!(
        snapshot(&mut d, q),
        before,
        "{backend}: RST2INIT_QP of an INIT QP"
    );
    assert_eq!(
        modify(&mut d, op::INIT2RTR_QP, q, &context(q + 1, 2, st::UD)),
        Status::BadParam,
        "{backend}"
    );
    assert_eq!(
        snapshot(&mut d, q),
        before,
        "{backend}: a context naming another QP"
    );
    let mut m = context(q, 1, st::UD);
    m.opt_param_mask = optpar::ALT_ADDR_PATH;
    assert_eq!(
        modify(&mut d, op::INIT2INIT_QP, q, &m),
        Status::BadParam,
        "{backend}"
    );
    assert_eq!(snapshot(&mut d, q), before, "{backend}: an alternate path");
    let mut m = context(q, 1, st::UD);
    m.pkey_index = 127;
    m.opt_param_mask = optpar::PKEY_INDEX;
    assert_eq!(
        modify(&mut d, op::INIT2INIT_QP, q, &m),
        Status::Ok,
        "{backend}: the last P_Key index"
    );
    let before = snapshot(&mut d, q);
    assert_eq!(
        modify(&mut d, op::TO_ERR_QP, q + 1, &context(q + 1, 6, st::UD)),
        Status::BadQpState,
        "{backend}"
    );
    assert_eq!(
        snapshot(&mut d, q),
        before,
        "{backend}: 2ERR_QP of a QP in RESET"
    );
    assert_eq!(
        rst2init(&mut d, q + 2, st::XRC, 0, |_| {}),
        Status::BadParam,
        "{backend}: XRC"
    );
    assert_eq!(
        rst2init(&mut d, q + 2, 5, 0, |_| {}),
        Status::BadParam,
        "{backend}: service type 5"
    );
    assert_eq!(
        snapshot(&mut d, q),
        before,
        "{backend}: unsupported service types"
    );
    // A QPN past the QPC table the driver's layout gave INIT_HCA.
    let past = 1u32 << layout(&d).log_num_qps;
    assert_eq!(
        modify(&mut d, op::RST2INIT_QP, past, &context(past, 1, st::UD)),
        Status::BadIndex,
        "{backend}"
    );
    assert_eq!(
        cmd(&mut d, op::TO_RST_QP, 0, 0, q),
        Status::BadOp,
        "{backend}: 2RST_QP takes op modifier 2"
    );
    assert_eq!(
        snapshot(&mut d, q),
        before,
        "{backend}: a QPN past the table, a wrong op modifier"
    );
}

hca_engines::on_every_backend! {
    fn a_ud_qp_reaches_rts_and_takes_a_new_qkey(backend: Backend) {
        ud_to_rts_and_a_new_qkey(backend)
    }
}

hca_engines::on_every_backend! {
    fn an_rc_qp_goes_through_every_state(backend: Backend) {
        rc_through_every_state(backend)
    }
}

hca_engines::on_every_backend! {
    fn the_special_qps_run_as_mlx(backend: Backend) {
        special_qps(backend)
    }
}

hca_engines::on_every_backend! {
    fn refused_qp_commands_change_nothing(backend: Backend) {
        refusals_change_nothing(backend)
    }
}
