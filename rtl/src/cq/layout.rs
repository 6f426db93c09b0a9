//! The CQ engine's structures, each defined once: the CQ and EQ contexts
//! as the HCA keeps them, and the CQE and EQE as they land in host memory.
//!
//! CQEs and EQEs are 32 bytes laid out as mlx4 lays them out (big-endian
//! fields, `struct mlx4_cqe` and `struct mlx4_eqe`); here they are four
//! 64-bit words, word `k` being bytes `8k..8k+8` read big-endian, so a DMA
//! beat of word `k` to address `a + 8k` puts every byte where the driver
//! looks for it.

/// Words in a context or an entry.
pub const WORDS: usize = 4;
/// Bytes of a CQE or EQE in host memory.
pub const ENTRY_BYTES: u64 = 32;

pub mod cqc {
    hca_abi::icm_layout! {
        /// A CQ's context. All zero is a CQ software owns.
        Cqc, super::WORDS, {
        /// [`super::super::CqState`] code.
        state: u8 = (0, 0, 2),
        /// The CQ holds 2^log_size CQEs.
        log_size: u8 = (0, 4, 5),
        /// [`super::super::Arm`] code.
        arm: u8 = (0, 12, 2),
        /// Sequence number of the last arm doorbell taken.
        arm_sn: u8 = (0, 16, 2),
        /// The EQ completion events go to.
        eqn: u16 = (0, 20, 10),
        /// Producer index: CQEs written so far, modulo 2^24.
        pi: u32 = (0, 32, 24),
        /// DMA address of the CQE buffer (32-byte aligned).
        buf: u64 = (1, 0, 64),
        /// Consumer index, from the last consumer-index doorbell.
        ci: u32 = (2, 0, 24),
        /// Moderation: an event once this many completions are pending...
        mod_count: u16 = (2, 32, 16),
        /// ...or once the first pending one is this many ticks old.
        mod_period: u16 = (2, 48, 16),
        /// Completions since the last event.
        pending: u16 = (3, 0, 16),
        /// Ticks since the first pending completion.
        age: u16 = (3, 16, 16),
    }}
}

pub mod eqc {
    hca_abi::icm_layout! {
        /// An EQ's context. All zero is an EQ software owns.
        Eqc, super::WORDS, {
        /// [`super::super::EqState`] code.
        state: u8 = (0, 0, 2),
        /// The EQ holds 2^log_size EQEs.
        log_size: u8 = (0, 4, 5),
        /// The next EQE raises the EQ's interrupt.
        armed: bool = (0, 12, 1),
        /// MSI-X vector.
        vector: u8 = (0, 16, 6),
        /// Producer index, modulo 2^24.
        pi: u32 = (0, 32, 24),
        /// DMA address of the EQE buffer.
        buf: u64 = (1, 0, 64),
        /// Consumer index, from the last EQ doorbell.
        ci: u32 = (2, 0, 24),
        /// Event types routed here (MAP_EQ): bit n for type n.
        event_mask: u64 = (3, 0, 64),
    }}
}

pub mod cqe {
    hca_abi::icm_layout! {
        /// A CQE (`struct mlx4_cqe`, 32 bytes).
        Cqe, super::WORDS, {
        /// 0x00: the local QP (low 24 bits of vlan_my_qpn).
        my_qpn: u32 = (0, 32, 24),
        /// 0x04: immediate data, invalidated rkey or RSS hash.
        immed: u32 = (0, 0, 32),
        /// 0x08: the remote QP (low 24 bits of g_mlpath_rqpn).
        rqpn: u32 = (1, 32, 24),
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
    hca_abi::icm_layout! {
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
}

#[cfg(test)]
mod tests {
    use crate::icm_layout::Field;

    fn disjoint(fields: &[Field]) {
        let mut used = [0u64; super::WORDS];
        for f in fields {
            assert!(f.lsb + f.width <= 64, "{}", f.name);
            assert_eq!(used[f.word] & f.mask(), 0, "{} overlaps", f.name);
            used[f.word] |= f.mask();
        }
    }

    #[test]
    fn layouts_do_not_overlap() {
        disjoint(super::cqc::FIELDS);
        disjoint(super::eqc::FIELDS);
        disjoint(super::cqe::FIELDS);
        disjoint(super::eqe::FIELDS);
    }

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
