//! The legal QP state transitions as the QPC block holds them: the IBTA's
//! table is the ABI crate's (`hca_abi::qp_state`, which the driver checks
//! too); here, the context fields each attribute sets and the block's
//! transition ROM built from the table.

use super::attr::*;
use super::layout::{field, WORDS};
use super::{QpState, QpType};

pub use hca_abi::qp_state::{command, rule, Rule};

/// The context fields an attribute sets. `STATE` and `CUR_STATE` name the
/// state itself and set no field; the creation fields are set at RESET to
/// INIT whatever the mask says (see [`CREATION_FIELDS`]).
pub fn attr_fields(attr: u32) -> &'static [&'static str] {
    match attr {
        ACCESS_FLAGS => &["access"],
        PKEY_INDEX => &["pkey_index"],
        PORT => &["port"],
        QKEY => &["qkey"],
        AV => &["dlid", "sl"],
        PATH_MTU => &["path_mtu"],
        TIMEOUT => &["timeout"],
        RETRY_CNT => &["retry_cnt", "retry_left"],
        RNR_RETRY => &["rnr_retry", "rnr_left"],
        RQ_PSN => &["expected_psn"],
        MAX_QP_RD_ATOMIC => &["max_rd_atomic"],
        MIN_RNR_TIMER => &["min_rnr_timer"],
        SQ_PSN => &["next_send_psn"],
        MAX_DEST_RD_ATOMIC => &["max_dest_rd_atomic"],
        DEST_QPN => &["dest_qpn"],
        EN_SQD_ASYNC_NOTIFY => &["sqd_notify"],
        _ => &[],
    }
}

/// Fields a RESET to INIT always takes from the request: what mlx4's
/// RST2INIT_QP mailbox carries beyond the verbs attributes.
pub const CREATION_FIELDS: &[&str] = &["qp_type", "pd", "send_cqn", "recv_cqn", "srqn", "srq"];

/// The context bits, word by word, that an attribute sets.
pub fn attr_word_masks(attr: u32) -> [u64; WORDS] {
    let mut m = [0u64; WORDS];
    for f in attr_fields(attr).iter().map(|n| field(n)) {
        m[f.word] |= f.mask();
    }
    m
}

/// The context bits, word by word, of the creation fields.
pub fn creation_word_masks() -> [u64; WORDS] {
    let mut m = [0u64; WORDS];
    for f in CREATION_FIELDS.iter().map(|n| field(n)) {
        m[f.word] |= f.mask();
    }
    m
}

/// One entry of the RTL's transition ROM, indexed by
/// `from << 5 | to << 2 | type_row`: bit 43 = the transition exists, bit
/// 42 = the type is one the transition admits, bits 41..21 = required
/// attributes, bits 20..0 = allowed attributes (required, optional and
/// `STATE`).
pub fn rom_word(from: u8, to: u8, type_row: usize) -> u64 {
    let (Some(f), Some(t)) = (QpState::from_code(from), QpState::from_code(to)) else {
        return 0;
    };
    let qp_type = match type_row {
        0 => QpType::Rc,
        1 => QpType::Uc,
        2 => QpType::Ud,
        // Not a QP type: the transition exists for RC, refuse the type.
        _ => {
            return if rule(f, t, QpType::Rc).is_some() {
                1 << 43
            } else {
                0
            }
        }
    };
    match rule(f, t, qp_type) {
        None => 0,
        Some(r) => {
            let allowed = r.required | r.optional | STATE;
            (1 << 43) | (1 << 42) | ((r.required as u64) << 21) | allowed as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_a_rule_names_sets_a_field() {
        for from in QpState::ALL {
            for to in QpState::ALL {
                for t in QpType::ALL {
                    if let Some(r) = rule(from, to, t) {
                        for (bit, name) in NAMES.iter().enumerate().take(BITS) {
                            let a = 1u32 << bit;
                            if (r.required | r.optional) & a != 0 && a != CUR_STATE {
                                assert!(!attr_fields(a).is_empty(), "{name} names no field");
                            }
                        }
                    }
                }
            }
        }
    }
}
