//! Work-queue entries as the driver writes them and the transport engine
//! will read them (mlx4's qp.h: `mlx4_wqe_ctrl_seg`, `mlx4_wqe_data_seg`,
//! `mlx4_wqe_raddr_seg`, `mlx4_wqe_atomic_seg`, `mlx4_wqe_datagram_seg`
//! with its `mlx4_av`), each segment defined once, and the send opcodes.

crate::mailbox_layout! {
    /// The control segment that starts every send WQE (16 bytes).
    CtrlSeg, 16, {
        /// Bit 31: the owner bit (the pass parity of the WQE's index).
        owner: bool = (0x00, 7, 1),
        /// Bits 4..0: the send opcode ([`opcode`]).
        opcode: u8 = (0x03, 0, 5),
        /// Bit 6: fence.
        fence: bool = (0x07, 6, 1),
        /// Bits 5..0: the WQE's size in 16-byte units, this segment included.
        ds: u8 = (0x07, 0, 6),
        /// Bits 3..2: a CQE is wanted (both set for a signalled WR).
        cq_update: u8 = (0x0b, 2, 2),
        /// Bit 1: solicited event.
        solicited: bool = (0x0b, 1, 1),
        /// Immediate data (SEND_IMM, WRITE_IMM), or the R_Key a SEND_INVAL
        /// invalidates.
        imm: u32 = (0x0c, 0, 32),
    }
}

crate::mailbox_layout! {
    /// The MLX segment of a special QP's WQE, in the control segment's
    /// place (`mlx4_wqe_mlx_seg`, 16 bytes): the driver wrote the packet's
    /// headers as inline data after it; the HCA fills the SLID, sends on
    /// VL15 for QP0 and adds the CRCs.
    MlxSeg, 16, {
        owner: bool = (0x00, 7, 1),
        opcode: u8 = (0x03, 0, 5),
        ds: u8 = (0x07, 0, 6),
        /// Flags bit 17: send on VL15 (QP0).
        vl15: bool = (0x09, 1, 1),
        /// Flags bit 16: the SLID is the driver's (the DLID is permissive).
        slr: bool = (0x09, 0, 1),
        /// Flags bits 15..12.
        static_rate: u8 = (0x0a, 4, 4),
        /// Flags bits 11..8.
        sl: u8 = (0x0a, 0, 4),
        /// Flags bit 4: the HCA computes the ICRC (Linux leaves it clear;
        /// the HCA computes it either way).
        icrc: bool = (0x0b, 4, 1),
        cq_update: u8 = (0x0b, 2, 2),
        /// Flags bit 0: loop the packet back to this HCA's own port.
        force_loopback: bool = (0x0b, 0, 1),
        /// The DLID (the header's holds it too).
        rlid: u16 = (0x0c, 0, 16),
    }
}

crate::mailbox_layout! {
    /// A gather or scatter entry (16 bytes).
    DataSeg, 16, {
        byte_count: u32 = (0x00, 0, 32),
        lkey: u32 = (0x04, 0, 32),
        addr: u64 = (0x08, 0, 64),
    }
}

crate::mailbox_layout! {
    /// The remote address of an RDMA or atomic operation (16 bytes).
    RaddrSeg, 16, {
        raddr: u64 = (0x00, 0, 64),
        rkey: u32 = (0x08, 0, 32),
    }
}

crate::mailbox_layout! {
    /// Compare-and-swap and fetch-and-add operands (16 bytes).
    AtomicSeg, 16, {
        swap_add: u64 = (0x00, 0, 64),
        compare: u64 = (0x08, 0, 64),
    }
}

crate::mailbox_layout! {
    /// Masked compare-and-swap operands (`mlx4_wqe_masked_atomic_seg`,
    /// 32 bytes); masked fetch-and-add uses [`AtomicSeg`], its no-carry
    /// mask in `compare`.
    MaskedAtomicSeg, 32, {
        swap_add: u64 = (0x00, 0, 64),
        compare: u64 = (0x08, 0, 64),
        swap_add_mask: u64 = (0x10, 0, 64),
        compare_mask: u64 = (0x18, 0, 64),
    }
}

crate::mailbox_layout! {
    /// A UD send's destination: the address vector (`mlx4_av`, 32 bytes),
    /// the remote QPN and Q_Key (48 bytes in all).
    DatagramSeg, 48, {
        /// Bits 31..24: the port; 23..0: the PD.
        port: u8 = (0x00, 0, 8),
        pd: u32 = (0x00, 0, 24),
        /// Bit 7: a GRH follows the LRH.
        grh: bool = (0x05, 7, 1),
        path_bits: u8 = (0x05, 0, 7),
        dlid: u16 = (0x06, 0, 16),
        gid_index: u8 = (0x09, 0, 8),
        stat_rate: u8 = (0x0a, 0, 8),
        hop_limit: u8 = (0x0b, 0, 8),
        /// Bits 31..28: the SL; 27..20 the traffic class; 19..0 the flow label.
        sl_tclass_flowlabel: u32 = (0x0c, 0, 32),
        dgid_hi: u64 = (0x10, 0, 64),
        dgid_lo: u64 = (0x18, 0, 64),
        dqpn: u32 = (0x20, 0, 24),
        qkey: u32 = (0x24, 0, 32),
    }
}

/// Send opcodes (`MLX4_OPCODE_*`), in the control segment.
pub mod opcode {
    pub const NOP: u8 = 0x00;
    pub const SEND_INVAL: u8 = 0x01;
    pub const RDMA_WRITE: u8 = 0x08;
    pub const RDMA_WRITE_IMM: u8 = 0x09;
    pub const SEND: u8 = 0x0a;
    pub const SEND_IMM: u8 = 0x0b;
    pub const LSO: u8 = 0x0e;
    pub const RDMA_READ: u8 = 0x10;
    pub const ATOMIC_CS: u8 = 0x11;
    pub const ATOMIC_FA: u8 = 0x12;
    pub const MASKED_ATOMIC_CS: u8 = 0x14;
    pub const MASKED_ATOMIC_FA: u8 = 0x15;
    pub const FMR: u8 = 0x19;
    pub const LOCAL_INVAL: u8 = 0x1b;
}

/// The UAR offset of the send doorbell: the device sees `qpn << 8`.
pub const SEND_DOORBELL: u64 = 0x14;
/// The lkey that ends a receive WQE's scatter list.
pub const INVALID_LKEY: u32 = 0x100;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::check;

    #[test]
    fn every_segment_layout_is_sound() {
        check(CtrlSeg::FIELDS, CtrlSeg::SIZE, &[]).unwrap();
        check(MlxSeg::FIELDS, MlxSeg::SIZE, &[]).unwrap();
        check(DataSeg::FIELDS, DataSeg::SIZE, &[]).unwrap();
        check(RaddrSeg::FIELDS, RaddrSeg::SIZE, &[]).unwrap();
        check(AtomicSeg::FIELDS, AtomicSeg::SIZE, &[]).unwrap();
        check(MaskedAtomicSeg::FIELDS, MaskedAtomicSeg::SIZE, &[]).unwrap();
        check(DatagramSeg::FIELDS, DatagramSeg::SIZE, &[]).unwrap();
        let c = CtrlSeg {
            owner: true,
            opcode: opcode::SEND,
            ds: 2,
            cq_update: 3,
            ..Default::default()
        }
        .encode();
        assert_eq!(&c[..12], &[0x80, 0, 0, 0x0a, 0, 0, 0, 2, 0, 0, 0, 0x0c]);
    }
}
