//! The TPT in rust-hdl.
//!
//! A direct-mapped cache of `LINES = 1 << IDX` MPT entries (the shared
//! [`ContextCache`] of four-word entries), written through to ICM. MTT entries are not cached:
//! a lookup reads each page's MTT entry from ICM and answers with one beat
//! per page. A request is held by its sender until the block takes it, in
//! the clock its last response beat is loaded.
//!
//! * **IDLE**: a request waits and the output register is free: read the
//!   line of the entry it names.
//! * **LOOKUP**: on a hit (or for requests that read no entry) go to EXEC;
//!   on a miss FILL the line (four read beats) and look up again.
//! * **EXEC**: every check and the new entry, combinationally on the words
//!   read. A changed entry is written to the line and then to ICM
//!   (**WRITEBACK**, four beats); WRITE_MTT writes its beat (**MTT**); a
//!   lookup that passed walks its pages (**PAGE_REQ**, **PAGE_WAIT**,
//!   **PAGE_OUT** per page); anything else answers at once.
//!
//! As in the QPC, the datapath works on 64-bit lanes with field positions
//! and masks from [`super::layout`], and SW2HW and fast-register bring
//! their entries as words in the same layout.

use super::layout::Field;
use super::{access, status, MptKind, MptState, TptOp};
use super::{MAX_LOG_PAGE, MIN_LOG_PAGE, NUM_MPTS, NUM_MTTS};
use crate::cache::ContextCache;
use crate::icm_layout::{c, c64};
use rust_hdl::prelude::*;

/// MPT cache lines of the TPT as built for simulation and synthesis,
/// written once: the model, the firmware and the tools read it.
pub const LINES: usize = 16;

/// The TPT as built: a [`LINES`]-line MPT cache.
pub type TptBuilt = TptUnit<{ crate::cache::index_bits(LINES) }, LINES>;

const S_IDLE: u64 = 0;
const S_LOOKUP: u64 = 1;
const S_FILL: u64 = 2;
const S_EXEC: u64 = 3;
const S_WRITEBACK: u64 = 4;
const S_MTT: u64 = 5;
const S_PAGE_REQ: u64 = 6;
const S_PAGE_WAIT: u64 = 7;
const S_PAGE_OUT: u64 = 8;

#[derive(LogicBlock)]
pub struct TptUnit<const IDX: usize, const LINES: usize> {
    pub clock: Signal<In, Clock>,
    /// Synchronous, active high: empties the cache and the pipeline.
    pub reset: Signal<In, Bit>,

    pub req_valid: Signal<In, Bit>,
    pub req_ready: Signal<Out, Bit>,
    pub req_op: Signal<In, Bits<4>>,
    /// A key (`index << 8 | tag`), or an entry index for the commands.
    pub req_key: Signal<In, Bits<32>>,
    pub req_pd: Signal<In, Bits<24>>,
    pub req_va: Signal<In, Bits<64>>,
    /// Bytes, below 2^32.
    pub req_len: Signal<In, Bits<64>>,
    pub req_access: Signal<In, Bits<5>>,
    /// SW2HW and fast-register: the new entry, in the ICM layout.
    pub req_entry0: Signal<In, Bits<64>>,
    pub req_entry1: Signal<In, Bits<64>>,
    pub req_entry2: Signal<In, Bits<64>>,
    pub req_entry3: Signal<In, Bits<64>>,
    /// WRITE_MTT: the MTT index and the page address.
    pub req_mtt: Signal<In, Bits<32>>,
    pub req_addr: Signal<In, Bits<64>>,

    pub resp_valid: Signal<Out, Bit>,
    pub resp_ready: Signal<In, Bit>,
    /// The request's last response beat.
    pub resp_last: Signal<Out, Bit>,
    /// This beat carries a page's DMA address.
    pub resp_page: Signal<Out, Bit>,
    pub resp_addr: Signal<Out, Bits<64>>,
    pub resp_status: Signal<Out, Bits<8>>,
    pub resp_entry0: Signal<Out, Bits<64>>,
    pub resp_entry1: Signal<Out, Bits<64>>,
    pub resp_entry2: Signal<Out, Bits<64>>,
    pub resp_entry3: Signal<Out, Bits<64>>,

    /// ICM: a 64-bit beat of entry `entry` of table `table` (0 MPT, 1 MTT).
    pub icm_req_valid: Signal<Out, Bit>,
    pub icm_req_ready: Signal<In, Bit>,
    pub icm_req_write: Signal<Out, Bit>,
    pub icm_req_table: Signal<Out, Bit>,
    pub icm_req_entry: Signal<Out, Bits<24>>,
    pub icm_req_beat: Signal<Out, Bits<3>>,
    pub icm_req_data: Signal<Out, Bits<64>>,
    pub icm_rsp_valid: Signal<In, Bit>,
    pub icm_rsp_data: Signal<In, Bits<64>>,

    cache: ContextCache<IDX, LINES, 4>,
    fsm: DFF<Bits<4>>,
    beat: DFF<Bits<3>>,
    got: DFF<Bits<3>>,
    nx0: DFF<Bits<64>>,
    nx1: DFF<Bits<64>>,
    nx2: DFF<Bits<64>>,
    nx3: DFF<Bits<64>>,
    pg: DFF<Bits<64>>,
    pg_last: DFF<Bits<64>>,
    pg_first: DFF<Bit>,
    pg_off: DFF<Bits<64>>,
    pg_mask: DFF<Bits<64>>,
    pg_mtt: DFF<Bits<64>>,
    pg_data: DFF<Bits<64>>,
    /// The walk is a physical region's: no MTT reads.
    pg_phys: DFF<Bit>,
    /// A physical walk's next page address.
    pg_paddr: DFF<Bits<64>>,
    out_valid: DFF<Bit>,
    out_last: DFF<Bit>,
    out_page: DFF<Bit>,
    out_addr: DFF<Bits<64>>,
    out_status: DFF<Bits<8>>,
    out_entry0: DFF<Bits<64>>,
    out_entry1: DFF<Bits<64>>,
    out_entry2: DFF<Bits<64>>,
    out_entry3: DFF<Bits<64>>,

    // Decode.
    is_cmd: Signal<Local, Bit>,
    is_key_op: Signal<Local, Bit>,
    needs_entry: Signal<Local, Bit>,
    index: Signal<Local, Bits<24>>,
    line: Signal<Local, Bits<IDX>>,
    range_bad: Signal<Local, Bit>,
    hit: Signal<Local, Bit>,
    out_free: Signal<Local, Bit>,
    // Entry lanes.
    st: Signal<Local, Bits<64>>,
    tag: Signal<Local, Bits<8>>,
    acc: Signal<Local, Bits<5>>,
    rinv: Signal<Local, Bits<64>>,
    kind: Signal<Local, Bits<64>>,
    logp: Signal<Local, Bits<64>>,
    pd: Signal<Local, Bits<24>>,
    mttb: Signal<Local, Bits<64>>,
    r_state: Signal<Local, Bits<64>>,
    r_kind: Signal<Local, Bits<64>>,
    r_logp: Signal<Local, Bits<64>>,
    // Checks.
    page_ok: Signal<Local, Bit>,
    r_page_ok: Signal<Local, Bit>,
    tag_ok: Signal<Local, Bit>,
    pd_ok: Signal<Local, Bit>,
    into_region: Signal<Local, Bits<64>>,
    /// The request's new entry reaches past the top of the address space.
    r_wraps: Signal<Local, Bit>,
    oob: Signal<Local, Bit>,
    denied: Signal<Local, Bit>,
    checked: Signal<Local, Bits<8>>,
    // Pages.
    pmask: Signal<Local, Bits<64>>,
    off: Signal<Local, Bits<64>>,
    pg_entry: Signal<Local, Bits<24>>,
    // Result.
    status: Signal<Local, Bits<8>>,
    x0: Signal<Local, Bits<64>>,
    x1: Signal<Local, Bits<64>>,
    x2: Signal<Local, Bits<64>>,
    x3: Signal<Local, Bits<64>>,
    writes_entry: Signal<Local, Bit>,
    returns_new: Signal<Local, Bit>,
    walks: Signal<Local, Bit>,
    take: Signal<Local, Bit>,

    // Constants, each derived from the layout, the enums or the limits.
    zero: Constant<Bits<64>>,
    one: Constant<Bits<64>>,
    zero3: Constant<Bits<3>>,
    one3: Constant<Bits<3>>,
    b1: Constant<Bits<3>>,
    b2: Constant<Bits<3>>,
    b3: Constant<Bits<3>>,
    s_idle: Constant<Bits<4>>,
    s_lookup: Constant<Bits<4>>,
    s_fill: Constant<Bits<4>>,
    s_exec: Constant<Bits<4>>,
    s_writeback: Constant<Bits<4>>,
    s_mtt: Constant<Bits<4>>,
    s_page_req: Constant<Bits<4>>,
    s_page_wait: Constant<Bits<4>>,
    s_page_out: Constant<Bits<4>>,
    op_lookup: Constant<Bits<4>>,
    op_sw2hw: Constant<Bits<4>>,
    op_hw2sw: Constant<Bits<4>>,
    op_query: Constant<Bits<4>>,
    op_write_mtt: Constant<Bits<4>>,
    op_local_inv: Constant<Bits<4>>,
    op_remote_inv: Constant<Bits<4>>,
    op_fast_reg: Constant<Bits<4>>,
    op_sync_tpt: Constant<Bits<4>>,
    ok: Constant<Bits<8>>,
    bad_op: Constant<Bits<8>>,
    bad_param: Constant<Bits<8>>,
    bad_res_state: Constant<Bits<8>>,
    bad_index: Constant<Bits<8>>,
    key_index: Constant<Bits<8>>,
    tag_mismatch: Constant<Bits<8>>,
    not_valid: Constant<Bits<8>>,
    pd_mismatch: Constant<Bits<8>>,
    out_of_bounds: Constant<Bits<8>>,
    access_denied: Constant<Bits<8>>,
    not_invalidatable: Constant<Bits<8>>,
    not_free: Constant<Bits<8>>,
    bad_page_size: Constant<Bits<8>>,
    bad_range: Constant<Bits<8>>,
    num_mpts24: Constant<Bits<24>>,
    num_mpts32: Constant<Bits<32>>,
    num_mtts32: Constant<Bits<32>>,
    st_free: Constant<Bits<64>>,
    st_valid: Constant<Bits<64>>,
    st_invalid: Constant<Bits<64>>,
    kind_mr: Constant<Bits<64>>,
    kind_fr: Constant<Bits<64>>,
    kind_phys: Constant<Bits<64>>,
    kind_max: Constant<Bits<64>>,
    log_min: Constant<Bits<64>>,
    log_max: Constant<Bits<64>>,
    local_read: Constant<Bits<5>>,
    valid_in_place: Constant<Bits<64>>,
    invalid_in_place: Constant<Bits<64>>,
    fm_state: Constant<Bits<64>>,
    fm_fast_reg: Constant<Bits<64>>,
    m24: Constant<Bits<64>>,
    sh_state: Constant<Bits<6>>,
    m_state: Constant<Bits<64>>,
    sh_tag: Constant<Bits<6>>,
    sh_acc: Constant<Bits<6>>,
    sh_rinv: Constant<Bits<6>>,
    sh_kind: Constant<Bits<6>>,
    m_kind: Constant<Bits<64>>,
    sh_logp: Constant<Bits<6>>,
    m_logp: Constant<Bits<64>>,
    sh_pd: Constant<Bits<6>>,
    sh_mttb: Constant<Bits<6>>,
}

fn fixed(name: &str, word: usize) -> Field {
    crate::icm_layout::fixed("TPT", super::layout::FIELDS, name, word)
}

impl<const IDX: usize, const LINES: usize> Default for TptUnit<IDX, LINES> {
    fn default() -> Self {
        assert_eq!(LINES, 1 << IDX, "LINES must be 2^IDX");
        let state = fixed("state", 0);
        let tag = fixed("tag", 0);
        let acc = fixed("access", 0);
        let rinv = fixed("remote_inv", 0);
        let kind = fixed("kind", 0);
        let logp = fixed("log_page", 0);
        let pd = fixed("pd", 0);
        let mttb = fixed("mtt_base", 3);
        assert_eq!(
            (fixed("va", 1).width, fixed("len", 2).width),
            (64, 64),
            "va and len are whole words"
        );
        assert_eq!(
            (tag.width, acc.width, pd.width, mttb.width),
            (8, 5, 24, 24),
            "the RTL's slice widths"
        );
        let sh = |f: Field| c::<6>(f.lsb as u64);
        TptUnit {
            clock: Default::default(),
            reset: Default::default(),
            req_valid: Default::default(),
            req_ready: Default::default(),
            req_op: Default::default(),
            req_key: Default::default(),
            req_pd: Default::default(),
            req_va: Default::default(),
            req_len: Default::default(),
            req_access: Default::default(),
            req_entry0: Default::default(),
            req_entry1: Default::default(),
            req_entry2: Default::default(),
            req_entry3: Default::default(),
            req_mtt: Default::default(),
            req_addr: Default::default(),
            resp_valid: Default::default(),
            resp_ready: Default::default(),
            resp_last: Default::default(),
            resp_page: Default::default(),
            resp_addr: Default::default(),
            resp_status: Default::default(),
            resp_entry0: Default::default(),
            resp_entry1: Default::default(),
            resp_entry2: Default::default(),
            resp_entry3: Default::default(),
            icm_req_valid: Default::default(),
            icm_req_ready: Default::default(),
            icm_req_write: Default::default(),
            icm_req_table: Default::default(),
            icm_req_entry: Default::default(),
            icm_req_beat: Default::default(),
            icm_req_data: Default::default(),
            icm_rsp_valid: Default::default(),
            icm_rsp_data: Default::default(),
            cache: Default::default(),
            fsm: Default::default(),
            beat: Default::default(),
            got: Default::default(),
            nx0: Default::default(),
            nx1: Default::default(),
            nx2: Default::default(),
            nx3: Default::default(),
            pg: Default::default(),
            pg_last: Default::default(),
            pg_first: Default::default(),
            pg_off: Default::default(),
            pg_mask: Default::default(),
            pg_mtt: Default::default(),
            pg_data: Default::default(),
            pg_phys: Default::default(),
            pg_paddr: Default::default(),
            out_valid: Default::default(),
            out_last: Default::default(),
            out_page: Default::default(),
            out_addr: Default::default(),
            out_status: Default::default(),
            out_entry0: Default::default(),
            out_entry1: Default::default(),
            out_entry2: Default::default(),
            out_entry3: Default::default(),
            is_cmd: Default::default(),
            is_key_op: Default::default(),
            needs_entry: Default::default(),
            index: Default::default(),
            line: Default::default(),
            range_bad: Default::default(),
            hit: Default::default(),
            out_free: Default::default(),
            st: Default::default(),
            tag: Default::default(),
            acc: Default::default(),
            rinv: Default::default(),
            kind: Default::default(),
            logp: Default::default(),
            pd: Default::default(),
            mttb: Default::default(),
            r_state: Default::default(),
            r_kind: Default::default(),
            r_logp: Default::default(),
            page_ok: Default::default(),
            r_page_ok: Default::default(),
            tag_ok: Default::default(),
            pd_ok: Default::default(),
            into_region: Default::default(),
            r_wraps: Default::default(),
            oob: Default::default(),
            denied: Default::default(),
            checked: Default::default(),
            pmask: Default::default(),
            off: Default::default(),
            pg_entry: Default::default(),
            status: Default::default(),
            x0: Default::default(),
            x1: Default::default(),
            x2: Default::default(),
            x3: Default::default(),
            writes_entry: Default::default(),
            returns_new: Default::default(),
            walks: Default::default(),
            take: Default::default(),
            zero: c64(0),
            one: c64(1),
            zero3: c(0),
            one3: c(1),
            b1: c(1),
            b2: c(2),
            b3: c(3),
            s_idle: c(S_IDLE),
            s_lookup: c(S_LOOKUP),
            s_fill: c(S_FILL),
            s_exec: c(S_EXEC),
            s_writeback: c(S_WRITEBACK),
            s_mtt: c(S_MTT),
            s_page_req: c(S_PAGE_REQ),
            s_page_wait: c(S_PAGE_WAIT),
            s_page_out: c(S_PAGE_OUT),
            op_lookup: c(TptOp::Lookup as u64),
            op_sw2hw: c(TptOp::Sw2Hw as u64),
            op_hw2sw: c(TptOp::Hw2Sw as u64),
            op_query: c(TptOp::Query as u64),
            op_write_mtt: c(TptOp::WriteMtt as u64),
            op_local_inv: c(TptOp::LocalInv as u64),
            op_remote_inv: c(TptOp::RemoteInv as u64),
            op_fast_reg: c(TptOp::FastReg as u64),
            op_sync_tpt: c(TptOp::SyncTpt as u64),
            ok: c(status::OK as u64),
            bad_op: c(status::BAD_OP as u64),
            bad_param: c(status::BAD_PARAM as u64),
            bad_res_state: c(status::BAD_RES_STATE as u64),
            bad_index: c(status::BAD_INDEX as u64),
            key_index: c(status::KEY_INDEX as u64),
            tag_mismatch: c(status::TAG_MISMATCH as u64),
            not_valid: c(status::NOT_VALID as u64),
            pd_mismatch: c(status::PD_MISMATCH as u64),
            out_of_bounds: c(status::OUT_OF_BOUNDS as u64),
            access_denied: c(status::ACCESS_DENIED as u64),
            not_invalidatable: c(status::NOT_INVALIDATABLE as u64),
            not_free: c(status::NOT_FREE as u64),
            bad_page_size: c(status::BAD_PAGE_SIZE as u64),
            bad_range: c(status::BAD_RANGE as u64),
            num_mpts24: c(NUM_MPTS as u64),
            num_mpts32: c(NUM_MPTS as u64),
            num_mtts32: c(NUM_MTTS as u64),
            st_free: c64(MptState::Free as u64),
            st_valid: c64(MptState::Valid as u64),
            st_invalid: c64(MptState::Invalid as u64),
            kind_mr: c64(MptKind::Mr as u64),
            kind_fr: c64(MptKind::FastReg as u64),
            kind_phys: c64(MptKind::Physical as u64),
            kind_max: c64(MptKind::Physical as u64),
            log_min: c64(MIN_LOG_PAGE as u64),
            log_max: c64(MAX_LOG_PAGE as u64),
            local_read: c(access::LOCAL_READ as u64),
            valid_in_place: c64((MptState::Valid as u64) << state.lsb),
            invalid_in_place: c64((MptState::Invalid as u64) << state.lsb),
            fm_state: c64(state.mask()),
            fm_fast_reg: c64(state.mask() | tag.mask() | acc.mask() | logp.mask()),
            m24: c64(0xff_ffff),
            sh_state: sh(state),
            m_state: c64(state.ones()),
            sh_tag: sh(tag),
            sh_acc: sh(acc),
            sh_rinv: sh(rinv),
            sh_kind: sh(kind),
            m_kind: c64(kind.ones()),
            sh_logp: sh(logp),
            m_logp: c64(logp.ones()),
            sh_pd: sh(pd),
            sh_mttb: sh(mttb),
        }
    }
}

impl<const IDX: usize, const LINES: usize> Logic for TptUnit<IDX, LINES> {
    // One branch per check and per state, in the order the hardware takes
    // them (`#[hdl_gen]` turns each into a Verilog `if`): merging branches
    // that happen to do the same would hide which check fired.
    #[allow(clippy::if_same_then_else, clippy::collapsible_if)]
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, fsm, beat, got, nx0, nx1, nx2, nx3, pg, pg_last, pg_first, pg_off,
            pg_mask, pg_mtt, pg_data, pg_phys, pg_paddr, out_valid, out_last, out_page, out_addr,
            out_status, out_entry0, out_entry1, out_entry2, out_entry3
        );
        self.cache.clock.next = self.clock.val();

        // ---- Decode and lookup -----------------------------------------
        self.is_cmd.next = (self.req_op.val() == self.op_sw2hw.val())
            | (self.req_op.val() == self.op_hw2sw.val())
            | (self.req_op.val() == self.op_query.val());
        self.is_key_op.next = (self.req_op.val() == self.op_lookup.val())
            | (self.req_op.val() == self.op_local_inv.val())
            | (self.req_op.val() == self.op_remote_inv.val())
            | (self.req_op.val() == self.op_fast_reg.val());
        self.index.next = self.req_key.val().get_bits::<24>(8);
        self.range_bad.next = self.req_key.val().get_bits::<24>(8) >= self.num_mpts24.val();
        if self.is_cmd.val() {
            self.index.next = self.req_key.val().get_bits::<24>(0);
            self.range_bad.next = self.req_key.val() >= self.num_mpts32.val();
        }
        self.needs_entry.next = (self.is_cmd.val() | self.is_key_op.val()) & !self.range_bad.val();
        self.line.next = self.index.val().get_bits::<IDX>(0);
        self.cache.line.next = self.line.val();
        self.cache.entry.next = self.index.val();
        self.hit.next = self.cache.valid.val().get_bit(self.line.val().index())
            & (self.cache.held.val() == self.index.val());
        self.out_free.next = !self.out_valid.q.val() | self.resp_ready.val();

        // ---- Lanes -------------------------------------------------------
        self.st.next = (self.cache.words[0].val() >> self.sh_state.val()) & self.m_state.val();
        self.tag.next = self.cache.words[0]
            .val()
            .get_bits::<8>(self.sh_tag.val().index());
        self.acc.next = self.cache.words[0]
            .val()
            .get_bits::<5>(self.sh_acc.val().index());
        self.rinv.next = (self.cache.words[0].val() >> self.sh_rinv.val()) & self.one.val();
        self.kind.next = (self.cache.words[0].val() >> self.sh_kind.val()) & self.m_kind.val();
        self.logp.next = (self.cache.words[0].val() >> self.sh_logp.val()) & self.m_logp.val();
        self.pd.next = self.cache.words[0]
            .val()
            .get_bits::<24>(self.sh_pd.val().index());
        self.mttb.next = (self.cache.words[3].val() >> self.sh_mttb.val()) & self.m24.val();
        self.r_state.next = (self.req_entry0.val() >> self.sh_state.val()) & self.m_state.val();
        self.r_kind.next = (self.req_entry0.val() >> self.sh_kind.val()) & self.m_kind.val();
        self.r_logp.next = (self.req_entry0.val() >> self.sh_logp.val()) & self.m_logp.val();

        // ---- Checks --------------------------------------------------------
        self.page_ok.next =
            (self.logp.val() >= self.log_min.val()) & (self.logp.val() <= self.log_max.val());
        self.r_page_ok.next =
            (self.r_logp.val() >= self.log_min.val()) & (self.r_logp.val() <= self.log_max.val());
        self.tag_ok.next = self.tag.val() == self.req_key.val().get_bits::<8>(0);
        self.pd_ok.next = self.pd.val() == self.req_pd.val();
        self.into_region.next = self.req_va.val() - self.cache.words[1].val();
        // A range [va, va + len) reaches past 2^64 - 1 when len - 1 > !va
        // (`crosses_top`): the region being registered, and the access.
        self.r_wraps.next = (self.req_entry2.val() != self.zero.val())
            & ((self.req_entry2.val() - self.one.val()) > !self.req_entry1.val());
        self.oob.next = (self.req_va.val() < self.cache.words[1].val())
            | (self.into_region.val() > self.cache.words[2].val())
            | (self.req_len.val() > (self.cache.words[2].val() - self.into_region.val()))
            | ((self.req_len.val() != self.zero.val())
                & ((self.req_len.val() - self.one.val()) > !self.req_va.val()));
        self.denied.next =
            (self.req_access.val() & !(self.acc.val() | self.local_read.val())).any();
        // The checks every key op makes, in order.
        self.checked.next = self.ok.val();
        if (self.st.val() != self.st_valid.val()) | !self.page_ok.val() {
            self.checked.next = self.not_valid.val();
        } else if !self.tag_ok.val() {
            self.checked.next = self.tag_mismatch.val();
        } else if !self.pd_ok.val() {
            self.checked.next = self.pd_mismatch.val();
        }

        // ---- Pages -----------------------------------------------------------
        self.pmask.next = (self.one.val() << self.logp.val().get_bits::<6>(0)) - self.one.val();
        self.off.next = self.req_va.val() - (self.cache.words[1].val() & !self.pmask.val());
        self.pg_entry.next =
            self.pg_mtt.q.val().get_bits::<24>(0) + self.pg.q.val().get_bits::<24>(0);

        // ---- Result ------------------------------------------------------------
        self.status.next = self.ok.val();
        self.x0.next = self.cache.words[0].val();
        self.x1.next = self.cache.words[1].val();
        self.x2.next = self.cache.words[2].val();
        self.x3.next = self.cache.words[3].val();
        self.writes_entry.next = false;
        self.returns_new.next = false;
        self.walks.next = false;
        if self.req_op.val() == self.op_sync_tpt.val() {
        } else if self.req_op.val() == self.op_write_mtt.val() {
            if self.req_mtt.val() >= self.num_mtts32.val() {
                self.status.next = self.bad_index.val();
            }
        } else if self.is_cmd.val() {
            if self.range_bad.val() {
                self.status.next = self.bad_index.val();
            } else if self.req_op.val() == self.op_sw2hw.val() {
                if self.st.val() != self.st_free.val() {
                    self.status.next = self.bad_res_state.val();
                } else if ((self.r_state.val() != self.st_valid.val())
                    & (self.r_state.val() != self.st_invalid.val()))
                    | (self.r_kind.val() > self.kind_max.val())
                    | !self.r_page_ok.val()
                    | self.r_wraps.val()
                {
                    self.status.next = self.bad_param.val();
                } else {
                    self.x0.next = self.req_entry0.val();
                    self.x1.next = self.req_entry1.val();
                    self.x2.next = self.req_entry2.val();
                    self.x3.next = self.req_entry3.val();
                    self.writes_entry.next = true;
                    self.returns_new.next = true;
                }
            } else if self.st.val() == self.st_free.val() {
                self.status.next = self.bad_res_state.val();
            } else if self.req_op.val() == self.op_hw2sw.val() {
                self.x0.next = self.cache.words[0].val() & !self.fm_state.val();
                self.writes_entry.next = true;
            }
        } else if self.is_key_op.val() {
            if self.range_bad.val() {
                self.status.next = self.key_index.val();
            } else if self.req_op.val() == self.op_fast_reg.val() {
                if self.st.val() != self.st_invalid.val() {
                    self.status.next = self.not_free.val();
                } else if self.kind.val() != self.kind_fr.val() {
                    self.status.next = self.not_invalidatable.val();
                } else if !self.pd_ok.val() {
                    self.status.next = self.pd_mismatch.val();
                } else if !self.r_page_ok.val() {
                    self.status.next = self.bad_page_size.val();
                } else if self.r_wraps.val() {
                    self.status.next = self.bad_range.val();
                } else {
                    self.x0.next = (self.cache.words[0].val() & !self.fm_fast_reg.val())
                        | (self.req_entry0.val() & self.fm_fast_reg.val() & !self.fm_state.val())
                        | self.valid_in_place.val();
                    self.x1.next = self.req_entry1.val();
                    self.x2.next = self.req_entry2.val();
                    self.writes_entry.next = true;
                    self.returns_new.next = true;
                }
            } else if self.checked.val() != self.ok.val() {
                self.status.next = self.checked.val();
            } else if self.req_op.val() == self.op_lookup.val() {
                if self.oob.val() {
                    self.status.next = self.out_of_bounds.val();
                } else if self.denied.val() {
                    self.status.next = self.access_denied.val();
                } else if self.req_len.val() != self.zero.val() {
                    self.walks.next = true;
                }
            } else if (self.req_op.val() == self.op_local_inv.val())
                & ((self.kind.val() == self.kind_mr.val())
                    | (self.kind.val() == self.kind_phys.val()))
            {
                self.status.next = self.not_invalidatable.val();
            } else if (self.req_op.val() == self.op_remote_inv.val())
                & (self.rinv.val() == self.zero.val())
            {
                self.status.next = self.not_invalidatable.val();
            } else {
                self.x0.next = (self.cache.words[0].val() & !self.fm_state.val())
                    | self.invalid_in_place.val();
                self.writes_entry.next = true;
                self.returns_new.next = true;
            }
        } else {
            self.status.next = self.bad_op.val();
        }

        // ---- Control -------------------------------------------------------------
        self.req_ready.next = false;
        self.take.next = false;
        self.icm_req_valid.next = false;
        self.icm_req_write.next = false;
        self.icm_req_table.next = false;
        self.icm_req_entry.next = self.index.val();
        self.icm_req_beat.next = self.beat.q.val();
        self.icm_req_data.next = self.nx0.q.val();
        if self.beat.q.val() == self.b1.val() {
            self.icm_req_data.next = self.nx1.q.val();
        }
        if self.beat.q.val() == self.b2.val() {
            self.icm_req_data.next = self.nx2.q.val();
        }
        if self.beat.q.val() == self.b3.val() {
            self.icm_req_data.next = self.nx3.q.val();
        }
        self.cache.write_words[0].next = self.x0.val();
        self.cache.write_words[1].next = self.x1.val();
        self.cache.write_words[2].next = self.x2.val();
        self.cache.write_words[3].next = self.x3.val();
        self.cache.write.next = false;
        self.cache.fill.next = false;
        self.cache.fill_word.next = self.got.q.val();
        self.cache.fill_data.next = self.icm_rsp_data.val();
        self.cache.fill_done.next = self.got.q.val() == self.b3.val();
        self.cache.drop.next = false;
        self.cache.clear.next = self.reset.val();
        if self.out_valid.q.val() & self.resp_ready.val() {
            self.out_valid.d.next = false;
        }

        if self.fsm.q.val() == self.s_idle.val() {
            if self.req_valid.val() & self.out_free.val() {
                self.fsm.d.next = self.s_lookup.val();
            }
        } else if self.fsm.q.val() == self.s_lookup.val() {
            self.fsm.d.next = self.s_exec.val();
            if self.needs_entry.val() & !self.hit.val() {
                self.fsm.d.next = self.s_fill.val();
                self.beat.d.next = self.zero3.val();
                self.got.d.next = self.zero3.val();
            }
        } else if self.fsm.q.val() == self.s_fill.val() {
            // Four reads, issued while the answers come back.
            if !self.beat.q.val().get_bit(2) {
                self.icm_req_valid.next = true;
                if self.icm_req_ready.val() {
                    self.beat.d.next = self.beat.q.val() + self.one3.val();
                }
            }
            if self.icm_rsp_valid.val() {
                self.got.d.next = self.got.q.val() + self.one3.val();
                self.cache.fill.next = true;
                if self.got.q.val() == self.b3.val() {
                    self.fsm.d.next = self.s_idle.val();
                }
            }
        } else if self.fsm.q.val() == self.s_exec.val() {
            self.nx0.d.next = self.x0.val();
            self.nx1.d.next = self.x1.val();
            self.nx2.d.next = self.x2.val();
            self.nx3.d.next = self.x3.val();
            self.out_status.d.next = self.status.val();
            self.out_addr.d.next = self.zero.val();
            self.out_page.d.next = false;
            self.out_last.d.next = true;
            self.out_entry0.d.next = self.zero.val();
            self.out_entry1.d.next = self.zero.val();
            self.out_entry2.d.next = self.zero.val();
            self.out_entry3.d.next = self.zero.val();
            if self.needs_entry.val() {
                self.out_entry0.d.next = self.cache.words[0].val();
                self.out_entry1.d.next = self.cache.words[1].val();
                self.out_entry2.d.next = self.cache.words[2].val();
                self.out_entry3.d.next = self.cache.words[3].val();
                if self.returns_new.val() {
                    self.out_entry0.d.next = self.x0.val();
                    self.out_entry1.d.next = self.x1.val();
                    self.out_entry2.d.next = self.x2.val();
                    self.out_entry3.d.next = self.x3.val();
                }
            }
            self.beat.d.next = self.zero3.val();
            self.pg.d.next = self.off.val() >> self.logp.val().get_bits::<6>(0);
            self.pg_last.d.next = (self.off.val() + self.req_len.val() - self.one.val())
                >> self.logp.val().get_bits::<6>(0);
            self.pg_first.d.next = true;
            self.pg_off.d.next = self.off.val() & self.pmask.val();
            self.pg_mask.d.next = self.pmask.val();
            self.pg_mtt.d.next = self.mttb.val();
            self.pg_phys.d.next = self.kind.val() == self.kind_phys.val();
            self.pg_paddr.d.next = self.req_va.val() & !self.pmask.val();
            if self.writes_entry.val() {
                self.cache.write.next = true;
                self.fsm.d.next = self.s_writeback.val();
            } else if (self.req_op.val() == self.op_write_mtt.val())
                & (self.status.val() == self.ok.val())
            {
                self.fsm.d.next = self.s_mtt.val();
            } else if self.walks.val() {
                self.fsm.d.next = self.s_page_req.val();
            } else {
                self.take.next = true;
                if self.req_op.val() == self.op_sync_tpt.val() {
                    self.cache.clear.next = true;
                }
            }
        } else if self.fsm.q.val() == self.s_writeback.val() {
            // Written through: the line back to the entry it holds.
            self.icm_req_valid.next = true;
            self.icm_req_write.next = true;
            self.icm_req_entry.next = self.cache.held.val();
            if self.icm_req_ready.val() {
                self.beat.d.next = self.beat.q.val() + self.one3.val();
                if self.beat.q.val() == self.b3.val() {
                    self.take.next = true;
                }
            }
        } else if self.fsm.q.val() == self.s_mtt.val() {
            self.icm_req_valid.next = true;
            self.icm_req_write.next = true;
            self.icm_req_table.next = true;
            self.icm_req_entry.next = self.req_mtt.val().get_bits::<24>(0);
            self.icm_req_beat.next = self.zero3.val();
            self.icm_req_data.next = self.req_addr.val();
            if self.icm_req_ready.val() {
                self.take.next = true;
            }
        } else if self.fsm.q.val() == self.s_page_req.val() {
            if self.pg_phys.q.val() {
                // A physical region's page is its own address: no ICM.
                self.pg_data.d.next = self.pg_paddr.q.val();
                if self.pg_first.q.val() {
                    self.pg_data.d.next = self.pg_paddr.q.val() + self.pg_off.q.val();
                }
                self.pg_paddr.d.next =
                    self.pg_paddr.q.val() + self.pg_mask.q.val() + self.one.val();
                self.fsm.d.next = self.s_page_out.val();
            } else {
                self.icm_req_valid.next = true;
                self.icm_req_table.next = true;
                self.icm_req_entry.next = self.pg_entry.val();
                self.icm_req_beat.next = self.zero3.val();
                if self.icm_req_ready.val() {
                    self.fsm.d.next = self.s_page_wait.val();
                }
            }
        } else if self.fsm.q.val() == self.s_page_wait.val() {
            if self.icm_rsp_valid.val() {
                self.pg_data.d.next = self.icm_rsp_data.val() & !self.pg_mask.q.val();
                if self.pg_first.q.val() {
                    self.pg_data.d.next =
                        (self.icm_rsp_data.val() & !self.pg_mask.q.val()) + self.pg_off.q.val();
                }
                self.fsm.d.next = self.s_page_out.val();
            }
        } else if self.fsm.q.val() == self.s_page_out.val() {
            if self.out_free.val() {
                self.out_valid.d.next = true;
                self.out_page.d.next = true;
                self.out_addr.d.next = self.pg_data.q.val();
                self.out_last.d.next = self.pg.q.val() == self.pg_last.q.val();
                self.pg_first.d.next = false;
                self.pg.d.next = self.pg.q.val() + self.one.val();
                self.fsm.d.next = self.s_page_req.val();
                if self.pg.q.val() == self.pg_last.q.val() {
                    self.req_ready.next = true;
                    self.fsm.d.next = self.s_idle.val();
                }
            }
        }
        // A single-beat answer: the output register is free here (it was
        // when the request started, and nothing else loads it).
        if self.take.val() {
            self.out_valid.d.next = true;
            self.req_ready.next = true;
            self.fsm.d.next = self.s_idle.val();
        }

        if self.reset.val() {
            self.fsm.d.next = self.s_idle.val();
            self.out_valid.d.next = false;
        }

        self.resp_valid.next = self.out_valid.q.val();
        self.resp_last.next = self.out_last.q.val();
        self.resp_page.next = self.out_page.q.val();
        self.resp_addr.next = self.out_addr.q.val();
        self.resp_status.next = self.out_status.q.val();
        self.resp_entry0.next = self.out_entry0.q.val();
        self.resp_entry1.next = self.out_entry1.q.val();
        self.resp_entry2.next = self.out_entry2.q.val();
        self.resp_entry3.next = self.out_entry3.q.val();
    }
}
