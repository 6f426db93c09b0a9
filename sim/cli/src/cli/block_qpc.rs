//! `hca block qpc`: the QP context block driven by JSON Lines.

use super::json::Obj;
use super::jsonl::{serve_block, Answer, Totals};
use crate::Backend;
use anyhow::Result;
use hca_engines::blocks::qpc::{open, QpcTransactor};
use hca_engines::stream::Pacing;
use hca_rtl::qpc::layout::QpContext;
use hca_rtl::qpc::{attr, status, PsnClass, QpAttrs, QpState, QpType, QpcOp, QpcReq, QpcResp};
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::path::Path;

fn state(name: &str) -> Result<QpState, String> {
    QpState::ALL
        .into_iter()
        .find(|s| s.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = QpState::ALL.iter().map(|s| s.name()).collect();
            format!("unknown state `{name}` (known: {})", names.join(", "))
        })
}

/// The modify attributes of an `attrs` object and the mask they imply.
fn attrs(o: &Obj) -> Result<(QpAttrs, u32), String> {
    let mut a = QpAttrs::default();
    let mut mask = attr::STATE;
    for key in o.keys() {
        mask |= match key {
            "qp_type" => {
                a.qp_type = match o.string(key) {
                    Ok(name) => QpType::ALL
                        .into_iter()
                        .find(|t| t.name() == name)
                        .ok_or_else(|| format!("unknown qp_type `{name}` (known: rc, uc, ud)"))?
                        as u8,
                    Err(_) => o.uint(key, 3)? as u8,
                };
                0
            }
            "pd" => {
                a.pd = o.uint(key, 24)? as u32;
                0
            }
            "send_cqn" => {
                a.send_cqn = o.uint(key, 24)? as u32;
                0
            }
            "recv_cqn" => {
                a.recv_cqn = o.uint(key, 24)? as u32;
                0
            }
            "srqn" => {
                a.srqn = o.uint(key, 24)? as u32;
                0
            }
            "srq" => {
                a.srq = o.flag(key)?;
                0
            }
            "access_flags" => {
                a.access = o.uint(key, 3)? as u8;
                attr::ACCESS_FLAGS
            }
            "pkey_index" => {
                a.pkey_index = o.uint(key, 16)? as u16;
                attr::PKEY_INDEX
            }
            "port" => {
                a.port = o.uint(key, 8)? as u8;
                attr::PORT
            }
            "qkey" => {
                a.qkey = o.uint(key, 32)? as u32;
                attr::QKEY
            }
            "dlid" => {
                a.dlid = o.uint(key, 16)? as u16;
                attr::AV
            }
            "sl" => {
                a.sl = o.uint(key, 4)? as u8;
                attr::AV
            }
            "path_mtu" => {
                a.path_mtu = o.uint(key, 3)? as u8;
                attr::PATH_MTU
            }
            "timeout" => {
                a.timeout = o.uint(key, 5)? as u8;
                attr::TIMEOUT
            }
            "retry_cnt" => {
                a.retry_cnt = o.uint(key, 3)? as u8;
                attr::RETRY_CNT
            }
            "rnr_retry" => {
                a.rnr_retry = o.uint(key, 3)? as u8;
                attr::RNR_RETRY
            }
            "rq_psn" => {
                a.rq_psn = o.uint(key, 24)? as u32;
                attr::RQ_PSN
            }
            "max_rd_atomic" => {
                a.max_rd_atomic = o.uint(key, 8)? as u8;
                attr::MAX_QP_RD_ATOMIC
            }
            "min_rnr_timer" => {
                a.min_rnr_timer = o.uint(key, 5)? as u8;
                attr::MIN_RNR_TIMER
            }
            "sq_psn" => {
                a.sq_psn = o.uint(key, 24)? as u32;
                attr::SQ_PSN
            }
            "max_dest_rd_atomic" => {
                a.max_dest_rd_atomic = o.uint(key, 8)? as u8;
                attr::MAX_DEST_RD_ATOMIC
            }
            "dest_qpn" => {
                a.dest_qpn = o.uint(key, 24)? as u32;
                attr::DEST_QPN
            }
            "en_sqd_async_notify" => {
                a.sqd_notify = o.flag(key)?;
                attr::EN_SQD_ASYNC_NOTIFY
            }
            // Named so the block can refuse them as it would.
            "cur_state" => attr::CUR_STATE,
            "alt_path" => attr::ALT_PATH,
            "path_mig_state" => attr::PATH_MIG_STATE,
            "cap" => attr::CAP,
            other => return Err(format!("unknown attribute `{other}` in `attrs`")),
        };
    }
    Ok((a, mask))
}

/// Parse one transaction line.
pub fn parse(line: &str) -> Result<QpcReq, String> {
    let mut value = Value::Null;
    let o = Obj::parse(line, &mut value)?;
    let op = QpcOp::ALL
        .into_iter()
        .find(|op| op.name() == o.op())
        .ok_or_else(|| {
            let names: Vec<&str> = QpcOp::ALL.iter().map(|op| op.name()).collect();
            format!("unknown op `{}` (known: {})", o.op(), names.join(", "))
        })?;
    let fields: &[&str] = match op {
        QpcOp::Modify => &["qpn", "to", "attrs", "attr_mask"],
        QpcOp::Query | QpcOp::Ack | QpcOp::SendError => &["qpn"],
        QpcOp::SendPsn => &["qpn", "count"],
        QpcOp::RecvPsn => &["qpn", "psn", "last"],
        QpcOp::Retry => &["qpn", "rnr"],
    };
    o.only(fields)?;
    let qpn = o.uint("qpn", 24)? as u32;
    Ok(match op {
        QpcOp::Modify => {
            let to = state(o.string("to")?)?;
            let (a, implied) = match o.object("attrs")? {
                Some(inner) => attrs(&inner)?,
                None => (QpAttrs::default(), attr::STATE),
            };
            let mask = if o.has("attr_mask") {
                o.uint("attr_mask", attr::BITS as u32)? as u32
            } else {
                implied
            };
            QpcReq::modify(qpn, to, mask, a)
        }
        QpcOp::Query => QpcReq::query(qpn),
        QpcOp::SendPsn => QpcReq::send_psn(qpn, o.uint("count", 16)? as u16),
        QpcOp::RecvPsn => QpcReq::recv_psn(qpn, o.uint("psn", 24)? as u32, o.flag("last")?),
        QpcOp::Retry => QpcReq::retry(qpn, o.flag("rnr")?),
        QpcOp::Ack => QpcReq::ack(qpn),
        QpcOp::SendError => QpcReq::send_error(qpn),
    })
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

/// Answer every line of `input` on `output`, in order, each request held to
/// `max_cycles` when given (else to the block's own bound); returns the
/// totals and the cycles the backend ran.
pub fn serve(
    backend: Backend,
    vcd: Option<&Path>,
    max_cycles: Option<u64>,
    input: impl BufRead,
    output: impl Write,
) -> Result<(Totals, u64)> {
    let mut dut: QpcTransactor = open(backend, vcd, Pacing::FULL_SPEED, 0)?;
    dut.set_cycle_limit(max_cycles);
    let mut icm = hca_abi::SparseIcm::new();
    serve_block(&mut dut, &mut icm, input, output, parse, render)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_imply_the_mask() {
        let r = parse(r#"{"op":"modify","qpn":5,"to":"init","attrs":{"qp_type":"ud","pkey_index":0,"port":1,"qkey":7}}"#)
            .unwrap();
        assert_eq!(
            r.attr_mask,
            attr::STATE | attr::PKEY_INDEX | attr::PORT | attr::QKEY
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
                "unknown attribute `mtu`",
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
                "expected true or false",
            ),
            (r#"{"op":"flush","qpn":1}"#, "unknown op `flush`"),
        ] {
            let e = parse(line).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
        }
    }
}
