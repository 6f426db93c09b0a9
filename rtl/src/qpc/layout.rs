//! The QP context as it sits in ICM: eight 64-bit words, 64 bytes of the
//! 256-byte QPC entry the driver sizes ICM for. Defined once here: the
//! model packs and unpacks with it, the RTL's word offsets are checked
//! against it (a test compares the context words the RTL returns and
//! writes back to ICM with `pack`), and `docs/blocks/qpc.md` shows the
//! table `FIELDS` generates.

pub use crate::icm_layout::Field;

/// Words in one context entry.
pub const WORDS: usize = 8;
/// Bytes between consecutive QPNs' entries in ICM.
pub const ENTRY_BYTES: u64 = 64;

hca_abi::icm_layout! {
    /// One QP's context. All zero is a QP in RESET.
    QpContext, WORDS, {
    /// [`super::QpState`] code.
    state: u8 = (0, 0, 3),
    /// [`super::QpType`] code.
    qp_type: u8 = (0, 4, 3),
    port: u8 = (0, 8, 8),
    /// 1 = 256 bytes ... 5 = 4096 bytes.
    path_mtu: u8 = (0, 16, 3),
    /// Remote read (bit 0), remote write (bit 1), remote atomic (bit 2).
    access: u8 = (0, 20, 3),
    /// Receives come from the shared receive queue `srqn`.
    srq: bool = (0, 24, 1),
    /// Raise the SQ-drained event on entering SQD.
    sqd_notify: bool = (0, 25, 1),
    pd: u32 = (0, 32, 24),
    pkey_index: u16 = (6, 32, 16),
    qkey: u32 = (1, 0, 32),
    dest_qpn: u32 = (1, 32, 24),
    next_send_psn: u32 = (2, 0, 24),
    expected_psn: u32 = (2, 32, 24),
    msn: u32 = (3, 0, 24),
    /// Configured transport retries.
    retry_cnt: u8 = (3, 24, 3),
    /// Configured RNR retries; 7 means unlimited.
    rnr_retry: u8 = (3, 28, 3),
    /// Transport retries left before ERR.
    retry_left: u8 = (3, 32, 3),
    /// RNR retries left before ERR.
    rnr_left: u8 = (3, 36, 3),
    /// Local ACK timeout exponent.
    timeout: u8 = (3, 40, 5),
    min_rnr_timer: u8 = (3, 48, 5),
    send_cqn: u32 = (4, 0, 24),
    recv_cqn: u32 = (4, 32, 24),
    srqn: u32 = (5, 0, 24),
    /// Initiator depth: RDMA reads and atomics outstanding as requester.
    max_rd_atomic: u8 = (5, 32, 8),
    /// Responder resources.
    max_dest_rd_atomic: u8 = (5, 40, 8),
    /// Address vector: destination LID.
    dlid: u16 = (6, 0, 16),
    /// Address vector: service level.
    sl: u8 = (6, 16, 4),
}}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_do_not_overlap_and_fit_their_words() {
        let mut used = [0u64; WORDS];
        for f in FIELDS {
            assert!(
                f.lsb + f.width <= 64,
                "{} spills out of word {}",
                f.name,
                f.word
            );
            let bits = ((1u128 << f.width) - 1) as u64;
            assert_eq!(used[f.word] & (bits << f.lsb), 0, "{} overlaps", f.name);
            used[f.word] |= bits << f.lsb;
        }
    }

    #[test]
    fn pack_and_unpack_round_trip() {
        let c = QpContext {
            state: 3,
            qp_type: 1,
            port: 2,
            path_mtu: 5,
            access: 7,
            pkey_index: 0xffff,
            srq: true,
            sqd_notify: true,
            pd: 0xabcdef,
            qkey: 0x8001_0002,
            dest_qpn: 0xfffffe,
            next_send_psn: 0xffffff,
            expected_psn: 0x123456,
            msn: 0x654321,
            retry_cnt: 7,
            rnr_retry: 6,
            retry_left: 5,
            rnr_left: 4,
            timeout: 31,
            min_rnr_timer: 30,
            send_cqn: 0x111111,
            recv_cqn: 0x222222,
            srqn: 0x333333,
            max_rd_atomic: 16,
            max_dest_rd_atomic: 15,
            dlid: 0xbeef,
            sl: 15,
        };
        assert_eq!(QpContext::unpack(&c.pack()), c);
        assert_eq!(QpContext::default().pack(), [0; WORDS]);
    }
}
