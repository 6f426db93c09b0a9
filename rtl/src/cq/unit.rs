//! The CQ and EQ engine in rust-hdl.
//!
//! CQ contexts: a direct-mapped write-back cache of `LINES = 1 << IDX` of
//! them in front of ICM (the shared [`ContextCache`] of four-word lines,
//! dirty bits here), as in the QPC. EQ contexts: all eight in registers, so an event
//! finds its EQ (the lowest-numbered one whose MAP_EQ mask takes the type)
//! in one clock. CQEs and EQEs leave on the DMA port, four 8-byte beats
//! each, one beat per clock; interrupts on the MSI-X port.
//!
//! A request is held until the block answers it: **IDLE**, then for CQ
//! requests **LOOKUP** (with **WRITEBACK** and **FILL** on a miss), then
//! **EXEC** (every check and the new contexts, combinational), then
//! **MTT** (read the MTT entry of the page the CQE falls in: a queue's
//! context names its buffer by MTT index and page size, as mlx4's does)
//! and **CQE** (the CQE's beats), **EQE** (find room on the target EQ, or
//! report its overflow to the EQ that takes EQ_OVERFLOW), **MTT** again for
//! the EQE's page and **EQE_WRITE** (the EQE's beats, the EQ's producer
//! index, its interrupt) and **RESPOND**. HW2SW_CQ goes through **FLUSH**:
//! the freed context is written to ICM and its line dropped, so nothing of
//! it is written back later (mlx4 unmaps a table's ICM once its last object
//! is gone).
//! Arguments arrive as 64-bit lanes (`req_a` to `req_d`, per request as
//! [`super::lanes`] says) and CQE or EQE words, so the datapath never
//! widens a narrow signal; field positions come from [`super::layout`].

use super::layout::{cqc, cqe, eqc, eqe};
use super::{
    event, status, Arm, CqState, EqState, CQE_OPCODE_RESIZE, CQ_ERROR_OVERRUN, MAX_LOG_SIZE,
    NUM_CQS, NUM_EQS,
};
use crate::cache::ContextCache;
use crate::icm_layout::{c, c64, Field};
use rust_hdl::prelude::*;

/// EQs in the register file.
const EQS: usize = NUM_EQS as usize;

/// CQ context cache lines of the engine as built for simulation and
/// synthesis, written once: the tools and the tests read it.
pub const LINES: usize = 16;

/// The engine as built: a [`LINES`]-line CQ context cache.
pub type CqBuilt = CqUnit<{ crate::cache::index_bits(LINES) }, LINES>;

/// Opcodes on `req_op`.
pub mod op {
    pub const SW2HW_CQ: u64 = 0;
    pub const HW2SW_CQ: u64 = 1;
    pub const RESIZE: u64 = 2;
    pub const MODERATE: u64 = 3;
    pub const SW2HW_EQ: u64 = 4;
    pub const HW2SW_EQ: u64 = 5;
    pub const MAP_EQ: u64 = 6;
    pub const COMPLETE: u64 = 7;
    pub const SET_CI: u64 = 8;
    pub const ARM_CQ: u64 = 9;
    pub const TICK: u64 = 10;
    pub const EQ_DOORBELL: u64 = 11;
    pub const EVENT: u64 = 12;
}

/// What `resp_ctx` holds.
pub mod kind {
    pub const CQ: u64 = 0;
    pub const EQ: u64 = 1;
    pub const NONE: u64 = 2;
}

const S_IDLE: u64 = 0;
const S_LOOKUP: u64 = 1;
const S_WRITEBACK: u64 = 2;
const S_FILL: u64 = 3;
const S_EXEC: u64 = 4;
const S_CQE: u64 = 5;
const S_EQE: u64 = 6;
const S_EQE_WRITE: u64 = 7;
const S_RESPOND: u64 = 8;
const S_REROUTE: u64 = 9;
const S_MTT: u64 = 10;
const S_FLUSH: u64 = 11;

#[derive(LogicBlock)]
pub struct CqUnit<const IDX: usize, const LINES: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,

    pub req_valid: Signal<In, Bit>,
    pub req_ready: Signal<Out, Bit>,
    pub req_op: Signal<In, Bits<4>>,
    pub req_a: Signal<In, Bits<64>>,
    pub req_b: Signal<In, Bits<64>>,
    pub req_c: Signal<In, Bits<64>>,
    pub req_d: Signal<In, Bits<64>>,
    /// Complete: the CQE's words; Event: the EQE's words.
    pub req_e0: Signal<In, Bits<64>>,
    pub req_e1: Signal<In, Bits<64>>,
    pub req_e2: Signal<In, Bits<64>>,
    pub req_e3: Signal<In, Bits<64>>,

    pub resp_valid: Signal<Out, Bit>,
    pub resp_ready: Signal<In, Bit>,
    pub resp_status: Signal<Out, Bits<8>>,
    /// What `resp_ctx` holds: 0 a CQ context, 1 an EQ context, 2 nothing.
    pub resp_kind: Signal<Out, Bits<2>>,
    pub resp_ctx0: Signal<Out, Bits<64>>,
    pub resp_ctx1: Signal<Out, Bits<64>>,
    pub resp_ctx2: Signal<Out, Bits<64>>,
    pub resp_ctx3: Signal<Out, Bits<64>>,

    /// Host memory: 8 bytes at `dma_addr` (posted, never refused).
    pub dma_valid: Signal<Out, Bit>,
    pub dma_addr: Signal<Out, Bits<64>>,
    pub dma_data: Signal<Out, Bits<64>>,
    /// An MSI-X message for `irq_vector`.
    pub irq_valid: Signal<Out, Bit>,
    pub irq_vector: Signal<Out, Bits<6>>,

    /// ICM: table `icm_req_table` (0 the CQ contexts, 1 the MTT), entry
    /// `entry`, word `beat`.
    pub icm_req_valid: Signal<Out, Bit>,
    pub icm_req_table: Signal<Out, Bit>,
    pub icm_req_ready: Signal<In, Bit>,
    pub icm_req_write: Signal<Out, Bit>,
    pub icm_req_entry: Signal<Out, Bits<24>>,
    pub icm_req_beat: Signal<Out, Bits<3>>,
    pub icm_req_data: Signal<Out, Bits<64>>,
    pub icm_rsp_valid: Signal<In, Bit>,
    pub icm_rsp_data: Signal<In, Bits<64>>,

    cache: ContextCache<IDX, LINES, 4>,
    line_dirty: DFF<Bits<LINES>>,
    fsm: DFF<Bits<4>>,
    beat: DFF<Bits<3>>,
    got: DFF<Bits<3>>,
    st: DFF<Bits<8>>,
    nc0: DFF<Bits<64>>,
    nc1: DFF<Bits<64>>,
    nc2: DFF<Bits<64>>,
    nc3: DFF<Bits<64>>,
    have_cqe: DFF<Bit>,
    /// The CQE's offset in its queue and the queue's buffer word (MTT
    /// index and page size).
    cqe_off: DFF<Bits<64>>,
    cqe_w1: DFF<Bits<30>>,
    /// MTT translates an EQE (else the CQE); the bus address it gave.
    xl_eq: DFF<Bit>,
    entry_addr: DFF<Bits<64>>,
    cw0: DFF<Bits<64>>,
    cw1: DFF<Bits<64>>,
    cw2: DFF<Bits<64>>,
    cw3: DFF<Bits<64>>,
    have_ev: DFF<Bit>,
    ev_eqn: DFF<Bits<64>>,
    ew0: DFF<Bits<64>>,
    ew1: DFF<Bits<64>>,
    ew2: DFF<Bits<64>>,
    ew3: DFF<Bits<64>>,
    out_valid: DFF<Bit>,
    out_status: DFF<Bits<8>>,
    out_kind: DFF<Bits<2>>,
    out_ctx0: DFF<Bits<64>>,
    out_ctx1: DFF<Bits<64>>,
    out_ctx2: DFF<Bits<64>>,
    out_ctx3: DFF<Bits<64>>,
    /// The EQ contexts, a register file: word k of EQ n is `eq_wk[n]`.
    /// Registers rather than a RAM, because event routing reads every
    /// EQ's state and event mask in one clock.
    eq_w0: [DFF<Bits<64>>; EQS],
    eq_w1: [DFF<Bits<64>>; EQS],
    eq_w2: [DFF<Bits<64>>; EQS],
    eq_w3: [DFF<Bits<64>>; EQS],

    // Decode and lookup.
    is_cq_op: Signal<Local, Bit>,
    is_eq_op: Signal<Local, Bit>,
    cq_range_bad: Signal<Local, Bit>,
    eq_range_bad: Signal<Local, Bit>,
    line: Signal<Local, Bits<IDX>>,
    onehot: Signal<Local, Bits<LINES>>,
    hit: Signal<Local, Bit>,
    out_free: Signal<Local, Bit>,
    // CQ lanes.
    c_state: Signal<Local, Bits<64>>,
    c_log: Signal<Local, Bits<5>>,
    c_arm: Signal<Local, Bits<64>>,
    c_sn: Signal<Local, Bits<64>>,
    c_eqn: Signal<Local, Bits<64>>,
    c_pi: Signal<Local, Bits<64>>,
    c_ci: Signal<Local, Bits<64>>,
    c_pend: Signal<Local, Bits<64>>,
    c_age: Signal<Local, Bits<64>>,
    c_cnt: Signal<Local, Bits<64>>,
    c_per: Signal<Local, Bits<64>>,
    c_size: Signal<Local, Bits<64>>,
    c_used: Signal<Local, Bits<64>>,
    new_size: Signal<Local, Bits<64>>,
    // EQ selected by the request (`qsel`) and by the pending event (`tsel`).
    qsel: Signal<Local, Bits<64>>,
    q0: Signal<Local, Bits<64>>,
    q1: Signal<Local, Bits<64>>,
    q2: Signal<Local, Bits<64>>,
    q3: Signal<Local, Bits<64>>,
    qn0: Signal<Local, Bits<64>>,
    qn1: Signal<Local, Bits<64>>,
    qn2: Signal<Local, Bits<64>>,
    qn3: Signal<Local, Bits<64>>,
    q_live: Signal<Local, Bit>,
    eq_write: Signal<Local, Bit>,
    tsel: Signal<Local, Bits<64>>,
    t0: Signal<Local, Bits<64>>,
    t1: Signal<Local, Bits<64>>,
    t2: Signal<Local, Bits<64>>,
    t3: Signal<Local, Bits<64>>,
    tn0: Signal<Local, Bits<64>>,
    tn1: Signal<Local, Bits<64>>,
    tn2: Signal<Local, Bits<64>>,
    tn3: Signal<Local, Bits<64>>,
    t_live: Signal<Local, Bit>,
    t_size: Signal<Local, Bits<64>>,
    t_log: Signal<Local, Bits<5>>,
    t_vec: Signal<Local, Bits<6>>,
    q_vec: Signal<Local, Bits<6>>,
    t_pi: Signal<Local, Bits<64>>,
    t_full: Signal<Local, Bit>,
    eqe_done: Signal<Local, Bit>,
    // Event routing.
    rtype: Signal<Local, Bits<64>>,
    rbit: Signal<Local, Bits<64>>,
    route_hit: Signal<Local, Bit>,
    route_eqn: Signal<Local, Bits<64>>,
    /// EQ n takes the event: armed for its type and live.
    takes: [Signal<Local, Bit>; EQS],
    /// An EQ below n takes it (so n does not); the last, any EQ does.
    taken_below: [Signal<Local, Bit>; EQS + 1],
    // EXEC results.
    status: Signal<Local, Bits<8>>,
    x0: Signal<Local, Bits<64>>,
    x1: Signal<Local, Bits<64>>,
    x2: Signal<Local, Bits<64>>,
    x3: Signal<Local, Bits<64>>,
    do_cqe: Signal<Local, Bit>,
    cqe_w3: Signal<Local, Bits<64>>,
    owner_in_place: Signal<Local, Bits<64>>,
    slot_off: Signal<Local, Bits<64>>,
    eqe_off: Signal<Local, Bits<64>>,
    // Translation through the MTT: the buffer word and offset in hand, the
    // page shift, the MTT entry to read, the in-page mask, the address.
    xl_w1: Signal<Local, Bits<30>>,
    xl_off: Signal<Local, Bits<64>>,
    xl_lp: Signal<Local, Bits<6>>,
    xl_shift: Signal<Local, Bits<6>>,
    xl_entry: Signal<Local, Bits<24>>,
    xl_mask: Signal<Local, Bits<64>>,
    xl_addr: Signal<Local, Bits<64>>,
    fire: Signal<Local, Bit>,
    cq_error: Signal<Local, Bit>,
    pend1: Signal<Local, Bits<64>>,
    arm_code: Signal<Local, Bits<64>>,
    arm_new: Signal<Local, Bits<64>>,
    ci_new: Signal<Local, Bits<64>>,
    age1: Signal<Local, Bits<64>>,
    beat_off: Signal<Local, Bits<64>>,

    zero: Constant<Bits<64>>,
    one: Constant<Bits<64>>,
    m16: Constant<Bits<64>>,
    m24: Constant<Bits<64>>,
    m8: Constant<Bits<64>>,
    m2: Constant<Bits<64>>,
    buf_max: Constant<Bits<64>>,
    c12: Constant<Bits<6>>,
    zero_lines: Constant<Bits<LINES>>,
    one_line: Constant<Bits<LINES>>,
    zero3: Constant<Bits<3>>,
    one3: Constant<Bits<3>>,
    last_beat: Constant<Bits<3>>,
    b2: Constant<Bits<3>>,
    sh5: Constant<Bits<6>>,
    sh8: Constant<Bits<6>>,
    c8: Constant<Bits<64>>,
    c16: Constant<Bits<64>>,
    c24: Constant<Bits<64>>,
    num_cqs: Constant<Bits<64>>,
    num_eqs: Constant<Bits<64>>,
    max_log: Constant<Bits<64>>,
    vectors: Constant<Bits<64>>,
    types: Constant<Bits<64>>,
    /// EQ n's number, to compare with.
    eq_ids: [Constant<Bits<64>>; EQS],
    s_idle: Constant<Bits<4>>,
    s_lookup: Constant<Bits<4>>,
    s_writeback: Constant<Bits<4>>,
    s_fill: Constant<Bits<4>>,
    s_exec: Constant<Bits<4>>,
    s_cqe: Constant<Bits<4>>,
    s_eqe: Constant<Bits<4>>,
    s_eqe_write: Constant<Bits<4>>,
    s_respond: Constant<Bits<4>>,
    s_reroute: Constant<Bits<4>>,
    s_mtt: Constant<Bits<4>>,
    s_flush: Constant<Bits<4>>,
    op_sw2hw_cq: Constant<Bits<4>>,
    op_hw2sw_cq: Constant<Bits<4>>,
    op_resize: Constant<Bits<4>>,
    op_moderate: Constant<Bits<4>>,
    op_sw2hw_eq: Constant<Bits<4>>,
    op_hw2sw_eq: Constant<Bits<4>>,
    op_map_eq: Constant<Bits<4>>,
    op_complete: Constant<Bits<4>>,
    op_set_ci: Constant<Bits<4>>,
    op_arm_cq: Constant<Bits<4>>,
    op_tick: Constant<Bits<4>>,
    op_eq_doorbell: Constant<Bits<4>>,
    op_event: Constant<Bits<4>>,
    kind_cq: Constant<Bits<2>>,
    kind_eq: Constant<Bits<2>>,
    kind_none: Constant<Bits<2>>,
    ok: Constant<Bits<8>>,
    bad_op: Constant<Bits<8>>,
    bad_param: Constant<Bits<8>>,
    bad_res_state: Constant<Bits<8>>,
    bad_index: Constant<Bits<8>>,
    bad_size: Constant<Bits<8>>,
    cq_not_ready: Constant<Bits<8>>,
    cq_in_error: Constant<Bits<8>>,
    cq_overrun: Constant<Bits<8>>,
    no_eq: Constant<Bits<8>>,
    cq_free: Constant<Bits<64>>,
    cq_ok: Constant<Bits<64>>,
    cq_err: Constant<Bits<64>>,
    q_ok: Constant<Bits<64>>,
    arm_none: Constant<Bits<64>>,
    arm_sol: Constant<Bits<64>>,
    arm_next: Constant<Bits<64>>,
    ev_comp: Constant<Bits<64>>,
    ev_cq_error: Constant<Bits<64>>,
    ev_overflow: Constant<Bits<64>>,
    cqe_resize: Constant<Bits<64>>,
    cq_error_overrun: Constant<Bits<64>>,
    // Field shifts, right-aligned masks and in-word masks.
    sh_cstate: Constant<Bits<6>>,
    sh_clog: Constant<Bits<6>>,
    sh_carm: Constant<Bits<6>>,
    sh_csn: Constant<Bits<6>>,
    sh_ceqn: Constant<Bits<6>>,
    sh_cpi: Constant<Bits<6>>,
    sh_cci: Constant<Bits<6>>,
    sh_ccnt: Constant<Bits<6>>,
    sh_cper: Constant<Bits<6>>,
    sh_cpend: Constant<Bits<6>>,
    sh_cage: Constant<Bits<6>>,
    m_cstate: Constant<Bits<64>>,
    m_clog: Constant<Bits<64>>,
    m_ceqn: Constant<Bits<64>>,
    fm_cstate: Constant<Bits<64>>,
    fm_carm: Constant<Bits<64>>,
    fm_csn: Constant<Bits<64>>,
    fm_cpi: Constant<Bits<64>>,
    fm_cci: Constant<Bits<64>>,
    fm_cmod: Constant<Bits<64>>,
    sh_qstate: Constant<Bits<6>>,
    sh_qlog: Constant<Bits<6>>,
    sh_qvec: Constant<Bits<6>>,
    sh_qpi: Constant<Bits<6>>,
    sh_qci: Constant<Bits<6>>,
    m_qstate: Constant<Bits<64>>,
    fm_qarmed: Constant<Bits<64>>,
    fm_qpi: Constant<Bits<64>>,
    fm_qci: Constant<Bits<64>>,
    sh_etype: Constant<Bits<6>>,
    fm_cqe_owner: Constant<Bits<64>>,
    sh_cqe_op: Constant<Bits<6>>,
    fm_eqe_owner: Constant<Bits<64>>,
    sh_d0: Constant<Bits<6>>,
    sh_d1: Constant<Bits<6>>,
}

fn fixed(fields: &[Field], name: &str, word: usize) -> Field {
    crate::icm_layout::fixed("CQ", fields, name, word)
}

impl<const IDX: usize, const LINES: usize> Default for CqUnit<IDX, LINES> {
    fn default() -> Self {
        assert_eq!(LINES, 1 << IDX, "LINES must be 2^IDX");
        let cq = |n: &str, w: usize| fixed(cqc::FIELDS, n, w);
        let eq = |n: &str, w: usize| fixed(eqc::FIELDS, n, w);
        let ce = |n: &str, w: usize| fixed(cqe::FIELDS, n, w);
        let ev = |n: &str, w: usize| fixed(eqe::FIELDS, n, w);
        assert_eq!(
            (
                cq("pi", 0).width,
                cq("ci", 2).width,
                eq("pi", 0).width,
                eq("ci", 2).width
            ),
            (24, 24, 24, 24)
        );
        assert_eq!(
            (
                cq("pending", 3).width,
                cq("age", 3).width,
                cq("arm", 0).width,
                cq("arm_sn", 0).width
            ),
            (16, 16, 2, 2)
        );
        // A queue's buffer word is the same in a CQ's and an EQ's context:
        // the MTT index from bit 0, the page size above it.
        let (mtt, lpage) = (cq("mtt_base", 1), cq("log_page", 1));
        assert_eq!((mtt.lsb, mtt.width, lpage.lsb), (0, 24, 24));
        assert_eq!(
            (eq("mtt_base", 1), eq("log_page", 1)),
            (
                Field {
                    name: "mtt_base",
                    ..mtt
                },
                Field {
                    name: "log_page",
                    ..lpage
                }
            )
        );
        assert_eq!(fixed(eqc::FIELDS, "event_mask", 3).width, 64);
        assert_eq!(
            (
                cq("log_size", 0).width,
                eq("log_size", 0).width,
                eq("vector", 0).width
            ),
            (5, 5, 6)
        );
        let sh = |f: Field| c::<6>(f.lsb as u64);
        CqUnit {
            clock: Default::default(),
            reset: Default::default(),
            req_valid: Default::default(),
            req_ready: Default::default(),
            req_op: Default::default(),
            req_a: Default::default(),
            req_b: Default::default(),
            req_c: Default::default(),
            req_d: Default::default(),
            req_e0: Default::default(),
            req_e1: Default::default(),
            req_e2: Default::default(),
            req_e3: Default::default(),
            resp_valid: Default::default(),
            resp_ready: Default::default(),
            resp_status: Default::default(),
            resp_kind: Default::default(),
            resp_ctx0: Default::default(),
            resp_ctx1: Default::default(),
            resp_ctx2: Default::default(),
            resp_ctx3: Default::default(),
            dma_valid: Default::default(),
            dma_addr: Default::default(),
            dma_data: Default::default(),
            irq_valid: Default::default(),
            irq_vector: Default::default(),
            icm_req_valid: Default::default(),
            icm_req_table: Default::default(),
            icm_req_ready: Default::default(),
            icm_req_write: Default::default(),
            icm_req_entry: Default::default(),
            icm_req_beat: Default::default(),
            icm_req_data: Default::default(),
            icm_rsp_valid: Default::default(),
            icm_rsp_data: Default::default(),
            cache: Default::default(),
            line_dirty: Default::default(),
            fsm: Default::default(),
            beat: Default::default(),
            got: Default::default(),
            st: Default::default(),
            nc0: Default::default(),
            nc1: Default::default(),
            nc2: Default::default(),
            nc3: Default::default(),
            have_cqe: Default::default(),
            cqe_off: Default::default(),
            cqe_w1: Default::default(),
            xl_eq: Default::default(),
            entry_addr: Default::default(),
            cw0: Default::default(),
            cw1: Default::default(),
            cw2: Default::default(),
            cw3: Default::default(),
            have_ev: Default::default(),
            ev_eqn: Default::default(),
            ew0: Default::default(),
            ew1: Default::default(),
            ew2: Default::default(),
            ew3: Default::default(),
            out_valid: Default::default(),
            out_status: Default::default(),
            out_kind: Default::default(),
            out_ctx0: Default::default(),
            out_ctx1: Default::default(),
            out_ctx2: Default::default(),
            out_ctx3: Default::default(),
            eq_w0: std::array::from_fn(|_| Default::default()),
            eq_w1: std::array::from_fn(|_| Default::default()),
            eq_w2: std::array::from_fn(|_| Default::default()),
            eq_w3: std::array::from_fn(|_| Default::default()),
            is_cq_op: Default::default(),
            is_eq_op: Default::default(),
            cq_range_bad: Default::default(),
            eq_range_bad: Default::default(),
            line: Default::default(),
            onehot: Default::default(),
            hit: Default::default(),
            out_free: Default::default(),
            c_state: Default::default(),
            c_log: Default::default(),
            c_arm: Default::default(),
            c_sn: Default::default(),
            c_eqn: Default::default(),
            c_pi: Default::default(),
            c_ci: Default::default(),
            c_pend: Default::default(),
            c_age: Default::default(),
            c_cnt: Default::default(),
            c_per: Default::default(),
            c_size: Default::default(),
            c_used: Default::default(),
            new_size: Default::default(),
            qsel: Default::default(),
            q0: Default::default(),
            q1: Default::default(),
            q2: Default::default(),
            q3: Default::default(),
            qn0: Default::default(),
            qn1: Default::default(),
            qn2: Default::default(),
            qn3: Default::default(),
            q_live: Default::default(),
            eq_write: Default::default(),
            tsel: Default::default(),
            t0: Default::default(),
            t1: Default::default(),
            t2: Default::default(),
            t3: Default::default(),
            tn0: Default::default(),
            tn1: Default::default(),
            tn2: Default::default(),
            tn3: Default::default(),
            t_live: Default::default(),
            t_size: Default::default(),
            t_log: Default::default(),
            t_vec: Default::default(),
            q_vec: Default::default(),
            t_pi: Default::default(),
            t_full: Default::default(),
            eqe_done: Default::default(),
            rtype: Default::default(),
            rbit: Default::default(),
            route_hit: Default::default(),
            route_eqn: Default::default(),
            takes: std::array::from_fn(|_| Default::default()),
            taken_below: std::array::from_fn(|_| Default::default()),
            status: Default::default(),
            x0: Default::default(),
            x1: Default::default(),
            x2: Default::default(),
            x3: Default::default(),
            do_cqe: Default::default(),
            cqe_w3: Default::default(),
            owner_in_place: Default::default(),
            slot_off: Default::default(),
            eqe_off: Default::default(),
            xl_w1: Default::default(),
            xl_off: Default::default(),
            xl_shift: Default::default(),
            xl_lp: Default::default(),
            xl_entry: Default::default(),
            xl_mask: Default::default(),
            xl_addr: Default::default(),
            fire: Default::default(),
            cq_error: Default::default(),
            pend1: Default::default(),
            arm_code: Default::default(),
            arm_new: Default::default(),
            ci_new: Default::default(),
            age1: Default::default(),
            beat_off: Default::default(),
            zero: c64(0),
            one: c64(1),
            m16: c64(0xffff),
            m24: c64(0xff_ffff),
            m8: c64(0xff),
            m2: c64(3),
            buf_max: c64(super::buffer_word(u32::MAX, super::MAX_LOG_PAGE)),
            c12: c(12),
            zero_lines: c(0),
            one_line: c(1),
            zero3: c(0),
            one3: c(1),
            last_beat: c(3),
            b2: c(2),
            sh5: c(5),
            sh8: c(8),
            c8: c64(8),
            c16: c64(16),
            c24: c64(24),
            num_cqs: c64(NUM_CQS as u64),
            num_eqs: c64(NUM_EQS as u64),
            max_log: c64(MAX_LOG_SIZE as u64),
            vectors: c64(64),
            types: c64(64),
            eq_ids: std::array::from_fn(|n| c64(n as u64)),
            s_idle: c(S_IDLE),
            s_lookup: c(S_LOOKUP),
            s_writeback: c(S_WRITEBACK),
            s_fill: c(S_FILL),
            s_exec: c(S_EXEC),
            s_cqe: c(S_CQE),
            s_eqe: c(S_EQE),
            s_eqe_write: c(S_EQE_WRITE),
            s_respond: c(S_RESPOND),
            s_reroute: c(S_REROUTE),
            s_mtt: c(S_MTT),
            s_flush: c(S_FLUSH),
            op_sw2hw_cq: c(op::SW2HW_CQ),
            op_hw2sw_cq: c(op::HW2SW_CQ),
            op_resize: c(op::RESIZE),
            op_moderate: c(op::MODERATE),
            op_sw2hw_eq: c(op::SW2HW_EQ),
            op_hw2sw_eq: c(op::HW2SW_EQ),
            op_map_eq: c(op::MAP_EQ),
            op_complete: c(op::COMPLETE),
            op_set_ci: c(op::SET_CI),
            op_arm_cq: c(op::ARM_CQ),
            op_tick: c(op::TICK),
            op_eq_doorbell: c(op::EQ_DOORBELL),
            op_event: c(op::EVENT),
            kind_cq: c(kind::CQ),
            kind_eq: c(kind::EQ),
            kind_none: c(kind::NONE),
            ok: c(status::OK as u64),
            bad_op: c(status::BAD_OP as u64),
            bad_param: c(status::BAD_PARAM as u64),
            bad_res_state: c(status::BAD_RES_STATE as u64),
            bad_index: c(status::BAD_INDEX as u64),
            bad_size: c(status::BAD_SIZE as u64),
            cq_not_ready: c(status::CQ_NOT_READY as u64),
            cq_in_error: c(status::CQ_IN_ERROR as u64),
            cq_overrun: c(status::CQ_OVERRUN as u64),
            no_eq: c(status::NO_EQ as u64),
            cq_free: c64(CqState::Free as u64),
            cq_ok: c64(CqState::Ok as u64),
            cq_err: c64(CqState::Error as u64),
            q_ok: c64(EqState::Ok as u64),
            arm_none: c64(Arm::None as u64),
            arm_sol: c64(Arm::Solicited as u64),
            arm_next: c64(Arm::Next as u64),
            ev_comp: c64(event::COMP as u64),
            ev_cq_error: c64(event::CQ_ERROR as u64),
            ev_overflow: c64(event::EQ_OVERFLOW as u64),
            cqe_resize: c64(CQE_OPCODE_RESIZE as u64),
            cq_error_overrun: c64(CQ_ERROR_OVERRUN as u64),
            sh_cstate: sh(cq("state", 0)),
            sh_clog: sh(cq("log_size", 0)),
            sh_carm: sh(cq("arm", 0)),
            sh_csn: sh(cq("arm_sn", 0)),
            sh_ceqn: sh(cq("eqn", 0)),
            sh_cpi: sh(cq("pi", 0)),
            sh_cci: sh(cq("ci", 2)),
            sh_ccnt: sh(cq("mod_count", 2)),
            sh_cper: sh(cq("mod_period", 2)),
            sh_cpend: sh(cq("pending", 3)),
            sh_cage: sh(cq("age", 3)),
            m_cstate: c64(cq("state", 0).ones()),
            m_clog: c64(cq("log_size", 0).ones()),
            m_ceqn: c64(cq("eqn", 0).ones()),
            fm_cstate: c64(cq("state", 0).mask()),
            fm_carm: c64(cq("arm", 0).mask()),
            fm_csn: c64(cq("arm_sn", 0).mask()),
            fm_cpi: c64(cq("pi", 0).mask()),
            fm_cci: c64(cq("ci", 2).mask()),
            fm_cmod: c64(cq("mod_count", 2).mask() | cq("mod_period", 2).mask()),
            sh_qstate: sh(eq("state", 0)),
            sh_qlog: sh(eq("log_size", 0)),
            sh_qvec: sh(eq("vector", 0)),
            sh_qpi: sh(eq("pi", 0)),
            sh_qci: sh(eq("ci", 2)),
            m_qstate: c64(eq("state", 0).ones()),
            fm_qarmed: c64(eq("armed", 0).mask()),
            fm_qpi: c64(eq("pi", 0).mask()),
            fm_qci: c64(eq("ci", 2).mask()),
            sh_etype: sh(ev("event_type", 0)),
            fm_cqe_owner: c64(ce("owner", 3).mask()),
            sh_cqe_op: sh(ce("opcode", 3)),
            fm_eqe_owner: c64(ev("owner", 3).mask()),
            sh_d0: sh(ev("d0", 0)),
            sh_d1: sh(ev("d1", 1)),
        }
    }
}

impl<const IDX: usize, const LINES: usize> Logic for CqUnit<IDX, LINES> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, line_dirty, fsm, beat, got, st, nc0, nc1, nc2, nc3, have_cqe, cqe_off,
            cqe_w1, xl_eq, entry_addr, cw0, cw1, cw2, cw3, have_ev, ev_eqn, ew0, ew1, ew2, ew3,
            out_valid, out_status, out_kind, out_ctx0, out_ctx1, out_ctx2, out_ctx3
        );
        for n in 0..EQS {
            self.eq_w0[n].clock.next = self.clock.val();
            self.eq_w1[n].clock.next = self.clock.val();
            self.eq_w2[n].clock.next = self.clock.val();
            self.eq_w3[n].clock.next = self.clock.val();
            self.eq_w0[n].d.next = self.eq_w0[n].q.val();
            self.eq_w1[n].d.next = self.eq_w1[n].q.val();
            self.eq_w2[n].d.next = self.eq_w2[n].q.val();
            self.eq_w3[n].d.next = self.eq_w3[n].q.val();
        }
        self.cache.clock.next = self.clock.val();

        // ---- Decode and lookup ---------------------------------------------
        self.is_eq_op.next = (self.req_op.val() == self.op_sw2hw_eq.val())
            | (self.req_op.val() == self.op_hw2sw_eq.val())
            | (self.req_op.val() == self.op_map_eq.val())
            | (self.req_op.val() == self.op_eq_doorbell.val());
        self.is_cq_op.next = !self.is_eq_op.val() & (self.req_op.val() < self.op_event.val());
        self.cq_range_bad.next = self.req_a.val() >= self.num_cqs.val();
        self.eq_range_bad.next = self.req_a.val() >= self.num_eqs.val();
        self.line.next = self.req_a.val().get_bits::<IDX>(0);
        self.onehot.next = self.one_line.val() << self.line.val();
        self.cache.line.next = self.line.val();
        self.cache.entry.next = self.req_a.val().get_bits::<24>(0);
        self.hit.next = self.cache.valid.val().get_bit(self.line.val().index())
            & (self.cache.held.val() == self.req_a.val().get_bits::<24>(0));
        self.out_free.next = !self.out_valid.q.val() | self.resp_ready.val();

        // ---- CQ lanes ---------------------------------------------------------
        self.c_state.next =
            (self.cache.words[0].val() >> self.sh_cstate.val()) & self.m_cstate.val();
        self.c_log.next = self.cache.words[0]
            .val()
            .get_bits::<5>(self.sh_clog.val().index());
        self.c_arm.next = (self.cache.words[0].val() >> self.sh_carm.val()) & self.m2.val();
        self.c_sn.next = (self.cache.words[0].val() >> self.sh_csn.val()) & self.m2.val();
        self.c_eqn.next = (self.cache.words[0].val() >> self.sh_ceqn.val()) & self.m_ceqn.val();
        self.c_pi.next = (self.cache.words[0].val() >> self.sh_cpi.val()) & self.m24.val();
        self.c_ci.next = (self.cache.words[2].val() >> self.sh_cci.val()) & self.m24.val();
        self.c_cnt.next = (self.cache.words[2].val() >> self.sh_ccnt.val()) & self.m16.val();
        self.c_per.next = (self.cache.words[2].val() >> self.sh_cper.val()) & self.m16.val();
        self.c_pend.next = (self.cache.words[3].val() >> self.sh_cpend.val()) & self.m16.val();
        self.c_age.next = (self.cache.words[3].val() >> self.sh_cage.val()) & self.m16.val();
        self.c_size.next = self.one.val() << self.c_log.val();
        self.c_used.next = (self.c_pi.val() - self.c_ci.val()) & self.m24.val();
        self.new_size.next = self.one.val() << self.req_c.val().get_bits::<6>(0);

        // ---- The request's EQ, and the pending event's ------------------------
        self.qsel.next = self.req_a.val();
        self.q0.next = self.zero.val();
        self.q1.next = self.zero.val();
        self.q2.next = self.zero.val();
        self.q3.next = self.zero.val();
        for n in 0..EQS {
            if self.qsel.val() == self.eq_ids[n].val() {
                self.q0.next = self.eq_w0[n].q.val();
                self.q1.next = self.eq_w1[n].q.val();
                self.q2.next = self.eq_w2[n].q.val();
                self.q3.next = self.eq_w3[n].q.val();
            }
        }
        self.q_live.next =
            ((self.q0.val() >> self.sh_qstate.val()) & self.m_qstate.val()) == self.q_ok.val();
        self.tsel.next = self.ev_eqn.q.val();
        self.t0.next = self.zero.val();
        self.t1.next = self.zero.val();
        self.t2.next = self.zero.val();
        self.t3.next = self.zero.val();
        for n in 0..EQS {
            if self.tsel.val() == self.eq_ids[n].val() {
                self.t0.next = self.eq_w0[n].q.val();
                self.t1.next = self.eq_w1[n].q.val();
                self.t2.next = self.eq_w2[n].q.val();
                self.t3.next = self.eq_w3[n].q.val();
            }
        }
        self.t_live.next =
            ((self.t0.val() >> self.sh_qstate.val()) & self.m_qstate.val()) == self.q_ok.val();
        self.t_log.next = self.t0.val().get_bits::<5>(self.sh_qlog.val().index());
        self.t_size.next = self.one.val() << self.t_log.val();
        self.t_vec.next = self.t0.val().get_bits::<6>(self.sh_qvec.val().index());
        self.q_vec.next = self.q0.val().get_bits::<6>(self.sh_qvec.val().index());
        self.t_pi.next = (self.t0.val() >> self.sh_qpi.val()) & self.m24.val();
        self.t_full.next = ((self.t_pi.val()
            - ((self.t2.val() >> self.sh_qci.val()) & self.m24.val()))
            & self.m24.val())
            >= self.t_size.val();

        // ---- Where a CQE or EQE goes: through its queue's MTT ------------------
        self.eqe_off.next =
            (self.t_pi.val() & (self.t_size.val() - self.one.val())) << self.sh5.val();
        // The buffer word's low 30 bits: the MTT index (24) and the page
        // size (4, then two bits the checks keep zero).
        self.xl_w1.next = self.cqe_w1.q.val();
        self.xl_off.next = self.cqe_off.q.val();
        if self.xl_eq.q.val() {
            self.xl_w1.next = self.t1.val().get_bits::<30>(0);
            self.xl_off.next = self.eqe_off.val();
        }
        // The page size's place is checked when the unit is built.
        self.xl_lp.next = self.xl_w1.val().get_bits::<6>(24);
        self.xl_shift.next = self.xl_lp.val() + self.c12.val();
        // The MTT index wraps at 24 bits, as the TPT's does.
        self.xl_entry.next = self.xl_w1.val().get_bits::<24>(0)
            + (self.xl_off.val().get_bits::<24>(12) >> self.xl_lp.val());
        self.xl_mask.next = (self.one.val() << self.xl_shift.val()) - self.one.val();
        self.xl_addr.next = (self.icm_rsp_data.val() & !self.xl_mask.val())
            | (self.xl_off.val() & self.xl_mask.val());

        // ---- Event routing: the lowest EQ taking the type ---------------------
        self.rtype.next = (self.ew0.q.val() >> self.sh_etype.val()) & self.m8.val();
        if self.fsm.q.val() == self.s_exec.val() {
            self.rtype.next = (self.req_e0.val() >> self.sh_etype.val()) & self.m8.val();
            if self.req_op.val() == self.op_complete.val() {
                self.rtype.next = self.ev_cq_error.val();
            }
        }
        self.rbit.next = self.zero.val();
        if self.rtype.val() < self.types.val() {
            self.rbit.next = self.one.val() << self.rtype.val().get_bits::<6>(0);
        }
        self.route_eqn.next = self.zero.val();
        self.taken_below[0].next = false;
        for n in 0..EQS {
            self.takes[n].next = (self.eq_w3[n].q.val() & self.rbit.val()).any()
                & (((self.eq_w0[n].q.val() >> self.sh_qstate.val()) & self.m_qstate.val())
                    == self.q_ok.val());
            self.taken_below[n + 1].next = self.taken_below[n].val() | self.takes[n].val();
            if self.takes[n].val() & !self.taken_below[n].val() {
                self.route_eqn.next = self.eq_ids[n].val();
            }
            // The last pass leaves it: some EQ takes the event.
            self.route_hit.next = self.taken_below[n + 1].val();
        }

        // ---- EXEC: checks and new contexts -------------------------------------
        self.status.next = self.ok.val();
        self.x0.next = self.cache.words[0].val();
        self.x1.next = self.cache.words[1].val();
        self.x2.next = self.cache.words[2].val();
        self.x3.next = self.cache.words[3].val();
        self.qn0.next = self.q0.val();
        self.qn1.next = self.q1.val();
        self.qn2.next = self.q2.val();
        self.qn3.next = self.q3.val();
        self.eq_write.next = false;
        self.do_cqe.next = false;
        self.fire.next = false;
        self.cq_error.next = false;
        self.cqe_w3.next = self.req_e3.val();
        self.owner_in_place.next = self.zero.val();
        if (self.c_pi.val() & self.c_size.val()).any() {
            self.owner_in_place.next = self.fm_cqe_owner.val();
        }
        self.slot_off.next =
            (self.c_pi.val() & (self.c_size.val() - self.one.val())) << self.sh5.val();
        self.pend1.next = self.c_pend.val();
        if self.c_pend.val() != self.m16.val() {
            self.pend1.next = self.c_pend.val() + self.one.val();
        }
        self.age1.next = self.c_age.val() + self.req_c.val();
        if self.age1.val() > self.m16.val() {
            self.age1.next = self.m16.val();
        }
        self.arm_code.next = self.req_d.val() & self.m8.val();
        self.ci_new.next = self.req_c.val() & self.m24.val();
        self.arm_new.next = self.c_arm.val();
        if (self.arm_code.val() == self.arm_next.val()) | (self.c_arm.val() != self.arm_next.val())
        {
            self.arm_new.next = self.arm_code.val();
        }
        if self.req_op.val() == self.op_sw2hw_cq.val() {
            if self.cq_range_bad.val() {
                self.status.next = self.bad_index.val();
            } else if self.c_state.val() != self.cq_free.val() {
                self.status.next = self.bad_res_state.val();
            } else if (self.req_c.val() > self.max_log.val())
                | (self.req_b.val() > self.buf_max.val())
                | (self.req_d.val() >= self.num_eqs.val())
            {
                self.status.next = self.bad_param.val();
            } else {
                self.x0.next = (self.cq_ok.val() << self.sh_cstate.val())
                    | (self.req_c.val() << self.sh_clog.val())
                    | (self.req_d.val() << self.sh_ceqn.val());
                self.x1.next = self.req_b.val();
                self.x2.next = self.zero.val();
                self.x3.next = self.zero.val();
            }
        } else if self.req_op.val() == self.op_hw2sw_cq.val() {
            if self.cq_range_bad.val() {
                self.status.next = self.bad_index.val();
            } else if self.c_state.val() == self.cq_free.val() {
                self.status.next = self.bad_res_state.val();
            } else {
                self.x0.next = self.zero.val();
                self.x1.next = self.zero.val();
                self.x2.next = self.zero.val();
                self.x3.next = self.zero.val();
            }
        } else if self.req_op.val() == self.op_resize.val() {
            if self.cq_range_bad.val() {
                self.status.next = self.bad_index.val();
            } else if self.c_state.val() != self.cq_ok.val() {
                self.status.next = self.bad_res_state.val();
            } else if (self.req_c.val() > self.max_log.val())
                | (self.req_b.val() > self.buf_max.val())
            {
                self.status.next = self.bad_param.val();
            } else if (self.c_used.val() >= self.c_size.val())
                | ((self.c_used.val() + self.one.val()) > self.new_size.val())
            {
                self.status.next = self.bad_size.val();
            } else {
                self.do_cqe.next = true;
                self.cqe_w3.next = self.cqe_resize.val() << self.sh_cqe_op.val();
                self.x0.next = (self.cache.words[0].val()
                    & !(self.fm_cpi.val() | (self.m_clog.val() << self.sh_clog.val())))
                    | (((self.c_pi.val() + self.one.val()) & self.m24.val()) << self.sh_cpi.val())
                    | (self.req_c.val() << self.sh_clog.val());
                self.x1.next = self.req_b.val();
            }
        } else if self.req_op.val() == self.op_moderate.val() {
            if self.cq_range_bad.val() {
                self.status.next = self.bad_index.val();
            } else if self.c_state.val() == self.cq_free.val() {
                self.status.next = self.bad_res_state.val();
            } else {
                self.x2.next = (self.cache.words[2].val() & !self.fm_cmod.val())
                    | (self.req_c.val() << self.sh_ccnt.val())
                    | (self.req_d.val() << self.sh_cper.val());
            }
        } else if self.req_op.val() == self.op_complete.val() {
            if self.cq_range_bad.val() {
                self.status.next = self.cq_not_ready.val();
            } else if self.c_state.val() == self.cq_err.val() {
                self.status.next = self.cq_in_error.val();
            } else if self.c_state.val() != self.cq_ok.val() {
                self.status.next = self.cq_not_ready.val();
            } else if self.c_used.val() >= self.c_size.val() {
                self.status.next = self.cq_overrun.val();
                self.cq_error.next = true;
                self.x0.next = (self.cache.words[0].val() & !self.fm_cstate.val())
                    | (self.cq_err.val() << self.sh_cstate.val());
            } else {
                self.do_cqe.next = true;
                self.x0.next = (self.cache.words[0].val() & !self.fm_cpi.val())
                    | (((self.c_pi.val() + self.one.val()) & self.m24.val()) << self.sh_cpi.val());
                if (self.c_arm.val() == self.arm_next.val())
                    | ((self.c_arm.val() == self.arm_sol.val()) & self.req_c.val().any())
                    | (self.c_pend.val() != self.zero.val())
                {
                    self.x3.next = (self.cache.words[3].val()
                        & !(self.m16.val() << self.sh_cpend.val()))
                        | (self.pend1.val() << self.sh_cpend.val());
                    if ((self.c_cnt.val() == self.zero.val())
                        & (self.c_per.val() == self.zero.val()))
                        | ((self.pend1.val() >= self.c_cnt.val())
                            & (self.c_cnt.val() != self.zero.val()))
                    {
                        self.fire.next = true;
                    }
                }
            }
        } else if self.req_op.val() == self.op_set_ci.val() {
            if self.cq_range_bad.val() {
                self.status.next = self.bad_index.val();
            } else if self.c_state.val() == self.cq_free.val() {
                self.status.next = self.bad_res_state.val();
            } else {
                self.x2.next = (self.cache.words[2].val() & !self.fm_cci.val())
                    | (self.ci_new.val() << self.sh_cci.val());
            }
        } else if self.req_op.val() == self.op_arm_cq.val() {
            if self.cq_range_bad.val() {
                self.status.next = self.bad_index.val();
            } else if self.c_state.val() == self.cq_free.val() {
                self.status.next = self.bad_res_state.val();
            } else if (self.arm_code.val() != self.arm_next.val())
                & (self.arm_code.val() != self.arm_sol.val())
            {
                self.status.next = self.bad_param.val();
            } else {
                self.x2.next = (self.cache.words[2].val() & !self.fm_cci.val())
                    | (self.ci_new.val() << self.sh_cci.val());
                if (((self.req_d.val() >> self.sh8.val()) & self.m2.val()) != self.c_sn.val())
                    | (self.c_arm.val() == self.arm_none.val())
                {
                    self.x0.next = (self.cache.words[0].val()
                        & !(self.fm_carm.val() | self.fm_csn.val()))
                        | (self.arm_new.val() << self.sh_carm.val())
                        | (((self.req_d.val() >> self.sh8.val()) & self.m2.val())
                            << self.sh_csn.val());
                    if (self.arm_new.val() == self.arm_next.val())
                        & (self.c_pi.val() != self.ci_new.val())
                        & (self.c_state.val() == self.cq_ok.val())
                    {
                        self.fire.next = true;
                    }
                }
            }
        } else if self.req_op.val() == self.op_tick.val() {
            if self.cq_range_bad.val() {
                self.status.next = self.bad_index.val();
            } else if (self.c_pend.val() != self.zero.val()) & (self.c_per.val() != self.zero.val())
            {
                self.x3.next = (self.cache.words[3].val()
                    & !(self.m16.val() << self.sh_cage.val()))
                    | (self.age1.val() << self.sh_cage.val());
                if self.age1.val() >= self.c_per.val() {
                    self.fire.next = true;
                }
            }
        } else if self.req_op.val() == self.op_sw2hw_eq.val() {
            if self.eq_range_bad.val() {
                self.status.next = self.bad_index.val();
            } else if self.q_live.val() {
                self.status.next = self.bad_res_state.val();
            } else if (self.req_c.val() > self.max_log.val())
                | (self.req_b.val() > self.buf_max.val())
                | (self.req_d.val() >= self.vectors.val())
            {
                self.status.next = self.bad_param.val();
            } else {
                self.eq_write.next = true;
                self.qn0.next = (self.q_ok.val() << self.sh_qstate.val())
                    | (self.req_c.val() << self.sh_qlog.val())
                    | (self.req_d.val() << self.sh_qvec.val());
                self.qn1.next = self.req_b.val();
                self.qn2.next = self.zero.val();
                self.qn3.next = self.zero.val();
            }
        } else if self.req_op.val() == self.op_hw2sw_eq.val() {
            if self.eq_range_bad.val() {
                self.status.next = self.bad_index.val();
            } else if !self.q_live.val() {
                self.status.next = self.bad_res_state.val();
            } else {
                self.eq_write.next = true;
                self.qn0.next = self.zero.val();
                self.qn1.next = self.zero.val();
                self.qn2.next = self.zero.val();
                self.qn3.next = self.zero.val();
            }
        } else if self.req_op.val() == self.op_map_eq.val() {
            if self.eq_range_bad.val() {
                self.status.next = self.bad_index.val();
            } else if !self.q_live.val() {
                self.status.next = self.bad_res_state.val();
            } else {
                self.eq_write.next = true;
                self.qn3.next = self.q3.val() | self.req_b.val();
                if self.req_c.val().any() {
                    self.qn3.next = self.q3.val() & !self.req_b.val();
                }
            }
        } else if self.req_op.val() == self.op_eq_doorbell.val() {
            if self.eq_range_bad.val() {
                self.status.next = self.bad_index.val();
            } else if !self.q_live.val() {
                self.status.next = self.bad_res_state.val();
            } else {
                self.eq_write.next = true;
                self.qn2.next =
                    (self.q2.val() & !self.fm_qci.val()) | (self.ci_new.val() << self.sh_qci.val());
                if self.req_d.val().any() {
                    self.qn0.next = self.q0.val() | self.fm_qarmed.val();
                    if ((self.q0.val() >> self.sh_qpi.val()) & self.m24.val()) != self.ci_new.val()
                    {
                        self.qn0.next = self.q0.val() & !self.fm_qarmed.val();
                    }
                }
            }
        } else if self.req_op.val() == self.op_event.val() {
            if !self.route_hit.val() {
                self.status.next = self.no_eq.val();
            }
        } else {
            self.status.next = self.bad_op.val();
        }
        // A completion event disarms the CQ and clears its moderation.
        if self.fire.val() {
            self.x0.next = self.x0.val() & !self.fm_carm.val();
            self.x3.next = self.zero.val();
        }

        self.beat_off.next = self.zero.val();
        if self.beat.q.val() == self.one3.val() {
            self.beat_off.next = self.c8.val();
        }
        if self.beat.q.val() == self.b2.val() {
            self.beat_off.next = self.c16.val();
        }
        if self.beat.q.val() == self.last_beat.val() {
            self.beat_off.next = self.c24.val();
        }

        // ---- Ports at rest --------------------------------------------------------
        self.req_ready.next = false;
        self.dma_valid.next = false;
        self.dma_addr.next = self.zero.val();
        self.dma_data.next = self.zero.val();
        self.irq_valid.next = false;
        self.irq_vector.next = self.q_vec.val();
        self.icm_req_valid.next = false;
        self.icm_req_table.next = false;
        self.icm_req_write.next = false;
        self.icm_req_entry.next = self.req_a.val().get_bits::<24>(0);
        self.icm_req_beat.next = self.beat.q.val();
        self.icm_req_data.next = self.cache.words[0].val();
        if self.beat.q.val() == self.one3.val() {
            self.icm_req_data.next = self.cache.words[1].val();
        }
        if self.beat.q.val() == self.b2.val() {
            self.icm_req_data.next = self.cache.words[2].val();
        }
        if self.beat.q.val() == self.last_beat.val() {
            self.icm_req_data.next = self.cache.words[3].val();
        }
        self.cache.write_words[0].next = self.x0.val();
        self.cache.write_words[1].next = self.x1.val();
        self.cache.write_words[2].next = self.x2.val();
        self.cache.write_words[3].next = self.x3.val();
        self.cache.write.next = false;
        self.cache.fill.next = false;
        self.cache.fill_word.next = self.got.q.val();
        self.cache.fill_data.next = self.icm_rsp_data.val();
        self.cache.fill_done.next = self.got.q.val() == self.last_beat.val();
        self.cache.drop.next = false;
        self.cache.clear.next = self.reset.val();
        self.eqe_done.next = false;
        self.tn0.next = self.t0.val();
        self.tn1.next = self.t1.val();
        self.tn2.next = self.t2.val();
        self.tn3.next = self.t3.val();
        if self.out_valid.q.val() & self.resp_ready.val() {
            self.out_valid.d.next = false;
        }

        // ---- The state machine -------------------------------------------------------
        if self.fsm.q.val() == self.s_idle.val() {
            if self.req_valid.val() & self.out_free.val() {
                self.fsm.d.next = self.s_exec.val();
                if self.is_cq_op.val() & !self.cq_range_bad.val() {
                    self.fsm.d.next = self.s_lookup.val();
                }
            }
        } else if self.fsm.q.val() == self.s_lookup.val() {
            self.fsm.d.next = self.s_exec.val();
            self.beat.d.next = self.zero3.val();
            self.got.d.next = self.zero3.val();
            if !self.hit.val() {
                self.fsm.d.next = self.s_fill.val();
                if self.cache.valid.val().get_bit(self.line.val().index())
                    & self.line_dirty.q.val().get_bit(self.line.val().index())
                {
                    self.fsm.d.next = self.s_writeback.val();
                }
            }
        } else if self.fsm.q.val() == self.s_writeback.val() {
            self.icm_req_valid.next = true;
            self.icm_req_write.next = true;
            self.icm_req_entry.next = self.cache.held.val();
            if self.icm_req_ready.val() {
                self.beat.d.next = self.beat.q.val() + self.one3.val();
                if self.beat.q.val() == self.last_beat.val() {
                    self.beat.d.next = self.zero3.val();
                    self.fsm.d.next = self.s_fill.val();
                }
            }
        } else if self.fsm.q.val() == self.s_fill.val() {
            if !self.beat.q.val().get_bit(2) {
                self.icm_req_valid.next = true;
                if self.icm_req_ready.val() {
                    self.beat.d.next = self.beat.q.val() + self.one3.val();
                }
            }
            if self.icm_rsp_valid.val() {
                self.got.d.next = self.got.q.val() + self.one3.val();
                self.cache.fill.next = true;
                if self.got.q.val() == self.last_beat.val() {
                    self.line_dirty.d.next = self.line_dirty.q.val() & !self.onehot.val();
                    self.fsm.d.next = self.s_idle.val();
                }
            }
        } else if self.fsm.q.val() == self.s_exec.val() {
            self.st.d.next = self.status.val();
            self.nc0.d.next = self.x0.val();
            self.nc1.d.next = self.x1.val();
            self.nc2.d.next = self.x2.val();
            self.nc3.d.next = self.x3.val();
            self.beat.d.next = self.zero3.val();
            if self.is_cq_op.val() & !self.cq_range_bad.val() {
                self.cache.write.next = true;
                self.line_dirty.d.next = self.line_dirty.q.val() | self.onehot.val();
            }
            if self.eq_write.val()
                & self.req_d.val().any()
                & (self.req_op.val() == self.op_eq_doorbell.val())
                & (((self.q0.val() >> self.sh_qpi.val()) & self.m24.val()) != self.ci_new.val())
            {
                self.irq_valid.next = true;
            }
            for n in 0..EQS {
                if self.eq_write.val() & (self.qsel.val() == self.eq_ids[n].val()) {
                    self.eq_w0[n].d.next = self.qn0.val();
                    self.eq_w1[n].d.next = self.qn1.val();
                    self.eq_w2[n].d.next = self.qn2.val();
                    self.eq_w3[n].d.next = self.qn3.val();
                }
            }
            self.have_cqe.d.next = self.do_cqe.val();
            // The CQE goes where the context had it (a resize's marker: the
            // old buffer).
            self.cqe_off.d.next = self.slot_off.val();
            self.cqe_w1.d.next = self.cache.words[1].val().get_bits::<30>(0);
            self.cw0.d.next = self.req_e0.val();
            self.cw1.d.next = self.req_e1.val();
            self.cw2.d.next = self.req_e2.val();
            self.cw3.d.next =
                (self.cqe_w3.val() & !self.fm_cqe_owner.val()) | self.owner_in_place.val();
            if self.req_op.val() == self.op_resize.val() {
                self.cw0.d.next = self.zero.val();
                self.cw1.d.next = self.zero.val();
                self.cw2.d.next = self.zero.val();
            }
            // The event this request raises, if any, and its EQ.
            self.have_ev.d.next = false;
            self.ev_eqn.d.next = self.route_eqn.val();
            self.ew0.d.next = self.req_e0.val();
            self.ew1.d.next = self.req_e1.val();
            self.ew2.d.next = self.req_e2.val();
            self.ew3.d.next = self.req_e3.val() & !self.fm_eqe_owner.val();
            if self.fire.val() {
                self.have_ev.d.next = true;
                self.ev_eqn.d.next = self.c_eqn.val();
                self.ew0.d.next = (self.ev_comp.val() << self.sh_etype.val())
                    | (self.req_a.val() << self.sh_d0.val());
                self.ew1.d.next = self.zero.val();
                self.ew2.d.next = self.zero.val();
                self.ew3.d.next = self.zero.val();
            }
            if self.cq_error.val() {
                self.have_ev.d.next = self.route_hit.val();
                self.ew0.d.next = (self.ev_cq_error.val() << self.sh_etype.val())
                    | (self.req_a.val() << self.sh_d0.val());
                self.ew1.d.next = self.cq_error_overrun.val() << self.sh_d1.val();
                self.ew2.d.next = self.zero.val();
                self.ew3.d.next = self.zero.val();
            }
            if (self.req_op.val() == self.op_event.val()) & self.route_hit.val() {
                self.have_ev.d.next = true;
            }
            self.fsm.d.next = self.s_respond.val();
            if (self.status.val() == self.ok.val()) & (self.req_op.val() == self.op_hw2sw_cq.val())
            {
                self.fsm.d.next = self.s_flush.val();
            }
            if (self.status.val() == self.ok.val()) | self.cq_error.val() {
                if self.do_cqe.val() {
                    self.xl_eq.d.next = false;
                    self.fsm.d.next = self.s_mtt.val();
                } else if self.fire.val()
                    | self.cq_error.val()
                    | (self.req_op.val() == self.op_event.val())
                {
                    self.fsm.d.next = self.s_eqe.val();
                }
            }
        } else if self.fsm.q.val() == self.s_flush.val() {
            // The freed (all-zero) context to ICM, four beats, then the line
            // is neither valid nor dirty.
            self.icm_req_valid.next = true;
            self.icm_req_write.next = true;
            self.icm_req_data.next = self.zero.val();
            if self.icm_req_ready.val() {
                self.beat.d.next = self.beat.q.val() + self.one3.val();
                if self.beat.q.val() == self.last_beat.val() {
                    self.beat.d.next = self.zero3.val();
                    self.cache.drop.next = true;
                    self.line_dirty.d.next = self.line_dirty.q.val() & !self.onehot.val();
                    self.fsm.d.next = self.s_respond.val();
                }
            }
        } else if self.fsm.q.val() == self.s_mtt.val() {
            // One ICM read (word 0 of the MTT entry), then its answer: on to
            // the CQE's or the EQE's beats.
            if !self.beat.q.val().any() {
                self.icm_req_valid.next = true;
                self.icm_req_table.next = true;
                self.icm_req_entry.next = self.xl_entry.val();
                if self.icm_req_ready.val() {
                    self.beat.d.next = self.one3.val();
                }
            }
            if self.icm_rsp_valid.val() {
                self.entry_addr.d.next = self.xl_addr.val();
                self.beat.d.next = self.zero3.val();
                self.fsm.d.next = self.s_cqe.val();
                if self.xl_eq.q.val() {
                    self.fsm.d.next = self.s_eqe_write.val();
                }
            }
        } else if self.fsm.q.val() == self.s_cqe.val() {
            self.dma_valid.next = true;
            self.dma_addr.next = self.entry_addr.q.val() + self.beat_off.val();
            self.dma_data.next = self.cw0.q.val();
            if self.beat.q.val() == self.one3.val() {
                self.dma_data.next = self.cw1.q.val();
            }
            if self.beat.q.val() == self.b2.val() {
                self.dma_data.next = self.cw2.q.val();
            }
            if self.beat.q.val() == self.last_beat.val() {
                self.dma_data.next = self.cw3.q.val();
            }
            self.beat.d.next = self.beat.q.val() + self.one3.val();
            if self.beat.q.val() == self.last_beat.val() {
                self.beat.d.next = self.zero3.val();
                self.fsm.d.next = self.s_respond.val();
                if self.have_ev.q.val() {
                    self.fsm.d.next = self.s_eqe.val();
                }
            }
        } else if self.fsm.q.val() == self.s_eqe.val() {
            // Room on the target EQ, or its overflow reported (once).
            self.fsm.d.next = self.s_respond.val();
            if self.have_ev.q.val() & self.t_live.val() {
                if !self.t_full.val() {
                    self.xl_eq.d.next = true;
                    self.fsm.d.next = self.s_mtt.val();
                } else if self.rtype.val() != self.ev_overflow.val() {
                    // Report the overflow instead, routed like any event.
                    self.ew0.d.next = (self.ev_overflow.val() << self.sh_etype.val())
                        | (self.tsel.val() << self.sh_d0.val());
                    self.ew1.d.next = self.zero.val();
                    self.ew2.d.next = self.zero.val();
                    self.ew3.d.next = self.zero.val();
                    self.fsm.d.next = self.s_reroute.val();
                }
            }
        } else if self.fsm.q.val() == self.s_reroute.val() {
            self.have_ev.d.next = self.route_hit.val();
            self.ev_eqn.d.next = self.route_eqn.val();
            self.fsm.d.next = self.s_eqe.val();
        } else if self.fsm.q.val() == self.s_eqe_write.val() {
            self.dma_valid.next = true;
            self.dma_addr.next = self.entry_addr.q.val() + self.beat_off.val();
            self.dma_data.next = self.ew0.q.val();
            if self.beat.q.val() == self.one3.val() {
                self.dma_data.next = self.ew1.q.val();
            }
            if self.beat.q.val() == self.b2.val() {
                self.dma_data.next = self.ew2.q.val();
            }
            if self.beat.q.val() == self.last_beat.val() {
                self.dma_data.next = self.ew3.q.val();
                if (self.t_pi.val() & self.t_size.val()).any() {
                    self.dma_data.next = self.ew3.q.val() | self.fm_eqe_owner.val();
                }
            }
            self.beat.d.next = self.beat.q.val() + self.one3.val();
            if self.beat.q.val() == self.last_beat.val() {
                self.eqe_done.next = true;
                self.tn0.next = (self.t0.val() & !(self.fm_qpi.val() | self.fm_qarmed.val()))
                    | (((self.t_pi.val() + self.one.val()) & self.m24.val()) << self.sh_qpi.val());
                if (self.t0.val() & self.fm_qarmed.val()).any() {
                    self.irq_valid.next = true;
                    self.irq_vector.next = self.t_vec.val();
                }
                self.fsm.d.next = self.s_respond.val();
            }
            for n in 0..EQS {
                if self.eqe_done.val() & (self.tsel.val() == self.eq_ids[n].val()) {
                    self.eq_w0[n].d.next = self.tn0.val();
                    self.eq_w1[n].d.next = self.tn1.val();
                    self.eq_w2[n].d.next = self.tn2.val();
                    self.eq_w3[n].d.next = self.tn3.val();
                }
            }
        } else if self.fsm.q.val() == self.s_respond.val() {
            self.out_valid.d.next = true;
            self.out_status.d.next = self.st.q.val();
            self.req_ready.next = true;
            self.fsm.d.next = self.s_idle.val();
            self.out_kind.d.next = self.kind_none.val();
            self.out_ctx0.d.next = self.zero.val();
            self.out_ctx1.d.next = self.zero.val();
            self.out_ctx2.d.next = self.zero.val();
            self.out_ctx3.d.next = self.zero.val();
            if self.is_cq_op.val() {
                self.out_kind.d.next = self.kind_cq.val();
                if !self.cq_range_bad.val() {
                    self.out_ctx0.d.next = self.nc0.q.val();
                    self.out_ctx1.d.next = self.nc1.q.val();
                    self.out_ctx2.d.next = self.nc2.q.val();
                    self.out_ctx3.d.next = self.nc3.q.val();
                }
            }
            if self.is_eq_op.val() {
                self.out_kind.d.next = self.kind_eq.val();
                self.out_ctx0.d.next = self.q0.val();
                self.out_ctx1.d.next = self.q1.val();
                self.out_ctx2.d.next = self.q2.val();
                self.out_ctx3.d.next = self.q3.val();
            }
        }

        if self.reset.val() {
            self.fsm.d.next = self.s_idle.val();
            self.out_valid.d.next = false;
            self.line_dirty.d.next = self.zero_lines.val();
            for n in 0..EQS {
                self.eq_w0[n].d.next = self.zero.val();
                self.eq_w1[n].d.next = self.zero.val();
                self.eq_w2[n].d.next = self.zero.val();
                self.eq_w3[n].d.next = self.zero.val();
            }
        }

        self.resp_valid.next = self.out_valid.q.val();
        self.resp_status.next = self.out_status.q.val();
        self.resp_kind.next = self.out_kind.q.val();
        self.resp_ctx0.next = self.out_ctx0.q.val();
        self.resp_ctx1.next = self.out_ctx1.q.val();
        self.resp_ctx2.next = self.out_ctx2.q.val();
        self.resp_ctx3.next = self.out_ctx3.q.val();
    }
}
