//! The QP states and transport types as mlx4 numbers them, the verbs
//! attribute-mask bits (`IB_QP_*`), and the IBTA's table of legal QP state
//! transitions (Vol. 1 chapter 10, the modify-QP table) with the
//! attributes each requires and allows per type, in the form the Linux
//! verbs layer checks it (`ib_modify_qp_is_ok`). Both sides read it: the
//! QPC block's transition ROM is built from it (`hca_rtl::qpc::table`),
//! and the driver checks a modify against it before it posts the command.
//!
//! Alternate paths and path migration (APM) are not supported, so
//! `ALT_PATH` and `PATH_MIG_STATE` are allowed nowhere; `CAP` (resizing a
//! QP's queues) is not a modify either.

use serde::{Deserialize, Serialize};
use QpState::*;

/// QP states, numbered as mlx4 numbers them in the QP context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum QpState {
    Reset = 0,
    Init = 1,
    Rtr = 2,
    Rts = 3,
    /// Send queue error (UC and UD only).
    Sqe = 4,
    /// Send queue drained.
    Sqd = 5,
    Err = 6,
}

impl QpState {
    pub const ALL: [QpState; 7] = [
        QpState::Reset,
        QpState::Init,
        QpState::Rtr,
        QpState::Rts,
        QpState::Sqe,
        QpState::Sqd,
        QpState::Err,
    ];

    pub fn from_code(c: u8) -> Option<QpState> {
        Self::ALL.into_iter().find(|s| *s as u8 == c)
    }

    pub const fn name(self) -> &'static str {
        match self {
            QpState::Reset => "reset",
            QpState::Init => "init",
            QpState::Rtr => "rtr",
            QpState::Rts => "rts",
            QpState::Sqe => "sqe",
            QpState::Sqd => "sqd",
            QpState::Err => "err",
        }
    }
}

/// QP transport types, with mlx4's service-type codes (XRC is 6, left for
/// later).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum QpType {
    Rc = 0,
    Uc = 1,
    Ud = 3,
}

impl QpType {
    pub const ALL: [QpType; 3] = [QpType::Rc, QpType::Uc, QpType::Ud];

    pub fn from_code(c: u8) -> Option<QpType> {
        Self::ALL.into_iter().find(|t| *t as u8 == c)
    }

    /// Row of the transition table (0 RC, 1 UC, 2 UD; 3 is "not a type").
    pub fn table_row(code: u8) -> usize {
        match QpType::from_code(code) {
            Some(QpType::Rc) => 0,
            Some(QpType::Uc) => 1,
            Some(QpType::Ud) => 2,
            None => 3,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            QpType::Rc => "rc",
            QpType::Uc => "uc",
            QpType::Ud => "ud",
        }
    }
}

/// Attribute-mask bits of a modify, numbered as the verbs `IB_QP_*` bits.
pub mod attr {
    pub const STATE: u32 = 1 << 0;
    pub const CUR_STATE: u32 = 1 << 1;
    pub const EN_SQD_ASYNC_NOTIFY: u32 = 1 << 2;
    pub const ACCESS_FLAGS: u32 = 1 << 3;
    pub const PKEY_INDEX: u32 = 1 << 4;
    pub const PORT: u32 = 1 << 5;
    pub const QKEY: u32 = 1 << 6;
    pub const AV: u32 = 1 << 7;
    pub const PATH_MTU: u32 = 1 << 8;
    pub const TIMEOUT: u32 = 1 << 9;
    pub const RETRY_CNT: u32 = 1 << 10;
    pub const RNR_RETRY: u32 = 1 << 11;
    pub const RQ_PSN: u32 = 1 << 12;
    pub const MAX_QP_RD_ATOMIC: u32 = 1 << 13;
    /// Alternate path (APM): not supported; a modify naming it is refused.
    pub const ALT_PATH: u32 = 1 << 14;
    pub const MIN_RNR_TIMER: u32 = 1 << 15;
    pub const SQ_PSN: u32 = 1 << 16;
    pub const MAX_DEST_RD_ATOMIC: u32 = 1 << 17;
    /// Path migration state (APM): not supported.
    pub const PATH_MIG_STATE: u32 = 1 << 18;
    pub const CAP: u32 = 1 << 19;
    pub const DEST_QPN: u32 = 1 << 20;
    /// Width of the mask on the block's port.
    pub const BITS: usize = 21;

    /// Names, bit by bit, for errors and the JSON interface.
    pub const NAMES: [&str; BITS] = [
        "state",
        "cur_state",
        "en_sqd_async_notify",
        "access_flags",
        "pkey_index",
        "port",
        "qkey",
        "av",
        "path_mtu",
        "timeout",
        "retry_cnt",
        "rnr_retry",
        "rq_psn",
        "max_qp_rd_atomic",
        "alt_path",
        "min_rnr_timer",
        "sq_psn",
        "max_dest_rd_atomic",
        "path_mig_state",
        "cap",
        "dest_qpn",
    ];
}

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

use attr::*;

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

#[cfg(test)]
mod tests {
    use super::*;

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
