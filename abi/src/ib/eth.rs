//! The extended transport headers that follow the BTH (IBTA vol. 1,
//! 9.3), each defined once, and the project's masked-atomic header.

crate::mailbox_layout! {
    /// Datagram ETH (8 bytes): UD's Q_Key and source QP.
    Deth, 8, {
        qkey: u32 = (0x00, 0, 32),
        src_qp: u32 = (0x04, 0, 24),
    }
}

crate::mailbox_layout! {
    /// RDMA ETH (16 bytes): the remote buffer of a WRITE or READ.
    Reth, 16, {
        va: u64 = (0x00, 0, 64),
        rkey: u32 = (0x08, 0, 32),
        /// Bytes of the whole RDMA operation.
        dma_len: u32 = (0x0c, 0, 32),
    }
}

crate::mailbox_layout! {
    /// Atomic ETH (28 bytes): compare-and-swap and fetch-and-add. The
    /// project's masked fetch-and-add carries its no-carry mask in
    /// `compare`, as mlx4's WQE does.
    AtomicEth, 28, {
        va: u64 = (0x00, 0, 64),
        rkey: u32 = (0x08, 0, 32),
        swap_add: u64 = (0x0c, 0, 64),
        compare: u64 = (0x14, 0, 64),
    }
}

crate::mailbox_layout! {
    /// The project's masked compare-and-swap ETH (44 bytes): the Atomic
    /// ETH followed by the swap and compare masks. ConnectX's encoding is
    /// unpublished; this one is ours, and travels under a
    /// manufacturer-specific opcode (`docs/transport.md`).
    MaskedAtomicEth, 44, {
        va: u64 = (0x00, 0, 64),
        rkey: u32 = (0x08, 0, 32),
        swap: u64 = (0x0c, 0, 64),
        compare: u64 = (0x14, 0, 64),
        swap_mask: u64 = (0x1c, 0, 64),
        compare_mask: u64 = (0x24, 0, 64),
    }
}

crate::mailbox_layout! {
    /// ACK ETH (4 bytes): the syndrome and the responder's MSN.
    Aeth, 4, {
        /// Bits 7..5 the kind ([`aeth`]), 4..0 the credit count, RNR timer
        /// or NAK code.
        syndrome: u8 = (0x00, 0, 8),
        msn: u32 = (0x00, 0, 24),
    }
}

crate::mailbox_layout! {
    /// Atomic ACK ETH (8 bytes): the value the target held before.
    AtomicAckEth, 8, {
        orig: u64 = (0x00, 0, 64),
    }
}

crate::mailbox_layout! {
    /// Immediate data (4 bytes).
    ImmDt, 4, {
        imm: u32 = (0x00, 0, 32),
    }
}

crate::mailbox_layout! {
    /// Invalidate ETH (4 bytes): the R_Key a SEND with invalidate kills.
    Ieth, 4, {
        rkey: u32 = (0x00, 0, 32),
    }
}

/// The AETH syndrome: kind in bits 7..5, value in 4..0.
pub mod aeth {
    pub const ACK: u8 = 0b000 << 5;
    pub const RNR_NAK: u8 = 0b001 << 5;
    pub const NAK: u8 = 0b011 << 5;
    pub const KIND_MASK: u8 = 0b111 << 5;
    pub const VALUE_MASK: u8 = 0x1f;

    /// NAK codes.
    pub const NAK_PSN_SEQ_ERROR: u8 = 0;
    pub const NAK_INVALID_REQUEST: u8 = 1;
    pub const NAK_REMOTE_ACCESS: u8 = 2;
    pub const NAK_REMOTE_OP: u8 = 3;
    pub const NAK_INVALID_RD_REQUEST: u8 = 4;

    /// The credit count an ACK's code 31 stands for: none tracked (an
    /// SRQ's QP, or a responder that does not advertise).
    pub const CREDITS_INVALID: u8 = 31;

    /// Receive WQEs an ACK's credit code grants (codes 0..30).
    pub fn credits(code: u8) -> Option<u32> {
        const TABLE: [u32; 31] = [
            0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024,
            1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576, 32768,
        ];
        TABLE.get(code as usize).copied()
    }

    /// The largest credit code granting at most `n` WQEs.
    pub fn credit_code(n: u32) -> u8 {
        (0..31u8)
            .rev()
            .find(|&c| credits(c).is_some_and(|k| k <= n))
            .unwrap_or(0)
    }

    /// Microseconds an RNR NAK's timer code asks the requester to wait.
    pub fn rnr_micros(code: u8) -> u32 {
        const TABLE: [u32; 32] = [
            655_360, 10, 20, 30, 40, 60, 80, 120, 160, 240, 320, 480, 640, 960, 1280, 1920, 2560,
            3840, 5120, 7680, 10240, 15360, 20480, 30720, 40960, 61440, 81920, 122_880, 163_840,
            245_760, 327_680, 491_520,
        ];
        TABLE[(code & VALUE_MASK) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_fit() {
        for (f, n) in [
            (Deth::FIELDS, Deth::SIZE),
            (Reth::FIELDS, Reth::SIZE),
            (AtomicEth::FIELDS, AtomicEth::SIZE),
            (MaskedAtomicEth::FIELDS, MaskedAtomicEth::SIZE),
            (Aeth::FIELDS, Aeth::SIZE),
            (AtomicAckEth::FIELDS, AtomicAckEth::SIZE),
            (ImmDt::FIELDS, ImmDt::SIZE),
            (Ieth::FIELDS, Ieth::SIZE),
        ] {
            crate::mailbox::check(f, n, &[]).unwrap();
        }
    }

    #[test]
    fn aeth_packs_syndrome_over_msn() {
        let a = Aeth {
            syndrome: aeth::NAK | aeth::NAK_REMOTE_ACCESS,
            msn: 0x12_3456,
        };
        assert_eq!(a.encode(), [0x62, 0x12, 0x34, 0x56]);
        assert_eq!(Aeth::decode(&a.encode()), a);
    }

    #[test]
    fn credit_codes_round_down() {
        assert_eq!(aeth::credit_code(0), 0);
        assert_eq!(aeth::credit_code(5), 4);
        assert_eq!(aeth::credits(aeth::credit_code(5)), Some(4));
        assert_eq!(aeth::credit_code(1 << 20), 30);
        assert_eq!(aeth::credits(31), None);
        assert_eq!(aeth::rnr_micros(0), 655_360);
        assert_eq!(aeth::rnr_micros(0x1b), 122_880);
    }
}
