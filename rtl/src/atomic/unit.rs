//! The atomic unit in rust-hdl.
//!
//! Two stages and an output register, one request per clock:
//!
//! * **decode** (the clock a request is accepted): alignment, range and
//!   opcode checks; the opcode is reduced to cas-or-add with effective masks
//!   (the table in [`super::alu`]); the word's address goes to the block
//!   RAM, whose read data arrives one clock later.
//! * **execute**: the word read, or the word written one clock earlier when
//!   the previous operation wrote the same address (forwarding: the RAM
//!   returns the old word when a read and a write meet at one edge). The
//!   new word is written back and the original goes to the output register.
//!
//! Operations on one address therefore observe each other in issue order
//! with no stall. A full output register (`resp_ready` low) holds the whole
//! pipeline; the RAM address is then re-presented so the held operation's
//! read data stays current.

use super::{AtomicOp, AtomicStatus, WORD_ADDR_BITS};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct AtomicUnit {
    pub clock: Signal<In, Clock>,
    /// Synchronous, active high: empties the pipeline. Memory is kept.
    pub reset: Signal<In, Bit>,

    pub req_valid: Signal<In, Bit>,
    pub req_ready: Signal<Out, Bit>,
    pub req_op: Signal<In, Bits<3>>,
    pub req_addr: Signal<In, Bits<64>>,
    pub req_swap_add: Signal<In, Bits<64>>,
    pub req_compare: Signal<In, Bits<64>>,
    pub req_swap_add_mask: Signal<In, Bits<64>>,
    pub req_compare_mask: Signal<In, Bits<64>>,

    pub resp_valid: Signal<Out, Bit>,
    pub resp_ready: Signal<In, Bit>,
    pub resp_status: Signal<Out, Bits<2>>,
    pub resp_original: Signal<Out, Bits<64>>,

    words: RAM<Bits<64>, WORD_ADDR_BITS>,

    ex_valid: DFF<Bit>,
    ex_is_add: DFF<Bit>,
    ex_status: DFF<Bits<2>>,
    ex_word: DFF<Bits<WORD_ADDR_BITS>>,
    ex_swap_add: DFF<Bits<64>>,
    ex_compare: DFF<Bits<64>>,
    ex_swap_add_mask: DFF<Bits<64>>,
    ex_compare_mask: DFF<Bits<64>>,

    fwd_valid: DFF<Bit>,
    fwd_word: DFF<Bits<WORD_ADDR_BITS>>,
    fwd_data: DFF<Bits<64>>,

    out_valid: DFF<Bit>,
    out_status: DFF<Bits<2>>,
    out_original: DFF<Bits<64>>,

    advance: Signal<Local, Bit>,
    write_en: Signal<Local, Bit>,
    dec_status: Signal<Local, Bits<2>>,
    dec_is_add: Signal<Local, Bit>,
    dec_compare_mask: Signal<Local, Bits<64>>,
    dec_swap_add_mask: Signal<Local, Bits<64>>,
    orig: Signal<Local, Bits<64>>,
    new_word: Signal<Local, Bits<64>>,

    zeros: Constant<Bits<64>>,
    ones: Constant<Bits<64>>,
    align_mask: Constant<Bits<64>>,
    range_mask: Constant<Bits<64>>,
    op_write: Constant<Bits<3>>,
    op_cas: Constant<Bits<3>>,
    op_fadd: Constant<Bits<3>>,
    op_masked_cas: Constant<Bits<3>>,
    op_masked_fadd: Constant<Bits<3>>,
    op_last: Constant<Bits<3>>,
    st_ok: Constant<Bits<2>>,
    st_misaligned: Constant<Bits<2>>,
    st_out_of_range: Constant<Bits<2>>,
    st_bad_opcode: Constant<Bits<2>>,
    word_shift: Constant<Bits<6>>,
}

impl Default for AtomicUnit {
    fn default() -> Self {
        let op = |o: AtomicOp| Constant::new((o.code() as u64).into());
        let st = |s: AtomicStatus| Constant::new((s as u64).into());
        AtomicUnit {
            clock: Default::default(),
            reset: Default::default(),
            req_valid: Default::default(),
            req_ready: Default::default(),
            req_op: Default::default(),
            req_addr: Default::default(),
            req_swap_add: Default::default(),
            req_compare: Default::default(),
            req_swap_add_mask: Default::default(),
            req_compare_mask: Default::default(),
            resp_valid: Default::default(),
            resp_ready: Default::default(),
            resp_status: Default::default(),
            resp_original: Default::default(),
            words: Default::default(),
            ex_valid: Default::default(),
            ex_is_add: Default::default(),
            ex_status: Default::default(),
            ex_word: Default::default(),
            ex_swap_add: Default::default(),
            ex_compare: Default::default(),
            ex_swap_add_mask: Default::default(),
            ex_compare_mask: Default::default(),
            fwd_valid: Default::default(),
            fwd_word: Default::default(),
            fwd_data: Default::default(),
            out_valid: Default::default(),
            out_status: Default::default(),
            out_original: Default::default(),
            advance: Default::default(),
            write_en: Default::default(),
            dec_status: Default::default(),
            dec_is_add: Default::default(),
            dec_compare_mask: Default::default(),
            dec_swap_add_mask: Default::default(),
            orig: Default::default(),
            new_word: Default::default(),
            zeros: Constant::new(0u64.into()),
            ones: Constant::new(u64::MAX.into()),
            align_mask: Constant::new(7u64.into()),
            range_mask: Constant::new((!(super::MEM_BYTES - 1)).into()),
            op_write: op(AtomicOp::Write),
            op_cas: op(AtomicOp::Cas),
            op_fadd: op(AtomicOp::Fadd),
            op_masked_cas: op(AtomicOp::MaskedCas),
            op_masked_fadd: op(AtomicOp::MaskedFadd),
            op_last: op(AtomicOp::MaskedFadd),
            st_ok: st(AtomicStatus::Ok),
            st_misaligned: st(AtomicStatus::Misaligned),
            st_out_of_range: st(AtomicStatus::OutOfRange),
            st_bad_opcode: st(AtomicStatus::BadOpcode),
            word_shift: Constant::new(3u64.into()),
        }
    }
}

impl Logic for AtomicUnit {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            ex_valid,
            ex_is_add,
            ex_status,
            ex_word,
            ex_swap_add,
            ex_compare,
            ex_swap_add_mask,
            ex_compare_mask,
            fwd_valid,
            fwd_word,
            fwd_data,
            out_valid,
            out_status,
            out_original
        );
        self.words.read_clock.next = self.clock.val();
        self.words.write_clock.next = self.clock.val();

        // The pipeline moves when the output register is free or drains now.
        self.advance.next = !self.out_valid.q.val() | self.resp_ready.val();
        self.req_ready.next = self.advance.val() & !self.reset.val();

        // Decode.
        self.dec_status.next = self.st_ok.val();
        if (self.req_addr.val() & self.align_mask.val()).any() {
            self.dec_status.next = self.st_misaligned.val();
        } else if (self.req_addr.val() & self.range_mask.val()).any() {
            self.dec_status.next = self.st_out_of_range.val();
        } else if self.req_op.val() > self.op_last.val() {
            self.dec_status.next = self.st_bad_opcode.val();
        }
        self.dec_is_add.next = (self.req_op.val() == self.op_fadd.val())
            | (self.req_op.val() == self.op_masked_fadd.val());
        self.dec_compare_mask.next = self.zeros.val();
        self.dec_swap_add_mask.next = self.zeros.val();
        if self.req_op.val() == self.op_write.val() {
            self.dec_swap_add_mask.next = self.ones.val();
        }
        if self.req_op.val() == self.op_cas.val() {
            self.dec_compare_mask.next = self.ones.val();
            self.dec_swap_add_mask.next = self.ones.val();
        }
        if self.req_op.val() == self.op_masked_cas.val() {
            self.dec_compare_mask.next = self.req_compare_mask.val();
            self.dec_swap_add_mask.next = self.req_swap_add_mask.val();
        }
        if self.req_op.val() == self.op_masked_fadd.val() {
            // mlx4 carries the no-carry mask in the segment's compare field.
            self.dec_swap_add_mask.next = self.req_compare.val();
        }

        // Execute.
        self.orig.next = self.words.read_data.val();
        if self.fwd_valid.q.val() & (self.fwd_word.q.val() == self.ex_word.q.val()) {
            self.orig.next = self.fwd_data.q.val();
        }
        // One statement for the new word: every extra local signal in a
        // chain costs the in-process simulation a delta cycle.
        self.new_word.next = self.orig.val();
        if self.ex_is_add.q.val() {
            self.new_word.next = ((self.orig.val() & !self.ex_swap_add_mask.q.val())
                + (self.ex_swap_add.q.val() & !self.ex_swap_add_mask.q.val()))
                ^ ((self.orig.val() ^ self.ex_swap_add.q.val()) & self.ex_swap_add_mask.q.val());
        } else if !((self.orig.val() ^ self.ex_compare.q.val()) & self.ex_compare_mask.q.val())
            .any()
        {
            self.new_word.next = (self.orig.val() & !self.ex_swap_add_mask.q.val())
                | (self.ex_swap_add.q.val() & self.ex_swap_add_mask.q.val());
        }
        self.write_en.next = self.advance.val()
            & self.ex_valid.q.val()
            & (self.ex_status.q.val() == self.st_ok.val())
            & !self.reset.val();

        self.words.write_enable.next = self.write_en.val();
        self.words.write_address.next = self.ex_word.q.val();
        self.words.write_data.next = self.new_word.val();
        self.words.read_address.next = self.ex_word.q.val();
        if self.advance.val() {
            self.words.read_address.next = self
                .req_addr
                .val()
                .get_bits::<WORD_ADDR_BITS>(self.word_shift.val().index());
        }

        self.fwd_valid.d.next = self.write_en.val();
        self.fwd_word.d.next = self.ex_word.q.val();
        self.fwd_data.d.next = self.new_word.val();

        if self.advance.val() {
            self.out_valid.d.next = self.ex_valid.q.val();
            self.out_status.d.next = self.ex_status.q.val();
            self.out_original.d.next = self.zeros.val();
            if self.ex_status.q.val() == self.st_ok.val() {
                self.out_original.d.next = self.orig.val();
            }
            self.ex_valid.d.next = self.req_valid.val();
            self.ex_is_add.d.next = self.dec_is_add.val();
            self.ex_status.d.next = self.dec_status.val();
            self.ex_word.d.next = self
                .req_addr
                .val()
                .get_bits::<WORD_ADDR_BITS>(self.word_shift.val().index());
            self.ex_swap_add.d.next = self.req_swap_add.val();
            self.ex_compare.d.next = self.req_compare.val();
            self.ex_swap_add_mask.d.next = self.dec_swap_add_mask.val();
            self.ex_compare_mask.d.next = self.dec_compare_mask.val();
        }
        if self.reset.val() {
            self.ex_valid.d.next = false;
            self.out_valid.d.next = false;
            self.fwd_valid.d.next = false;
        }

        self.resp_valid.next = self.out_valid.q.val();
        self.resp_status.next = self.out_status.q.val();
        self.resp_original.next = self.out_original.q.val();
    }
}
