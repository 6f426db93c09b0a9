//! The QP context block in rust-hdl.
//!
//! A direct-mapped, write-back cache of `LINES` contexts (`LINES = 1 <<
//! IDX`) in front of ICM: the shared [`ContextCache`] of seven-word lines
//! (the context's eighth ICM word holds nothing the block keeps), with the
//! dirty bits in registers here, cleared by reset.
//!
//! A request is held by its sender until the block accepts it, which it
//! does in the clock it completes it (`req_ready` is high only then):
//!
//! * **IDLE**: a request is waiting and the output register is free or
//!   draining: the line's words and tag are read.
//! * **LOOKUP**: the tag is compared and the transition rule for the
//!   context's state is looked up (a block RAM filled from the table: a
//!   combinational ROM read by the same always-block that addresses it
//!   would be a false loop to Verilator). On a miss the line is written back
//!   to ICM first if it is dirty.
//! * **EXEC**: the request executes (all the context arithmetic is
//!   combinational on the words read), the new words are written back, the
//!   response is registered and the request taken.
//! * **FLUSH** (a modify to RESET that will succeed): eight zero beats to
//!   the QP's ICM entry, the line zeroed, clean and dropped, then EXEC
//!   (RESET to RESET). mlx4 frees a QP's ICM after 2RST_QP; nothing of
//!   the QP is written there, or read from the cache, later.
//! * **WRITEBACK**: eight beats of the victim to ICM.
//! * **FILL**: eight read beats for the requested QPN; the returning words
//!   fill the line, then back to IDLE, where the request hits.
//!
//! All context arithmetic is done on 64-bit lanes with field positions and
//! masks taken from [`super::layout`] at construction, so the RTL holds no
//! field offsets of its own; a modify's attributes arrive as context words
//! in the same layout (with the target state in the state field). The
//! transition rules are a block RAM filled from [`super::table`].

use super::layout::Field;
use super::table::{attr_word_masks, creation_word_masks, rom_word};
use super::{attr, limits, status, PsnClass, QpState, QpType, QpcOp};
use crate::cache::ContextCache;
use crate::icm_layout::{c, c64};
use rust_hdl::prelude::*;

/// QP context cache lines of the block as built for simulation and
/// synthesis, written once: the tools and the tests read it.
pub const LINES: usize = 16;

/// The block as built: a [`LINES`]-line cache.
pub type QpcBuilt = QpcUnit<{ crate::cache::index_bits(LINES) }, LINES>;

const FSM_IDLE: u64 = 0;
const FSM_LOOKUP: u64 = 1;
const FSM_WRITEBACK: u64 = 2;
const FSM_FILL: u64 = 3;
const FSM_EXEC: u64 = 4;
const FSM_FLUSH: u64 = 5;

#[derive(LogicBlock)]
pub struct QpcUnit<const IDX: usize, const LINES: usize> {
    pub clock: Signal<In, Clock>,
    /// Synchronous, active high: invalidates the cache (dirty lines are
    /// lost: reset is for bring-up, not for flushing).
    pub reset: Signal<In, Bit>,

    pub req_valid: Signal<In, Bit>,
    pub req_ready: Signal<Out, Bit>,
    pub req_op: Signal<In, Bits<3>>,
    pub req_qpn: Signal<In, Bits<24>>,
    /// Modify: which attributes to set (verbs `IB_QP_*` bit numbers).
    pub req_attr_mask: Signal<In, Bits<21>>,
    /// Modify: the attributes as context words, target state in the state
    /// field.
    pub req_attr0: Signal<In, Bits<64>>,
    pub req_attr1: Signal<In, Bits<64>>,
    pub req_attr2: Signal<In, Bits<64>>,
    pub req_attr3: Signal<In, Bits<64>>,
    pub req_attr4: Signal<In, Bits<64>>,
    pub req_attr5: Signal<In, Bits<64>>,
    pub req_attr6: Signal<In, Bits<64>>,
    /// SendPsn: the PSN count; RecvPsn: the packet's PSN.
    pub req_arg: Signal<In, Bits<64>>,
    /// RecvPsn: the packet ends a message.
    pub req_last: Signal<In, Bit>,
    /// Retry: an RNR NAK rather than a timeout.
    pub req_rnr: Signal<In, Bit>,

    pub resp_valid: Signal<Out, Bit>,
    pub resp_ready: Signal<In, Bit>,
    /// An mlx4 command status.
    pub resp_status: Signal<Out, Bits<8>>,
    /// RecvPsn: the PSN's class.
    pub resp_class: Signal<Out, Bits<2>>,
    /// SendPsn: the first PSN allocated.
    pub resp_arg: Signal<Out, Bits<64>>,
    /// The context after the request (unchanged on an error).
    pub resp_ctx0: Signal<Out, Bits<64>>,
    pub resp_ctx1: Signal<Out, Bits<64>>,
    pub resp_ctx2: Signal<Out, Bits<64>>,
    pub resp_ctx3: Signal<Out, Bits<64>>,
    pub resp_ctx4: Signal<Out, Bits<64>>,
    pub resp_ctx5: Signal<Out, Bits<64>>,
    pub resp_ctx6: Signal<Out, Bits<64>>,

    /// ICM: one 64-bit beat of context entry `entry` (a QPN), word `beat`.
    pub icm_req_valid: Signal<Out, Bit>,
    pub icm_req_ready: Signal<In, Bit>,
    pub icm_req_write: Signal<Out, Bit>,
    pub icm_req_entry: Signal<Out, Bits<24>>,
    pub icm_req_beat: Signal<Out, Bits<3>>,
    pub icm_req_data: Signal<Out, Bits<64>>,
    /// ICM read data, in request order.
    pub icm_rsp_valid: Signal<In, Bit>,
    pub icm_rsp_data: Signal<In, Bits<64>>,

    cache: ContextCache<IDX, LINES, 7>,
    rules: RAM<Bits<44>, 8>,

    line_dirty: DFF<Bits<LINES>>,
    fsm: DFF<Bits<3>>,
    beat: DFF<Bits<4>>,
    got: DFF<Bits<4>>,
    out_valid: DFF<Bit>,
    out_status: DFF<Bits<8>>,
    out_class: DFF<Bits<2>>,
    out_arg: DFF<Bits<64>>,
    out_ctx0: DFF<Bits<64>>,
    out_ctx1: DFF<Bits<64>>,
    out_ctx2: DFF<Bits<64>>,
    out_ctx3: DFF<Bits<64>>,
    out_ctx4: DFF<Bits<64>>,
    out_ctx5: DFF<Bits<64>>,
    out_ctx6: DFF<Bits<64>>,

    // Lookup.
    idx: Signal<Local, Bits<IDX>>,
    onehot: Signal<Local, Bits<LINES>>,
    hit: Signal<Local, Bit>,
    out_free: Signal<Local, Bit>,
    exec: Signal<Local, Bit>,
    fill_word: Signal<Local, Bits<4>>,
    // Context lanes (right-aligned fields of the words read).
    st: Signal<Local, Bits<64>>,
    ty: Signal<Local, Bits<64>>,
    nsp: Signal<Local, Bits<64>>,
    epsn: Signal<Local, Bits<64>>,
    msn: Signal<Local, Bits<64>>,
    rcnt: Signal<Local, Bits<64>>,
    rnrr: Signal<Local, Bits<64>>,
    rleft: Signal<Local, Bits<64>>,
    nleft: Signal<Local, Bits<64>>,
    // Request lanes.
    to: Signal<Local, Bits<64>>,
    aty: Signal<Local, Bits<64>>,
    a_port: Signal<Local, Bits<64>>,
    a_mtu: Signal<Local, Bits<64>>,
    a_pkey: Signal<Local, Bits<64>>,
    a_rd: Signal<Local, Bits<64>>,
    a_drd: Signal<Local, Bits<64>>,
    // Modify.
    creating: Signal<Local, Bit>,
    tsel: Signal<Local, Bits<64>>,
    row: Signal<Local, Bits<8>>,
    rom_index: Signal<Local, Bits<8>>,
    rule_req: Signal<Local, Bits<21>>,
    rule_allowed: Signal<Local, Bits<21>>,
    bad_mask: Signal<Local, Bit>,
    bad_values: Signal<Local, Bit>,
    modify_status: Signal<Local, Bits<8>>,
    sel_cr0: Signal<Local, Bits<64>>,
    sel_access: Signal<Local, Bits<64>>,
    sel_port: Signal<Local, Bits<64>>,
    sel_mtu: Signal<Local, Bits<64>>,
    sel_sqdn: Signal<Local, Bits<64>>,
    sel_qkey: Signal<Local, Bits<64>>,
    sel_dqpn: Signal<Local, Bits<64>>,
    sel_rqpsn: Signal<Local, Bits<64>>,
    sel_sqpsn: Signal<Local, Bits<64>>,
    sel_timeout: Signal<Local, Bits<64>>,
    sel_retry: Signal<Local, Bits<64>>,
    sel_rnr: Signal<Local, Bits<64>>,
    sel_minrnr: Signal<Local, Bits<64>>,
    sel_cr4: Signal<Local, Bits<64>>,
    sel_cr5: Signal<Local, Bits<64>>,
    sel_rd: Signal<Local, Bits<64>>,
    sel_drd: Signal<Local, Bits<64>>,
    sel_av: Signal<Local, Bits<64>>,
    sel_pkey: Signal<Local, Bits<64>>,
    mk0: Signal<Local, Bits<64>>,
    mk1: Signal<Local, Bits<64>>,
    mk2: Signal<Local, Bits<64>>,
    mk3: Signal<Local, Bits<64>>,
    mk4: Signal<Local, Bits<64>>,
    mk5: Signal<Local, Bits<64>>,
    mk6: Signal<Local, Bits<64>>,
    // Data path.
    delta: Signal<Local, Bits<64>>,
    psn_class: Signal<Local, Bits<2>>,
    w2_send: Signal<Local, Bits<64>>,
    w2_recv: Signal<Local, Bits<64>>,
    w3_recv: Signal<Local, Bits<64>>,
    w3_retry: Signal<Local, Bits<64>>,
    w3_rnr: Signal<Local, Bits<64>>,
    w3_ack: Signal<Local, Bits<64>>,
    w0_err: Signal<Local, Bits<64>>,
    w0_sqe: Signal<Local, Bits<64>>,
    // Result.
    status: Signal<Local, Bits<8>>,
    x0: Signal<Local, Bits<64>>,
    x1: Signal<Local, Bits<64>>,
    x2: Signal<Local, Bits<64>>,
    x3: Signal<Local, Bits<64>>,
    x4: Signal<Local, Bits<64>>,
    x5: Signal<Local, Bits<64>>,
    x6: Signal<Local, Bits<64>>,
    changed: Signal<Local, Bit>,
    /// A modify to RESET that will succeed: FLUSH before EXEC.
    flush: Signal<Local, Bit>,

    // Constants, each derived from the layout, the table or the enums.
    one_line: Constant<Bits<LINES>>,
    zero: Constant<Bits<64>>,
    one: Constant<Bits<64>>,
    one4: Constant<Bits<4>>,
    last_beat: Constant<Bits<4>>,
    fsm_idle: Constant<Bits<3>>,
    fsm_lookup: Constant<Bits<3>>,
    fsm_writeback: Constant<Bits<3>>,
    fsm_fill: Constant<Bits<3>>,
    fsm_exec: Constant<Bits<3>>,
    fsm_flush: Constant<Bits<3>>,
    /// Every attribute bit but STATE.
    not_state: Constant<Bits<21>>,
    zero8: Constant<Bits<8>>,
    zero44: Constant<Bits<44>>,
    b0: Constant<Bits<4>>,
    b1: Constant<Bits<4>>,
    b2: Constant<Bits<4>>,
    b3: Constant<Bits<4>>,
    b4: Constant<Bits<4>>,
    b5: Constant<Bits<4>>,
    b6: Constant<Bits<4>>,
    op_modify: Constant<Bits<3>>,
    op_query: Constant<Bits<3>>,
    op_send_psn: Constant<Bits<3>>,
    op_recv_psn: Constant<Bits<3>>,
    op_retry: Constant<Bits<3>>,
    op_ack: Constant<Bits<3>>,
    op_send_error: Constant<Bits<3>>,
    ok: Constant<Bits<8>>,
    bad_op: Constant<Bits<8>>,
    bad_param: Constant<Bits<8>>,
    bad_qp_state: Constant<Bits<8>>,
    in_sequence: Constant<Bits<2>>,
    duplicate: Constant<Bits<2>>,
    out_of_sequence: Constant<Bits<2>>,
    s_reset: Constant<Bits<64>>,
    s_init: Constant<Bits<64>>,
    s_rtr: Constant<Bits<64>>,
    s_rts: Constant<Bits<64>>,
    s_sqe: Constant<Bits<64>>,
    s_sqd: Constant<Bits<64>>,
    s_err: Constant<Bits<64>>,
    t_rc: Constant<Bits<64>>,
    t_uc: Constant<Bits<64>>,
    t_ud: Constant<Bits<64>>,
    row_uc: Constant<Bits<8>>,
    row_ud: Constant<Bits<8>>,
    row_bad: Constant<Bits<8>>,
    sh_row_to: Constant<Bits<6>>,
    sh_row_from: Constant<Bits<6>>,
    ports: Constant<Bits<64>>,
    pkeys: Constant<Bits<64>>,
    mtu_max: Constant<Bits<64>>,
    rd_max: Constant<Bits<64>>,
    count_max: Constant<Bits<64>>,
    psn_half: Constant<Bits<64>>,
    rnr_forever: Constant<Bits<64>>,
    sh_state: Constant<Bits<6>>,
    m_state: Constant<Bits<64>>,
    fm_state: Constant<Bits<64>>,
    err_in_place: Constant<Bits<64>>,
    sqe_in_place: Constant<Bits<64>>,
    sh_type: Constant<Bits<6>>,
    m_type: Constant<Bits<64>>,
    sh_port: Constant<Bits<6>>,
    m_port: Constant<Bits<64>>,
    sh_mtu: Constant<Bits<6>>,
    m_mtu: Constant<Bits<64>>,
    sh_pkey: Constant<Bits<6>>,
    m_pkey: Constant<Bits<64>>,
    sh_rd: Constant<Bits<6>>,
    m_rd: Constant<Bits<64>>,
    sh_drd: Constant<Bits<6>>,
    m_drd: Constant<Bits<64>>,
    sh_nsp: Constant<Bits<6>>,
    m_psn: Constant<Bits<64>>,
    fm_nsp: Constant<Bits<64>>,
    sh_epsn: Constant<Bits<6>>,
    fm_epsn: Constant<Bits<64>>,
    sh_msn: Constant<Bits<6>>,
    fm_msn: Constant<Bits<64>>,
    sh_rcnt: Constant<Bits<6>>,
    sh_rnrr: Constant<Bits<6>>,
    sh_rleft: Constant<Bits<6>>,
    sh_nleft: Constant<Bits<6>>,
    m_count3: Constant<Bits<64>>,
    fm_rleft: Constant<Bits<64>>,
    fm_nleft: Constant<Bits<64>>,
    cr0: Constant<Bits<64>>,
    cr4: Constant<Bits<64>>,
    cr5: Constant<Bits<64>>,
    am_access: Constant<Bits<64>>,
    am_port: Constant<Bits<64>>,
    am_mtu: Constant<Bits<64>>,
    am_sqdn: Constant<Bits<64>>,
    am_qkey: Constant<Bits<64>>,
    am_dqpn: Constant<Bits<64>>,
    am_rqpsn: Constant<Bits<64>>,
    am_sqpsn: Constant<Bits<64>>,
    am_timeout: Constant<Bits<64>>,
    am_retry: Constant<Bits<64>>,
    am_rnr: Constant<Bits<64>>,
    am_minrnr: Constant<Bits<64>>,
    am_rd: Constant<Bits<64>>,
    am_drd: Constant<Bits<64>>,
    am_av: Constant<Bits<64>>,
    am_pkey: Constant<Bits<64>>,
    zero_lines: Constant<Bits<LINES>>,
}

fn fixed(name: &str, word: usize) -> Field {
    crate::icm_layout::fixed("QPC", super::layout::FIELDS, name, word)
}

/// The mask an attribute sets in `word`, refusing a layout that spreads it
/// over a word the RTL does not merge for it.
fn attr_word(a: u32, word: usize) -> Constant<Bits<64>> {
    let m = attr_word_masks(a);
    for (i, w) in m.iter().enumerate() {
        assert!(
            i == word || *w == 0,
            "attribute {a:#x} sets word {i}; the QPC RTL merges it into word {word}"
        );
    }
    c64(m[word])
}

impl<const IDX: usize, const LINES: usize> QpcUnit<IDX, LINES> {
    /// Every signal at rest, every constant from the layout, table and enums.
    fn build() -> Self {
        let state = fixed("state", 0);
        let qp_type = fixed("qp_type", 0);
        let port = fixed("port", 0);
        let mtu = fixed("path_mtu", 0);
        let pkey = fixed("pkey_index", 6);
        let rd = fixed("max_rd_atomic", 5);
        let drd = fixed("max_dest_rd_atomic", 5);
        let nsp = fixed("next_send_psn", 2);
        let epsn = fixed("expected_psn", 2);
        let msn = fixed("msn", 3);
        let rcnt = fixed("retry_cnt", 3);
        let rnrr = fixed("rnr_retry", 3);
        let rleft = fixed("retry_left", 3);
        let nleft = fixed("rnr_left", 3);
        for f in [rcnt, rnrr, rleft, nleft] {
            assert_eq!(f.width, 3, "retry counters are 3 bits");
        }
        for f in [nsp, epsn, msn] {
            assert_eq!(f.width, 24, "PSNs and MSNs are 24 bits");
        }
        let cr = creation_word_masks();
        for (i, w) in cr.iter().enumerate() {
            assert!(
                matches!(i, 0 | 4 | 5) || *w == 0,
                "creation fields in word {i}"
            );
        }
        let sh = |f: Field| c::<6>(f.lsb as u64);
        let rules = (0..256u64).map(|i| {
            Bits::<44>::from(rom_word(
                (i >> 5) as u8,
                ((i >> 2) & 7) as u8,
                (i & 3) as usize,
            ))
        });
        QpcUnit {
            clock: Default::default(),
            reset: Default::default(),
            req_valid: Default::default(),
            req_ready: Default::default(),
            req_op: Default::default(),
            req_qpn: Default::default(),
            req_attr_mask: Default::default(),
            req_attr0: Default::default(),
            req_attr1: Default::default(),
            req_attr2: Default::default(),
            req_attr3: Default::default(),
            req_attr4: Default::default(),
            req_attr5: Default::default(),
            req_attr6: Default::default(),
            req_arg: Default::default(),
            req_last: Default::default(),
            req_rnr: Default::default(),
            resp_valid: Default::default(),
            resp_ready: Default::default(),
            resp_status: Default::default(),
            resp_class: Default::default(),
            resp_arg: Default::default(),
            resp_ctx0: Default::default(),
            resp_ctx1: Default::default(),
            resp_ctx2: Default::default(),
            resp_ctx3: Default::default(),
            resp_ctx4: Default::default(),
            resp_ctx5: Default::default(),
            resp_ctx6: Default::default(),
            icm_req_valid: Default::default(),
            icm_req_ready: Default::default(),
            icm_req_write: Default::default(),
            icm_req_entry: Default::default(),
            icm_req_beat: Default::default(),
            icm_req_data: Default::default(),
            icm_rsp_valid: Default::default(),
            icm_rsp_data: Default::default(),
            cache: Default::default(),
            rules: rules.into(),
            line_dirty: Default::default(),
            fsm: Default::default(),
            beat: Default::default(),
            got: Default::default(),
            out_valid: Default::default(),
            out_status: Default::default(),
            out_class: Default::default(),
            out_arg: Default::default(),
            out_ctx0: Default::default(),
            out_ctx1: Default::default(),
            out_ctx2: Default::default(),
            out_ctx3: Default::default(),
            out_ctx4: Default::default(),
            out_ctx5: Default::default(),
            out_ctx6: Default::default(),
            idx: Default::default(),
            onehot: Default::default(),
            hit: Default::default(),
            out_free: Default::default(),
            exec: Default::default(),
            fill_word: Default::default(),
            st: Default::default(),
            ty: Default::default(),
            nsp: Default::default(),
            epsn: Default::default(),
            msn: Default::default(),
            rcnt: Default::default(),
            rnrr: Default::default(),
            rleft: Default::default(),
            nleft: Default::default(),
            to: Default::default(),
            aty: Default::default(),
            a_port: Default::default(),
            a_mtu: Default::default(),
            a_pkey: Default::default(),
            a_rd: Default::default(),
            a_drd: Default::default(),
            creating: Default::default(),
            tsel: Default::default(),
            row: Default::default(),
            rom_index: Default::default(),
            rule_req: Default::default(),
            rule_allowed: Default::default(),
            bad_mask: Default::default(),
            bad_values: Default::default(),
            modify_status: Default::default(),
            sel_cr0: Default::default(),
            sel_access: Default::default(),
            sel_port: Default::default(),
            sel_mtu: Default::default(),
            sel_sqdn: Default::default(),
            sel_qkey: Default::default(),
            sel_dqpn: Default::default(),
            sel_rqpsn: Default::default(),
            sel_sqpsn: Default::default(),
            sel_timeout: Default::default(),
            sel_retry: Default::default(),
            sel_rnr: Default::default(),
            sel_minrnr: Default::default(),
            sel_cr4: Default::default(),
            sel_cr5: Default::default(),
            sel_rd: Default::default(),
            sel_drd: Default::default(),
            sel_av: Default::default(),
            sel_pkey: Default::default(),
            mk0: Default::default(),
            mk1: Default::default(),
            mk2: Default::default(),
            mk3: Default::default(),
            mk4: Default::default(),
            mk5: Default::default(),
            mk6: Default::default(),
            delta: Default::default(),
            psn_class: Default::default(),
            w2_send: Default::default(),
            w2_recv: Default::default(),
            w3_recv: Default::default(),
            w3_retry: Default::default(),
            w3_rnr: Default::default(),
            w3_ack: Default::default(),
            w0_err: Default::default(),
            w0_sqe: Default::default(),
            status: Default::default(),
            x0: Default::default(),
            x1: Default::default(),
            x2: Default::default(),
            x3: Default::default(),
            x4: Default::default(),
            x5: Default::default(),
            x6: Default::default(),
            changed: Default::default(),
            flush: Default::default(),
            one_line: c(1),
            zero: c64(0),
            one: c64(1),
            one4: c(1),
            last_beat: c(7),
            fsm_idle: c(FSM_IDLE),
            fsm_lookup: c(FSM_LOOKUP),
            fsm_writeback: c(FSM_WRITEBACK),
            fsm_fill: c(FSM_FILL),
            fsm_exec: c(FSM_EXEC),
            fsm_flush: c(FSM_FLUSH),
            not_state: c(((1u64 << attr::BITS) - 1) & !(attr::STATE as u64)),
            zero8: c(0),
            zero44: c(0),
            b0: c(0),
            b1: c(1),
            b2: c(2),
            b3: c(3),
            b4: c(4),
            b5: c(5),
            b6: c(6),
            op_modify: c(QpcOp::Modify as u64),
            op_query: c(QpcOp::Query as u64),
            op_send_psn: c(QpcOp::SendPsn as u64),
            op_recv_psn: c(QpcOp::RecvPsn as u64),
            op_retry: c(QpcOp::Retry as u64),
            op_ack: c(QpcOp::Ack as u64),
            op_send_error: c(QpcOp::SendError as u64),
            ok: c(status::OK as u64),
            bad_op: c(status::BAD_OP as u64),
            bad_param: c(status::BAD_PARAM as u64),
            bad_qp_state: c(status::BAD_QP_STATE as u64),
            in_sequence: c(PsnClass::InSequence as u64),
            duplicate: c(PsnClass::Duplicate as u64),
            out_of_sequence: c(PsnClass::OutOfSequence as u64),
            s_reset: c64(QpState::Reset as u64),
            s_init: c64(QpState::Init as u64),
            s_rtr: c64(QpState::Rtr as u64),
            s_rts: c64(QpState::Rts as u64),
            s_sqe: c64(QpState::Sqe as u64),
            s_sqd: c64(QpState::Sqd as u64),
            s_err: c64(QpState::Err as u64),
            t_rc: c64(QpType::Rc as u64),
            t_uc: c64(QpType::Uc as u64),
            t_ud: c64(QpType::Ud as u64),
            row_uc: c(QpType::table_row(QpType::Uc as u8) as u64),
            row_ud: c(QpType::table_row(QpType::Ud as u8) as u64),
            row_bad: c(3),
            sh_row_to: c(2),
            sh_row_from: c(5),
            ports: c64(limits::PORTS as u64),
            pkeys: c64(limits::PKEY_TABLE as u64),
            mtu_max: c64(5),
            rd_max: c64(limits::MAX_RD_ATOMIC as u64),
            count_max: c64(limits::MAX_PSN_COUNT as u64),
            psn_half: c64(1 << 23),
            rnr_forever: c64(7),
            sh_state: sh(state),
            m_state: c64(state.ones()),
            fm_state: c64(state.mask()),
            err_in_place: c64((QpState::Err as u64) << state.lsb),
            sqe_in_place: c64((QpState::Sqe as u64) << state.lsb),
            sh_type: sh(qp_type),
            m_type: c64(qp_type.ones()),
            sh_port: sh(port),
            m_port: c64(port.ones()),
            sh_mtu: sh(mtu),
            m_mtu: c64(mtu.ones()),
            sh_pkey: sh(pkey),
            m_pkey: c64(pkey.ones()),
            sh_rd: sh(rd),
            m_rd: c64(rd.ones()),
            sh_drd: sh(drd),
            m_drd: c64(drd.ones()),
            sh_nsp: sh(nsp),
            m_psn: c64(nsp.ones()),
            fm_nsp: c64(nsp.mask()),
            sh_epsn: sh(epsn),
            fm_epsn: c64(epsn.mask()),
            sh_msn: sh(msn),
            fm_msn: c64(msn.mask()),
            sh_rcnt: sh(rcnt),
            sh_rnrr: sh(rnrr),
            sh_rleft: sh(rleft),
            sh_nleft: sh(nleft),
            m_count3: c64(7),
            fm_rleft: c64(rleft.mask()),
            fm_nleft: c64(nleft.mask()),
            cr0: c64(cr[0]),
            cr4: c64(cr[4]),
            cr5: c64(cr[5]),
            am_access: attr_word(attr::ACCESS_FLAGS, 0),
            am_port: attr_word(attr::PORT, 0),
            am_mtu: attr_word(attr::PATH_MTU, 0),
            am_sqdn: attr_word(attr::EN_SQD_ASYNC_NOTIFY, 0),
            am_qkey: attr_word(attr::QKEY, 1),
            am_dqpn: attr_word(attr::DEST_QPN, 1),
            am_rqpsn: attr_word(attr::RQ_PSN, 2),
            am_sqpsn: attr_word(attr::SQ_PSN, 2),
            am_timeout: attr_word(attr::TIMEOUT, 3),
            am_retry: attr_word(attr::RETRY_CNT, 3),
            am_rnr: attr_word(attr::RNR_RETRY, 3),
            am_minrnr: attr_word(attr::MIN_RNR_TIMER, 3),
            am_rd: attr_word(attr::MAX_QP_RD_ATOMIC, 5),
            am_drd: attr_word(attr::MAX_DEST_RD_ATOMIC, 5),
            am_av: attr_word(attr::AV, 6),
            am_pkey: attr_word(attr::PKEY_INDEX, 6),
            zero_lines: c(0),
        }
    }
}

impl<const IDX: usize, const LINES: usize> Default for QpcUnit<IDX, LINES> {
    fn default() -> Self {
        assert_eq!(LINES, 1 << IDX, "LINES must be 2^IDX");
        // The attribute bits the RTL tests by number.
        assert_eq!(
            [
                attr::EN_SQD_ASYNC_NOTIFY,
                attr::ACCESS_FLAGS,
                attr::PKEY_INDEX,
                attr::PORT,
                attr::QKEY,
                attr::AV
            ],
            [1 << 2, 1 << 3, 1 << 4, 1 << 5, 1 << 6, 1 << 7]
        );
        assert_eq!(
            [
                attr::PATH_MTU,
                attr::TIMEOUT,
                attr::RETRY_CNT,
                attr::RNR_RETRY,
                attr::RQ_PSN,
                attr::MAX_QP_RD_ATOMIC
            ],
            [1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12, 1 << 13]
        );
        assert_eq!(
            [
                attr::MIN_RNR_TIMER,
                attr::SQ_PSN,
                attr::MAX_DEST_RD_ATOMIC,
                attr::DEST_QPN
            ],
            [1 << 15, 1 << 16, 1 << 17, 1 << 20]
        );
        Self::build()
    }
}

impl<const IDX: usize, const LINES: usize> Logic for QpcUnit<IDX, LINES> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, line_dirty, fsm, beat, got, out_valid, out_status, out_class, out_arg,
            out_ctx0, out_ctx1, out_ctx2, out_ctx3, out_ctx4, out_ctx5, out_ctx6
        );
        self.cache.clock.next = self.clock.val();
        self.rules.read_clock.next = self.clock.val();
        self.rules.write_clock.next = self.clock.val();
        self.rules.write_enable.next = false;
        self.rules.write_address.next = self.zero8.val();
        self.rules.write_data.next = self.zero44.val();

        // ---- Lookup --------------------------------------------------
        self.idx.next = self.req_qpn.val().get_bits::<IDX>(0);
        self.onehot.next = self.one_line.val() << self.idx.val();
        self.cache.line.next = self.idx.val();
        self.cache.entry.next = self.req_qpn.val();
        self.hit.next = self.cache.valid.val().get_bit(self.idx.val().index())
            & (self.cache.held.val() == self.req_qpn.val());
        self.out_free.next = !self.out_valid.q.val() | self.resp_ready.val();

        // ---- Context and request lanes -------------------------------
        self.st.next = (self.cache.words[0].val() >> self.sh_state.val()) & self.m_state.val();
        self.ty.next = (self.cache.words[0].val() >> self.sh_type.val()) & self.m_type.val();
        self.nsp.next = (self.cache.words[2].val() >> self.sh_nsp.val()) & self.m_psn.val();
        self.epsn.next = (self.cache.words[2].val() >> self.sh_epsn.val()) & self.m_psn.val();
        self.msn.next = (self.cache.words[3].val() >> self.sh_msn.val()) & self.m_psn.val();
        self.rcnt.next = (self.cache.words[3].val() >> self.sh_rcnt.val()) & self.m_count3.val();
        self.rnrr.next = (self.cache.words[3].val() >> self.sh_rnrr.val()) & self.m_count3.val();
        self.rleft.next = (self.cache.words[3].val() >> self.sh_rleft.val()) & self.m_count3.val();
        self.nleft.next = (self.cache.words[3].val() >> self.sh_nleft.val()) & self.m_count3.val();
        self.to.next = (self.req_attr0.val() >> self.sh_state.val()) & self.m_state.val();
        self.aty.next = (self.req_attr0.val() >> self.sh_type.val()) & self.m_type.val();
        self.a_port.next = (self.req_attr0.val() >> self.sh_port.val()) & self.m_port.val();
        self.a_mtu.next = (self.req_attr0.val() >> self.sh_mtu.val()) & self.m_mtu.val();
        self.a_pkey.next = (self.req_attr6.val() >> self.sh_pkey.val()) & self.m_pkey.val();
        self.a_rd.next = (self.req_attr5.val() >> self.sh_rd.val()) & self.m_rd.val();
        self.a_drd.next = (self.req_attr5.val() >> self.sh_drd.val()) & self.m_drd.val();

        // ---- Modify: rule lookup and checks --------------------------
        self.creating.next =
            (self.st.val() == self.s_reset.val()) & (self.to.val() == self.s_init.val());
        self.tsel.next = self.ty.val();
        if self.creating.val() {
            self.tsel.next = self.aty.val();
        }
        self.row.next = self.row_bad.val();
        if self.tsel.val() == self.t_rc.val() {
            self.row.next = self.zero8.val();
        }
        if self.tsel.val() == self.t_uc.val() {
            self.row.next = self.row_uc.val();
        }
        if self.tsel.val() == self.t_ud.val() {
            self.row.next = self.row_ud.val();
        }
        self.rom_index.next = (self.st.val().get_bits::<8>(0) << self.sh_row_from.val())
            | (self.to.val().get_bits::<8>(0) << self.sh_row_to.val())
            | self.row.val();
        self.rules.read_address.next = self.rom_index.val();
        self.rule_req.next = self.rules.read_data.val().get_bits::<21>(21);
        self.rule_allowed.next = self.rules.read_data.val().get_bits::<21>(0);
        self.bad_mask.next = ((self.req_attr_mask.val() & self.rule_req.val())
            != self.rule_req.val())
            | (self.req_attr_mask.val() & !self.rule_allowed.val()).any();
        self.bad_values.next = (self.req_attr_mask.val().get_bit(5)
            & ((self.a_port.val() == self.zero.val()) | (self.a_port.val() > self.ports.val())))
            | (self.req_attr_mask.val().get_bit(4) & (self.a_pkey.val() >= self.pkeys.val()))
            | (self.req_attr_mask.val().get_bit(8)
                & ((self.a_mtu.val() == self.zero.val())
                    | (self.a_mtu.val() > self.mtu_max.val())))
            | (self.req_attr_mask.val().get_bit(13) & (self.a_rd.val() > self.rd_max.val()))
            | (self.req_attr_mask.val().get_bit(17) & (self.a_drd.val() > self.rd_max.val()));
        self.modify_status.next = self.ok.val();
        if !self.rules.read_data.val().get_bit(43) {
            self.modify_status.next = self.bad_qp_state.val();
        } else if !self.rules.read_data.val().get_bit(42)
            | self.bad_mask.val()
            | self.bad_values.val()
        {
            self.modify_status.next = self.bad_param.val();
        }

        // ---- Modify: which bits of each word the request replaces ----
        self.sel_cr0.next = self.zero.val();
        self.sel_cr4.next = self.zero.val();
        self.sel_cr5.next = self.zero.val();
        if self.creating.val() {
            self.sel_cr0.next = self.cr0.val();
            self.sel_cr4.next = self.cr4.val();
            self.sel_cr5.next = self.cr5.val();
        }
        self.sel_sqdn.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(2) {
            self.sel_sqdn.next = self.am_sqdn.val();
        }
        self.sel_access.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(3) {
            self.sel_access.next = self.am_access.val();
        }
        self.sel_pkey.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(4) {
            self.sel_pkey.next = self.am_pkey.val();
        }
        self.sel_port.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(5) {
            self.sel_port.next = self.am_port.val();
        }
        self.sel_qkey.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(6) {
            self.sel_qkey.next = self.am_qkey.val();
        }
        self.sel_av.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(7) {
            self.sel_av.next = self.am_av.val();
        }
        self.sel_mtu.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(8) {
            self.sel_mtu.next = self.am_mtu.val();
        }
        self.sel_timeout.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(9) {
            self.sel_timeout.next = self.am_timeout.val();
        }
        self.sel_retry.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(10) {
            self.sel_retry.next = self.am_retry.val();
        }
        self.sel_rnr.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(11) {
            self.sel_rnr.next = self.am_rnr.val();
        }
        self.sel_rqpsn.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(12) {
            self.sel_rqpsn.next = self.am_rqpsn.val();
        }
        self.sel_rd.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(13) {
            self.sel_rd.next = self.am_rd.val();
        }
        self.sel_minrnr.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(15) {
            self.sel_minrnr.next = self.am_minrnr.val();
        }
        self.sel_sqpsn.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(16) {
            self.sel_sqpsn.next = self.am_sqpsn.val();
        }
        self.sel_drd.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(17) {
            self.sel_drd.next = self.am_drd.val();
        }
        self.sel_dqpn.next = self.zero.val();
        if self.req_attr_mask.val().get_bit(20) {
            self.sel_dqpn.next = self.am_dqpn.val();
        }
        self.mk0.next = self.fm_state.val()
            | self.sel_cr0.val()
            | self.sel_sqdn.val()
            | self.sel_access.val()
            | self.sel_port.val()
            | self.sel_mtu.val();
        self.mk1.next = self.sel_qkey.val() | self.sel_dqpn.val();
        self.mk2.next = self.sel_rqpsn.val() | self.sel_sqpsn.val();
        self.mk3.next = self.sel_timeout.val()
            | self.sel_retry.val()
            | self.sel_rnr.val()
            | self.sel_minrnr.val();
        self.mk4.next = self.sel_cr4.val();
        self.mk5.next = self.sel_cr5.val() | self.sel_rd.val() | self.sel_drd.val();
        self.mk6.next = self.sel_av.val() | self.sel_pkey.val();

        // ---- Data path -------------------------------------------------
        self.w2_send.next = (self.cache.words[2].val() & !self.fm_nsp.val())
            | (((self.nsp.val() + self.req_arg.val()) & self.m_psn.val()) << self.sh_nsp.val());
        self.delta.next = (self.req_arg.val() - self.epsn.val()) & self.m_psn.val();
        self.psn_class.next = self.out_of_sequence.val();
        if self.delta.val() == self.zero.val() {
            self.psn_class.next = self.in_sequence.val();
        } else if (self.delta.val() >= self.psn_half.val()) & (self.ty.val() == self.t_rc.val()) {
            self.psn_class.next = self.duplicate.val();
        }
        if self.ty.val() == self.t_ud.val() {
            self.psn_class.next = self.in_sequence.val();
        }
        self.w2_recv.next = self.cache.words[2].val();
        self.w3_recv.next = self.cache.words[3].val();
        if self.ty.val() != self.t_ud.val() {
            if self.psn_class.val() == self.in_sequence.val() {
                self.w2_recv.next = (self.cache.words[2].val() & !self.fm_epsn.val())
                    | (((self.epsn.val() + self.one.val()) & self.m_psn.val())
                        << self.sh_epsn.val());
                if self.req_last.val() {
                    self.w3_recv.next = (self.cache.words[3].val() & !self.fm_msn.val())
                        | (((self.msn.val() + self.one.val()) & self.m_psn.val())
                            << self.sh_msn.val());
                }
            } else if self.ty.val() == self.t_uc.val() {
                self.w2_recv.next = (self.cache.words[2].val() & !self.fm_epsn.val())
                    | (((self.req_arg.val() + self.one.val()) & self.m_psn.val())
                        << self.sh_epsn.val());
            }
        }
        self.w3_retry.next = (self.cache.words[3].val() & !self.fm_rleft.val())
            | (((self.rleft.val() - self.one.val()) & self.m_count3.val()) << self.sh_rleft.val());
        self.w3_rnr.next = (self.cache.words[3].val() & !self.fm_nleft.val())
            | (((self.nleft.val() - self.one.val()) & self.m_count3.val()) << self.sh_nleft.val());
        self.w3_ack.next = (self.cache.words[3].val()
            & !(self.fm_rleft.val() | self.fm_nleft.val()))
            | (self.rcnt.val() << self.sh_rleft.val())
            | (self.rnrr.val() << self.sh_nleft.val());
        self.w0_err.next =
            (self.cache.words[0].val() & !self.fm_state.val()) | self.err_in_place.val();
        self.w0_sqe.next =
            (self.cache.words[0].val() & !self.fm_state.val()) | self.sqe_in_place.val();

        // ---- Result: status and new words by op ----------------------
        self.status.next = self.ok.val();
        self.x0.next = self.cache.words[0].val();
        self.x1.next = self.cache.words[1].val();
        self.x2.next = self.cache.words[2].val();
        self.x3.next = self.cache.words[3].val();
        self.x4.next = self.cache.words[4].val();
        self.x5.next = self.cache.words[5].val();
        self.x6.next = self.cache.words[6].val();
        if self.req_op.val() == self.op_modify.val() {
            self.status.next = self.modify_status.val();
            if self.modify_status.val() == self.ok.val() {
                if self.to.val() == self.s_reset.val() {
                    self.x0.next = self.zero.val();
                    self.x1.next = self.zero.val();
                    self.x2.next = self.zero.val();
                    self.x3.next = self.zero.val();
                    self.x4.next = self.zero.val();
                    self.x5.next = self.zero.val();
                    self.x6.next = self.zero.val();
                } else {
                    self.x0.next = (self.cache.words[0].val() & !self.mk0.val())
                        | (self.req_attr0.val() & self.mk0.val());
                    self.x1.next = (self.cache.words[1].val() & !self.mk1.val())
                        | (self.req_attr1.val() & self.mk1.val());
                    self.x2.next = (self.cache.words[2].val() & !self.mk2.val())
                        | (self.req_attr2.val() & self.mk2.val());
                    self.x3.next = (self.cache.words[3].val() & !self.mk3.val())
                        | (self.req_attr3.val() & self.mk3.val());
                    self.x4.next = (self.cache.words[4].val() & !self.mk4.val())
                        | (self.req_attr4.val() & self.mk4.val());
                    self.x5.next = (self.cache.words[5].val() & !self.mk5.val())
                        | (self.req_attr5.val() & self.mk5.val());
                    self.x6.next = (self.cache.words[6].val() & !self.mk6.val())
                        | (self.req_attr6.val() & self.mk6.val());
                }
            }
        } else if self.req_op.val() == self.op_query.val() {
        } else if self.req_op.val() == self.op_send_psn.val() {
            if self.st.val() != self.s_rts.val() {
                self.status.next = self.bad_qp_state.val();
            } else if (self.req_arg.val() == self.zero.val())
                | (self.req_arg.val() > self.count_max.val())
            {
                self.status.next = self.bad_param.val();
            } else {
                self.x2.next = self.w2_send.val();
            }
        } else if self.req_op.val() == self.op_recv_psn.val() {
            if (self.st.val() != self.s_rtr.val())
                & (self.st.val() != self.s_rts.val())
                & (self.st.val() != self.s_sqd.val())
                & (self.st.val() != self.s_sqe.val())
            {
                self.status.next = self.bad_qp_state.val();
            } else if self.req_arg.val() > self.m_psn.val() {
                self.status.next = self.bad_param.val();
            } else {
                self.x2.next = self.w2_recv.val();
                self.x3.next = self.w3_recv.val();
            }
        } else if (self.req_op.val() == self.op_retry.val())
            | (self.req_op.val() == self.op_ack.val())
        {
            if (self.st.val() != self.s_rts.val()) & (self.st.val() != self.s_sqd.val()) {
                self.status.next = self.bad_qp_state.val();
            } else if self.ty.val() != self.t_rc.val() {
                self.status.next = self.bad_param.val();
            } else if self.req_op.val() == self.op_ack.val() {
                self.x3.next = self.w3_ack.val();
            } else if self.req_rnr.val() {
                if self.rnrr.val() != self.rnr_forever.val() {
                    if self.nleft.val() == self.zero.val() {
                        self.x0.next = self.w0_err.val();
                    } else {
                        self.x3.next = self.w3_rnr.val();
                    }
                }
            } else if self.rleft.val() == self.zero.val() {
                self.x0.next = self.w0_err.val();
            } else {
                self.x3.next = self.w3_retry.val();
            }
        } else if self.req_op.val() == self.op_send_error.val() {
            if self.st.val() == self.s_rts.val() {
                if self.ty.val() == self.t_rc.val() {
                    self.x0.next = self.w0_err.val();
                } else {
                    self.x0.next = self.w0_sqe.val();
                }
            } else if self.st.val() == self.s_sqd.val() {
                self.x0.next = self.w0_err.val();
            } else if (self.st.val() != self.s_sqe.val()) & (self.st.val() != self.s_err.val()) {
                self.status.next = self.bad_qp_state.val();
            }
        } else {
            self.status.next = self.bad_op.val();
        }
        self.changed.next = (self.x0.val() != self.cache.words[0].val())
            | (self.x1.val() != self.cache.words[1].val())
            | (self.x2.val() != self.cache.words[2].val())
            | (self.x3.val() != self.cache.words[3].val())
            | (self.x4.val() != self.cache.words[4].val())
            | (self.x5.val() != self.cache.words[5].val())
            | (self.x6.val() != self.cache.words[6].val());

        // A modify to RESET succeeds whatever the state when it names no
        // attribute but STATE. mlx4 frees the QP's ICM after 2RST_QP, so
        // the zeroed context goes to ICM before the response and the line
        // is dropped: nothing is written back there, nor read from the
        // cache, later.
        self.flush.next = (self.req_op.val() == self.op_modify.val())
            & (self.to.val() == self.s_reset.val())
            & !(self.req_attr_mask.val() & self.not_state.val()).any();

        // ---- Control ---------------------------------------------------
        self.exec.next = (self.fsm.q.val() == self.fsm_exec.val()) & !self.reset.val();
        self.fill_word.next = self.got.q.val();
        self.req_ready.next = self.exec.val();
        self.icm_req_valid.next = false;
        self.icm_req_write.next = false;
        self.icm_req_entry.next = self.req_qpn.val();
        self.icm_req_beat.next = self.beat.q.val().get_bits::<3>(0);
        self.icm_req_data.next = self.zero.val();
        if self.beat.q.val() == self.b0.val() {
            self.icm_req_data.next = self.cache.words[0].val();
        }
        if self.beat.q.val() == self.b1.val() {
            self.icm_req_data.next = self.cache.words[1].val();
        }
        if self.beat.q.val() == self.b2.val() {
            self.icm_req_data.next = self.cache.words[2].val();
        }
        if self.beat.q.val() == self.b3.val() {
            self.icm_req_data.next = self.cache.words[3].val();
        }
        if self.beat.q.val() == self.b4.val() {
            self.icm_req_data.next = self.cache.words[4].val();
        }
        if self.beat.q.val() == self.b5.val() {
            self.icm_req_data.next = self.cache.words[5].val();
        }
        if self.beat.q.val() == self.b6.val() {
            self.icm_req_data.next = self.cache.words[6].val();
        }

        // Line writes: the executed request's words, or a filling beat.
        self.cache.write_words[0].next = self.x0.val();
        self.cache.write_words[1].next = self.x1.val();
        self.cache.write_words[2].next = self.x2.val();
        self.cache.write_words[3].next = self.x3.val();
        self.cache.write_words[4].next = self.x4.val();
        self.cache.write_words[5].next = self.x5.val();
        self.cache.write_words[6].next = self.x6.val();
        self.cache.write.next = self.exec.val();
        if self.fsm.q.val() == self.fsm_flush.val() {
            self.icm_req_data.next = self.zero.val();
            self.cache.write.next = true;
            self.cache.write_words[0].next = self.zero.val();
            self.cache.write_words[1].next = self.zero.val();
            self.cache.write_words[2].next = self.zero.val();
            self.cache.write_words[3].next = self.zero.val();
            self.cache.write_words[4].next = self.zero.val();
            self.cache.write_words[5].next = self.zero.val();
            self.cache.write_words[6].next = self.zero.val();
        }
        self.cache.fill.next = false;
        self.cache.fill_word.next = self.fill_word.val().get_bits::<3>(0);
        self.cache.fill_data.next = self.icm_rsp_data.val();
        self.cache.fill_done.next = self.fill_word.val() == self.last_beat.val();
        self.cache.drop.next = false;
        self.cache.clear.next = self.reset.val();

        if self.out_valid.q.val() & self.resp_ready.val() {
            self.out_valid.d.next = false;
        }
        if self.exec.val() {
            self.out_valid.d.next = true;
            self.out_status.d.next = self.status.val();
            self.out_class.d.next = self.in_sequence.val();
            self.out_arg.d.next = self.zero.val();
            if self.status.val() == self.ok.val() {
                if self.req_op.val() == self.op_recv_psn.val() {
                    self.out_class.d.next = self.psn_class.val();
                }
                if self.req_op.val() == self.op_send_psn.val() {
                    self.out_arg.d.next = self.nsp.val();
                }
            }
            self.out_ctx0.d.next = self.x0.val();
            self.out_ctx1.d.next = self.x1.val();
            self.out_ctx2.d.next = self.x2.val();
            self.out_ctx3.d.next = self.x3.val();
            self.out_ctx4.d.next = self.x4.val();
            self.out_ctx5.d.next = self.x5.val();
            self.out_ctx6.d.next = self.x6.val();
            if self.changed.val() {
                self.line_dirty.d.next = self.line_dirty.q.val() | self.onehot.val();
            }
        }

        if self.fsm.q.val() == self.fsm_idle.val() {
            if self.req_valid.val() & self.out_free.val() {
                self.fsm.d.next = self.fsm_lookup.val();
            }
        } else if self.fsm.q.val() == self.fsm_exec.val() {
            self.fsm.d.next = self.fsm_idle.val();
        } else if self.fsm.q.val() == self.fsm_lookup.val() {
            self.fsm.d.next = self.fsm_exec.val();
            if !self.hit.val() {
                self.beat.d.next = self.b0.val();
                self.got.d.next = self.b0.val();
                if self.cache.valid.val().get_bit(self.idx.val().index())
                    & self.line_dirty.q.val().get_bit(self.idx.val().index())
                {
                    self.fsm.d.next = self.fsm_writeback.val();
                } else {
                    self.fsm.d.next = self.fsm_fill.val();
                }
            } else if self.flush.val() {
                self.beat.d.next = self.b0.val();
                self.fsm.d.next = self.fsm_flush.val();
            }
        } else if self.fsm.q.val() == self.fsm_flush.val() {
            // FLUSH: eight zero beats to the QP's entry; the line's words
            // zeroed (they read back zero long before the last beat, and
            // EXEC then moves RESET to RESET), the line clean and, with the
            // last beat, dropped.
            self.icm_req_valid.next = true;
            self.icm_req_write.next = true;
            self.line_dirty.d.next = self.line_dirty.q.val() & !self.onehot.val();
            if self.icm_req_ready.val() {
                self.beat.d.next = self.beat.q.val() + self.one4.val();
                if self.beat.q.val() == self.last_beat.val() {
                    self.beat.d.next = self.b0.val();
                    self.cache.drop.next = true;
                    self.fsm.d.next = self.fsm_exec.val();
                }
            }
        } else if self.fsm.q.val() == self.fsm_writeback.val() {
            self.icm_req_valid.next = true;
            self.icm_req_write.next = true;
            self.icm_req_entry.next = self.cache.held.val();
            if self.icm_req_ready.val() {
                self.beat.d.next = self.beat.q.val() + self.one4.val();
                if self.beat.q.val() == self.last_beat.val() {
                    self.beat.d.next = self.b0.val();
                    self.fsm.d.next = self.fsm_fill.val();
                }
            }
        } else if self.fsm.q.val() == self.fsm_fill.val() {
            // FILL: issue the eight reads while taking the answers.
            if !self.beat.q.val().get_bit(3) {
                self.icm_req_valid.next = true;
                if self.icm_req_ready.val() {
                    self.beat.d.next = self.beat.q.val() + self.one4.val();
                }
            }
            if self.icm_rsp_valid.val() {
                self.got.d.next = self.got.q.val() + self.one4.val();
                self.cache.fill.next = true;
                if self.fill_word.val() == self.last_beat.val() {
                    self.line_dirty.d.next = self.line_dirty.q.val() & !self.onehot.val();
                    self.fsm.d.next = self.fsm_idle.val();
                }
            }
        }

        if self.reset.val() {
            self.fsm.d.next = self.fsm_idle.val();
            self.out_valid.d.next = false;
            self.line_dirty.d.next = self.zero_lines.val();
        }

        self.resp_valid.next = self.out_valid.q.val();
        self.resp_status.next = self.out_status.q.val();
        self.resp_class.next = self.out_class.q.val();
        self.resp_arg.next = self.out_arg.q.val();
        self.resp_ctx0.next = self.out_ctx0.q.val();
        self.resp_ctx1.next = self.out_ctx1.q.val();
        self.resp_ctx2.next = self.out_ctx2.q.val();
        self.resp_ctx3.next = self.out_ctx3.q.val();
        self.resp_ctx4.next = self.out_ctx4.q.val();
        self.resp_ctx5.next = self.out_ctx5.q.val();
        self.resp_ctx6.next = self.out_ctx6.q.val();
    }
}
