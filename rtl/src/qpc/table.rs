//! The legal QP state transitions, with the attributes each requires and
//! allows per QP type: IBTA Vol. 1 chapter 10 (the modify-QP table), in
//! the form the Linux verbs layer checks it (`ib_modify_qp_is_ok`).
//!
//! Alternate paths and path migration (APM) are not supported, so
//! `ALT_PATH` and `PATH_MIG_STATE` are allowed nowhere; `CAP` (resizing a
//! QP's queues) is not a modify of this block either.

use super::attr::*;
use super::layout::{field, WORDS};
use super::{QpState, QpType};
use QpState::*;

/// What a (from, to) pair requires and allows for one QP type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub required: u32,
    pub optional: u32,
}

const NONE: Rule = Rule {
    required: 0,
    optional: 0,
};

fn per_type(t: QpType, ud: Rule, uc: Rule, rc: Rule) -> Rule {
    match t {
        QpType::Ud => ud,
        QpType::Uc => uc,
        QpType::Rc => rc,
    }
}

fn req(required: u32) -> Rule {
    Rule {
        required,
        optional: 0,
    }
}

fn opt(optional: u32) -> Rule {
    Rule {
        required: 0,
        optional,
    }
}

/// The rule for moving a QP of type `t` from `from` to `to`, or `None`
/// when the IBTA does not allow that transition.
pub fn rule(from: QpState, to: QpState, t: QpType) -> Option<Rule> {
    let r = match (from, to) {
        (_, Reset) => NONE,
        (Reset, _) if to != Init => return None,
        (Err, Err) => NONE,
        (_, Err) if from != Reset => NONE,
        (Reset, Init) => per_type(
            t,
            req(PKEY_INDEX | PORT | QKEY),
            req(PKEY_INDEX | PORT | ACCESS_FLAGS),
            req(PKEY_INDEX | PORT | ACCESS_FLAGS),
        ),
        (Init, Init) => per_type(
            t,
            opt(PKEY_INDEX | PORT | QKEY),
            opt(PKEY_INDEX | PORT | ACCESS_FLAGS),
            opt(PKEY_INDEX | PORT | ACCESS_FLAGS),
        ),
        (Init, Rtr) => per_type(
            t,
            opt(PKEY_INDEX | QKEY),
            Rule {
                required: AV | PATH_MTU | DEST_QPN | RQ_PSN,
                optional: ACCESS_FLAGS | PKEY_INDEX,
            },
            Rule {
                required: AV | PATH_MTU | DEST_QPN | RQ_PSN | MAX_DEST_RD_ATOMIC | MIN_RNR_TIMER,
                optional: ACCESS_FLAGS | PKEY_INDEX,
            },
        ),
        (Rtr, Rts) => per_type(
            t,
            Rule {
                required: SQ_PSN,
                optional: CUR_STATE | QKEY,
            },
            Rule {
                required: SQ_PSN,
                optional: CUR_STATE | ACCESS_FLAGS,
            },
            Rule {
                required: TIMEOUT | RETRY_CNT | RNR_RETRY | SQ_PSN | MAX_QP_RD_ATOMIC,
                optional: CUR_STATE | ACCESS_FLAGS | MIN_RNR_TIMER,
            },
        ),
        (Rts, Rts) => per_type(
            t,
            opt(CUR_STATE | QKEY),
            opt(CUR_STATE | ACCESS_FLAGS),
            opt(CUR_STATE | ACCESS_FLAGS | MIN_RNR_TIMER),
        ),
        (Rts, Sqd) => opt(EN_SQD_ASYNC_NOTIFY),
        (Sqd, Rts) => per_type(
            t,
            opt(CUR_STATE | QKEY),
            opt(CUR_STATE | ACCESS_FLAGS),
            opt(CUR_STATE | ACCESS_FLAGS | MIN_RNR_TIMER),
        ),
        (Sqd, Sqd) => per_type(
            t,
            opt(PKEY_INDEX | QKEY),
            opt(AV | ACCESS_FLAGS | PKEY_INDEX),
            opt(PORT
                | AV
                | TIMEOUT
                | RETRY_CNT
                | RNR_RETRY
                | MAX_QP_RD_ATOMIC
                | MAX_DEST_RD_ATOMIC
                | ACCESS_FLAGS
                | PKEY_INDEX
                | MIN_RNR_TIMER),
        ),
        // Only UC and UD QPs enter SQE; the rule for RC is moot.
        (Sqe, Rts) => per_type(
            t,
            opt(CUR_STATE | QKEY),
            opt(CUR_STATE | ACCESS_FLAGS),
            NONE,
        ),
        _ => return None,
    };
    Some(r)
}

/// The mlx4 command that performs a transition (for docs and traces).
pub fn command(from: QpState, to: QpState) -> Option<&'static str> {
    Some(match (from, to) {
        (_, Reset) => "2RST_QP",
        (Reset, Err) => return None,
        (_, Err) => "2ERR_QP",
        (Reset, Init) => "RST2INIT_QP",
        (Init, Init) => "INIT2INIT_QP",
        (Init, Rtr) => "INIT2RTR_QP",
        (Rtr, Rts) => "RTR2RTS_QP",
        (Rts, Rts) => "RTS2RTS_QP",
        (Rts, Sqd) => "RTS2SQD_QP",
        (Sqd, Rts) => "SQD2RTS_QP",
        (Sqd, Sqd) => "SQD2SQD_QP",
        (Sqe, Rts) => "SQERR2RTS_QP",
        _ => return None,
    })
}

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

    #[test]
    fn commands_exist_exactly_for_legal_transitions() {
        for from in QpState::ALL {
            for to in QpState::ALL {
                let legal = QpType::ALL.iter().any(|t| rule(from, to, *t).is_some());
                // RESET to RESET and ERR to ERR are legal no-ops; mlx4 names them 2RST/2ERR.
                assert_eq!(legal, command(from, to).is_some(), "{from:?} -> {to:?}");
            }
        }
    }
}
