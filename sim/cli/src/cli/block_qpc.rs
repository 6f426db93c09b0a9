//! `hca block qpc`: the QP context block driven by JSON Lines.

use super::json::{fields, parse_line, Named, Names, Op, Uint};
use super::jsonl::{Answer, JsonBlock};
use crate::Backend;
use anyhow::Result;
use hca_engines::blocks::qpc::open;
use hca_engines::stream::Pacing;
use hca_rtl::qpc::layout::QpContext;
use hca_rtl::qpc::{status, PsnClass, QpState, QpType, QpcOp, QpcReq, QpcResp};
use hca_rtl::transactor::{BlockMemory, Transactor};
use serde_json::{json, Value};
use std::path::Path;

/// QP states, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State;
impl Names for State {
    const WHAT: &'static str = "state";
    const NAMES: &'static [&'static str] = &{
        let mut n = [""; QpState::ALL.len()];
        let mut i = 0;
        while i < n.len() {
            n[i] = QpState::ALL[i].name();
            i += 1;
        }
        n
    };
    const BITS: u32 = 3;
    fn code(i: usize) -> u8 {
        QpState::ALL[i] as u8
    }
}

/// QP transport types, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Type;
impl Names for Type {
    const WHAT: &'static str = "qp_type";
    const NAMES: &'static [&'static str] = &{
        let mut n = [""; QpType::ALL.len()];
        let mut i = 0;
        while i < n.len() {
            n[i] = QpType::ALL[i].name();
            i += 1;
        }
        n
    };
    const BITS: u32 = 3;
    fn code(i: usize) -> u8 {
        QpType::ALL[i] as u8
    }
}

/// Each op's operands.
mod operands {
    use super::{Named, State, Type, Uint};
    use hca_rtl::qpc::{attr, QpAttrs};
    use serde::de::IgnoredAny;
    use serde::Deserialize;

    /// A modify's attributes, each setting its bit of the mask it implies.
    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    pub struct Attrs {
        qp_type: Option<Named<Type>>,
        pd: Option<Uint<24>>,
        send_cqn: Option<Uint<24>>,
        recv_cqn: Option<Uint<24>>,
        srqn: Option<Uint<24>>,
        srq: Option<bool>,
        access_flags: Option<Uint<3>>,
        pkey_index: Option<Uint<16>>,
        port: Option<Uint<8>>,
        qkey: Option<Uint<32>>,
        dlid: Option<Uint<16>>,
        sl: Option<Uint<4>>,
        path_mtu: Option<Uint<3>>,
        timeout: Option<Uint<5>>,
        retry_cnt: Option<Uint<3>>,
        rnr_retry: Option<Uint<3>>,
        rq_psn: Option<Uint<24>>,
        max_rd_atomic: Option<Uint<8>>,
        min_rnr_timer: Option<Uint<5>>,
        sq_psn: Option<Uint<24>>,
        max_dest_rd_atomic: Option<Uint<8>>,
        dest_qpn: Option<Uint<24>>,
        en_sqd_async_notify: Option<bool>,
        // Named so the block can refuse them as it would: their values
        // are not read.
        cur_state: Option<IgnoredAny>,
        alt_path: Option<IgnoredAny>,
        path_mig_state: Option<IgnoredAny>,
        cap: Option<IgnoredAny>,
    }

    impl Attrs {
        /// The attributes, and the mask they imply (the state always).
        pub fn get(&self) -> (QpAttrs, u32) {
            let mut a = QpAttrs::default();
            let mut mask = attr::STATE;
            // Each given attribute: its value into the request, its bit (0
            // for a creation field, which has none) into the mask.
            macro_rules! put {
                ($($field:ident => $dst:ident $(. $conv:ident)?, $bit:expr;)*) => {$(
                    if let Some(v) = self.$field {
                        a.$dst = v$(.$conv())?;
                        mask |= $bit;
                    }
                )*};
            }
            put! {
                pd => pd.u32, 0;
                send_cqn => send_cqn.u32, 0;
                recv_cqn => recv_cqn.u32, 0;
                srqn => srqn.u32, 0;
                srq => srq, 0;
                access_flags => access.u8, attr::ACCESS_FLAGS;
                pkey_index => pkey_index.u16, attr::PKEY_INDEX;
                port => port.u8, attr::PORT;
                qkey => qkey.u32, attr::QKEY;
                dlid => dlid.u16, attr::AV;
                sl => sl.u8, attr::AV;
                path_mtu => path_mtu.u8, attr::PATH_MTU;
                timeout => timeout.u8, attr::TIMEOUT;
                retry_cnt => retry_cnt.u8, attr::RETRY_CNT;
                rnr_retry => rnr_retry.u8, attr::RNR_RETRY;
                rq_psn => rq_psn.u32, attr::RQ_PSN;
                max_rd_atomic => max_rd_atomic.u8, attr::MAX_QP_RD_ATOMIC;
                min_rnr_timer => min_rnr_timer.u8, attr::MIN_RNR_TIMER;
                sq_psn => sq_psn.u32, attr::SQ_PSN;
                max_dest_rd_atomic => max_dest_rd_atomic.u8, attr::MAX_DEST_RD_ATOMIC;
                dest_qpn => dest_qpn.u32, attr::DEST_QPN;
                en_sqd_async_notify => sqd_notify, attr::EN_SQD_ASYNC_NOTIFY;
            }
            if let Some(t) = self.qp_type {
                a.qp_type = t.0;
            }
            for (given, bit) in [
                (self.cur_state.is_some(), attr::CUR_STATE),
                (self.alt_path.is_some(), attr::ALT_PATH),
                (self.path_mig_state.is_some(), attr::PATH_MIG_STATE),
                (self.cap.is_some(), attr::CAP),
            ] {
                if given {
                    mask |= bit;
                }
            }
            (a, mask)
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Modify {
        pub qpn: Uint<24>,
        pub to: Named<State>,
        #[serde(default)]
        pub attrs: Attrs,
        /// Overrides the mask the attributes imply.
        pub attr_mask: Option<Uint<21>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Qpn {
        pub qpn: Uint<24>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct SendPsn {
        pub qpn: Uint<24>,
        pub count: Uint<16>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RecvPsn {
        pub qpn: Uint<24>,
        pub psn: Uint<24>,
        #[serde(default)]
        pub last: bool,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Retry {
        pub qpn: Uint<24>,
        #[serde(default)]
        pub rnr: bool,
    }
}

use operands as o;

/// The ops, by the block's names for them.
const OPS: &[Op<QpcReq>] = &[
    Op {
        name: QpcOp::Modify.name(),
        parse: |v| {
            fields(v).and_then(|f: o::Modify| {
                let to = QpState::from_code(f.to.0)
                    .ok_or_else(|| format!("field `to`: no state has the code {}", f.to.0))?;
                let (a, implied) = f.attrs.get();
                let mask = f.attr_mask.map_or(implied, |m| m.u32());
                Ok(QpcReq::modify(f.qpn.u32(), to, mask, a))
            })
        },
    },
    Op {
        name: QpcOp::Query.name(),
        parse: |v| fields(v).map(|f: o::Qpn| QpcReq::query(f.qpn.u32())),
    },
    Op {
        name: QpcOp::SendPsn.name(),
        parse: |v| fields(v).map(|f: o::SendPsn| QpcReq::send_psn(f.qpn.u32(), f.count.u16())),
    },
    Op {
        name: QpcOp::RecvPsn.name(),
        parse: |v| {
            fields(v).map(|f: o::RecvPsn| QpcReq::recv_psn(f.qpn.u32(), f.psn.u32(), f.last))
        },
    },
    Op {
        name: QpcOp::Retry.name(),
        parse: |v| fields(v).map(|f: o::Retry| QpcReq::retry(f.qpn.u32(), f.rnr)),
    },
    Op {
        name: QpcOp::Ack.name(),
        parse: |v| fields(v).map(|f: o::Qpn| QpcReq::ack(f.qpn.u32())),
    },
    Op {
        name: QpcOp::SendError.name(),
        parse: |v| fields(v).map(|f: o::Qpn| QpcReq::send_error(f.qpn.u32())),
    },
];

/// Parse one transaction line.
pub fn parse(line: &str) -> Result<QpcReq, String> {
    parse_line(line, OPS)
}

fn context_json(c: &QpContext) -> Value {
    let mut v = serde_json::to_value(c).expect("a context serializes");
    v["state"] = json!(QpState::from_code(c.state).map_or("invalid", |s| s.name()));
    v["qp_type"] = json!(QpType::from_code(c.qp_type).map_or("invalid", |t| t.name()));
    v
}

/// The answer to a completed request.
pub fn render(req: &QpcReq, resp: &QpcResp) -> Answer {
    let mut v = json!({
        "status": status::name(resp.status),
        "status_code": resp.status,
        "context": context_json(&resp.ctx),
    });
    if resp.status == status::OK {
        match QpcOp::from_code(req.op) {
            Some(QpcOp::SendPsn) => v["psn"] = json!(resp.psn),
            Some(QpcOp::RecvPsn) => {
                let class = PsnClass::from_code(resp.class).unwrap_or(PsnClass::OutOfSequence);
                v["class"] = serde_json::to_value(class).expect("a class serializes");
            }
            _ => {}
        }
    }
    Answer::Response(v.to_string())
}

/// The block as `hca block qpc` serves it.
pub struct Qpc;

impl JsonBlock for Qpc {
    type Req = QpcReq;
    type Resp = QpcResp;
    const OPS: &'static [Op<QpcReq>] = OPS;

    fn open(
        backend: Backend,
        vcd: Option<&Path>,
    ) -> Result<Box<dyn Transactor<Req = QpcReq, Resp = QpcResp> + Send>> {
        open(backend, vcd, Pacing::FULL_SPEED, 0)
    }

    /// The QP contexts in ICM.
    fn memory() -> Box<dyn BlockMemory> {
        Box::new(hca_abi::SparseIcm::new())
    }

    fn render(req: &QpcReq, resp: &QpcResp) -> Answer {
        render(req, resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_of_the_block_is_named() {
        let names: Vec<&str> = OPS.iter().map(|o| o.name).collect();
        let block: Vec<&str> = QpcOp::ALL.iter().map(|o| o.name()).collect();
        assert_eq!(names, block);
    }

    #[test]
    fn attributes_imply_the_mask() {
        let r = parse(r#"{"op":"modify","qpn":5,"to":"init","attrs":{"qp_type":"ud","pkey_index":0,"port":1,"qkey":7}}"#)
            .unwrap();
        assert_eq!(
            r.attr_mask,
            hca_rtl::qpc::attr::STATE
                | hca_rtl::qpc::attr::PKEY_INDEX
                | hca_rtl::qpc::attr::PORT
                | hca_rtl::qpc::attr::QKEY
        );
        assert_eq!(
            (r.attrs.qp_type, r.attrs.qkey, r.to),
            (QpType::Ud as u8, 7, QpState::Init as u8)
        );
    }

    #[test]
    fn bad_lines_name_the_problem() {
        for (line, want) in [
            (
                r#"{"op":"modify","qpn":5,"to":"ready"}"#,
                "unknown state `ready`",
            ),
            (
                r#"{"op":"modify","qpn":5,"to":"rtr","attrs":{"mtu":5}}"#,
                "field `attrs`: unknown field `mtu`",
            ),
            (
                r#"{"op":"modify","qpn":5,"to":"rtr","attrs":{"port":256}}"#,
                "does not fit in 8 bits",
            ),
            (
                r#"{"op":"query","qpn":16777216}"#,
                "does not fit in 24 bits",
            ),
            (r#"{"op":"send_psn","qpn":1}"#, "missing field `count`"),
            (
                r#"{"op":"recv_psn","qpn":1,"psn":3,"last":1}"#,
                "field `last`: invalid type: integer `1`, expected a boolean",
            ),
            (r#"{"op":"flush","qpn":1}"#, "unknown op `flush`"),
        ] {
            let e = parse(line).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
        }
    }
}
