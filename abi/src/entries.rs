//! The completion and event queue entries as they land in host memory:
//! 32 bytes each, laid out as mlx4 lays them out (big-endian fields,
//! `struct mlx4_cqe` and `struct mlx4_eqe`). Each is four 64-bit words,
//! word `k` being bytes `8k..8k+8` read big-endian, so the CQ/EQ engine's
//! DMA beat of word `k` to address `a + 8k` puts every byte where the
//! driver looks for it, and the driver unpacks what it polls with the same
//! definition.

/// Words in an entry.
pub const WORDS: usize = 4;
/// Bytes of a CQE or EQE in host memory.
pub const ENTRY_BYTES: u64 = 32;

pub mod cqe {
    /// The opcode of the marker a resize leaves in the old buffer.
    pub const OPCODE_RESIZE: u8 = 0x16;
    /// The opcode of an error completion.
    pub const OPCODE_ERROR: u8 = 0x1e;

    crate::icm_layout! {
        /// A CQE (`struct mlx4_cqe`, 32 bytes).
        Cqe, super::WORDS, {
        /// 0x00: the local QP (low 24 bits of vlan_my_qpn).
        my_qpn: u32 = (0, 32, 24),
        /// 0x04: immediate data, invalidated rkey or RSS hash.
        immed: u32 = (0, 0, 32),
        /// 0x08: the remote QP (low 24 bits of g_mlpath_rqpn).
        rqpn: u32 = (1, 32, 24),
        /// 0x08 bits 31..24 of g_mlpath_rqpn: bit 7 a GRH came with the
        /// packet (its first 40 bytes hold it), bits 6..0 the DLID's path
        /// bits.
        g_mlpath: u8 = (1, 56, 8),
        /// 0x0c: SL and VLAN.
        sl_vid: u16 = (1, 16, 16),
        /// 0x0e: the remote LID.
        rlid: u16 = (1, 0, 16),
        /// 0x10: checksum and IP status bits.
        status: u16 = (2, 48, 16),
        /// 0x14.
        byte_cnt: u32 = (2, 0, 32),
        /// 0x18.
        wqe_index: u16 = (3, 48, 16),
        /// 0x1a: vendor error syndrome (error CQEs).
        vendor_err: u8 = (3, 40, 8),
        /// 0x1b: syndrome (error CQEs).
        syndrome: u8 = (3, 32, 8),
        /// 0x1f bits 4..0: opcode (0x1e error, 0x16 resize).
        opcode: u8 = (3, 0, 5),
        /// 0x1f bit 6: a send-queue completion.
        is_send: bool = (3, 6, 1),
        /// 0x1f bit 7: the owner bit.
        owner: bool = (3, 7, 1),
    }}
}

pub mod eqe {
    crate::icm_layout! {
        /// An EQE (`struct mlx4_eqe`, 32 bytes); the event data is kept as
        /// the four slots every event type's fields fall in.
        Eqe, super::WORDS, {
        /// 0x01: event type.
        event_type: u8 = (0, 48, 8),
        /// 0x03: subtype.
        subtype: u8 = (0, 32, 8),
        /// 0x04: CQN (completion, CQ error), QPN (QP events), command's
        /// reserved and token (low 16 bits).
        d0: u32 = (0, 0, 32),
        /// 0x08: CQ error's syndrome byte at 0x0b (low 8 bits).
        d1: u32 = (1, 32, 32),
        /// 0x0c: port (port change), command status (low 8 bits, 0x0f).
        d2: u32 = (1, 0, 32),
        /// 0x10: command out_param.
        d3: u64 = (2, 0, 64),
        /// 0x1f bit 7: the owner bit.
        owner: bool = (3, 7, 1),
    }}

    /// mlx4 event types (`enum mlx4_event`).
    pub mod event {
        pub const COMP: u8 = 0x00;
        pub const PATH_MIG: u8 = 0x01;
        pub const COMM_EST: u8 = 0x02;
        pub const SQ_DRAINED: u8 = 0x03;
        pub const CQ_ERROR: u8 = 0x04;
        pub const WQ_CATAS_ERROR: u8 = 0x05;
        pub const PATH_MIG_FAILED: u8 = 0x07;
        pub const PORT_CHANGE: u8 = 0x09;
        pub const CMD: u8 = 0x0a;
        pub const EQ_OVERFLOW: u8 = 0x0f;
        pub const WQ_INVAL_REQ_ERROR: u8 = 0x10;
        pub const WQ_ACCESS_ERROR: u8 = 0x11;
        pub const SRQ_CATAS_ERROR: u8 = 0x12;
        pub const SRQ_QP_LAST_WQE: u8 = 0x13;
        /// Fewer WQEs than the armed limit are left in an SRQ.
        pub const SRQ_LIMIT: u8 = 0x14;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cqe_bytes_sit_where_mlx4_reads_them() {
        let c = super::cqe::Cqe {
            my_qpn: 0x123456,
            owner: true,
            opcode: 0x16,
            byte_cnt: 0xaabbccdd,
            ..Default::default()
        };
        let bytes: Vec<u8> = c.pack().iter().flat_map(|w| w.to_be_bytes()).collect();
        assert_eq!(&bytes[0..4], &[0, 0x12, 0x34, 0x56]);
        assert_eq!(&bytes[0x14..0x18], &[0xaa, 0xbb, 0xcc, 0xdd]);
        assert_eq!(bytes[0x1f], 0x80 | 0x16);
    }
}
