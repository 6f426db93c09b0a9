//! `hca block cq`: the CQ and EQ engine driven by JSON Lines.

use super::json::{hex64, Obj};
use super::jsonl::{serve_block, Answer, Totals};
use crate::Backend;
use anyhow::Result;
use hca_engines::blocks::cq::{open, CqTransactor};
use hca_engines::stream::Pacing;
use hca_rtl::cq::{status, Arm, CqReq, CqResp, Cqe, Eqe};
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::path::Path;

const OPS: [&str; 13] = [
    "sw2hw_cq",
    "hw2sw_cq",
    "resize",
    "moderate",
    "sw2hw_eq",
    "hw2sw_eq",
    "map_eq",
    "complete",
    "set_ci",
    "arm_cq",
    "tick",
    "eq_doorbell",
    "event",
];

fn cqe(o: &Obj) -> Result<Cqe, String> {
    o.only(&[
        "my_qpn",
        "immed",
        "rqpn",
        "sl_vid",
        "rlid",
        "status",
        "byte_cnt",
        "wqe_index",
        "vendor_err",
        "syndrome",
        "opcode",
        "is_send",
    ])?;
    let f = |n: &str, bits| if o.has(n) { o.uint(n, bits) } else { Ok(0) };
    Ok(Cqe {
        my_qpn: f("my_qpn", 24)? as u32,
        immed: f("immed", 32)? as u32,
        rqpn: f("rqpn", 24)? as u32,
        sl_vid: f("sl_vid", 16)? as u16,
        rlid: f("rlid", 16)? as u16,
        status: f("status", 16)? as u16,
        byte_cnt: f("byte_cnt", 32)? as u32,
        wqe_index: f("wqe_index", 16)? as u16,
        vendor_err: f("vendor_err", 8)? as u8,
        syndrome: f("syndrome", 8)? as u8,
        opcode: f("opcode", 5)? as u8,
        is_send: o.flag("is_send")?,
        owner: false,
    })
}

fn eqe(o: &Obj) -> Result<Eqe, String> {
    o.only(&["type", "subtype", "d0", "d1", "d2", "d3"])?;
    let f = |n: &str, bits| if o.has(n) { o.uint(n, bits) } else { Ok(0) };
    Ok(Eqe {
        event_type: o.uint("type", 8)? as u8,
        subtype: f("subtype", 8)? as u8,
        d0: f("d0", 32)? as u32,
        d1: f("d1", 32)? as u32,
        d2: f("d2", 32)? as u32,
        d3: f("d3", 64)?,
        owner: false,
    })
}

/// Parse one transaction line.
pub fn parse(line: &str) -> Result<CqReq, String> {
    let mut value = Value::Null;
    let o = Obj::parse(line, &mut value)?;
    let op = OPS
        .iter()
        .position(|n| *n == o.op())
        .ok_or_else(|| format!("unknown op `{}` (known: {})", o.op(), OPS.join(", ")))?;
    let fields: &[&str] = match op {
        0 => &["cqn", "mtt", "log_page", "log_size", "eqn"],
        1 => &["cqn"],
        2 => &["cqn", "mtt", "log_page", "log_size"],
        3 => &["cqn", "count", "period"],
        4 => &["eqn", "mtt", "log_page", "log_size", "vector"],
        5 => &["eqn"],
        6 => &["eqn", "types", "unmap"],
        7 => &["cqn", "cqe", "solicited"],
        8 => &["cqn", "ci"],
        9 => &["cqn", "arm", "sn", "ci"],
        10 => &["cqn", "ticks"],
        11 => &["eqn", "ci", "arm"],
        _ => &["eqe"],
    };
    o.only(fields)?;
    let cqn = || o.uint("cqn", 32).map(|v| v as u32);
    let eqn = || o.uint("eqn", 16).map(|v| v as u16);
    let log_size = || o.uint("log_size", 8).map(|v| v as u8);
    let mtt = || o.uint("mtt", 24).map(|v| v as u32);
    let log_page = || o.uint("log_page", 4).map(|v| v as u8);
    let nested = |name: &str| {
        o.object(name)?
            .ok_or_else(|| format!("missing field `{name}`"))
    };
    Ok(match op {
        0 => CqReq::Sw2HwCq {
            cqn: cqn()?,
            mtt: mtt()?,
            log_page: log_page()?,
            log_size: log_size()?,
            eqn: eqn()?,
        },
        1 => CqReq::Hw2SwCq { cqn: cqn()? },
        2 => CqReq::Resize {
            cqn: cqn()?,
            mtt: mtt()?,
            log_page: log_page()?,
            log_size: log_size()?,
        },
        3 => CqReq::Moderate {
            cqn: cqn()?,
            count: o.uint("count", 16)? as u16,
            period: o.uint("period", 16)? as u16,
        },
        4 => CqReq::Sw2HwEq {
            eqn: eqn()?,
            mtt: mtt()?,
            log_page: log_page()?,
            log_size: log_size()?,
            vector: o.uint("vector", 8)? as u8,
        },
        5 => CqReq::Hw2SwEq { eqn: eqn()? },
        6 => CqReq::MapEq {
            eqn: eqn()?,
            mask: o.u64("types")?,
            unmap: o.flag("unmap")?,
        },
        7 => CqReq::Complete {
            cqn: cqn()?,
            cqe: cqe(&nested("cqe")?)?,
            solicited: o.flag("solicited")?,
        },
        8 => CqReq::SetCi {
            cqn: cqn()?,
            ci: o.uint("ci", 24)? as u32,
        },
        9 => {
            let arm = match o.string("arm")? {
                "next" => Arm::Next,
                "solicited" => Arm::Solicited,
                other => {
                    return Err(format!(
                        "field `arm`: `{other}` is not `next` or `solicited`"
                    ))
                }
            };
            CqReq::ArmCq {
                cqn: cqn()?,
                arm: arm as u8,
                sn: o.uint("sn", 2)? as u8,
                ci: o.uint("ci", 24)? as u32,
            }
        }
        10 => CqReq::Tick {
            cqn: cqn()?,
            ticks: o.uint("ticks", 16)? as u16,
        },
        11 => CqReq::EqDoorbell {
            eqn: eqn()?,
            ci: o.uint("ci", 24)? as u32,
            arm: o.flag("arm")?,
        },
        _ => CqReq::Event {
            eqe: eqe(&nested("eqe")?)?,
        },
    })
}

/// The answer: status, every DMA write and interrupt, and the context left.
pub fn render(req: &CqReq, resp: &CqResp) -> Answer {
    let dma: Vec<Value> = resp
        .dma
        .iter()
        .map(|w| json!({ "addr": hex64(w.addr), "data": hex64(w.data) }))
        .collect();
    let mut v = json!({
        "status": status::name(resp.status),
        "status_code": resp.status,
        "dma": dma,
        "irqs": resp.irqs,
    });
    match req {
        CqReq::Event { .. } => {}
        CqReq::Sw2HwEq { .. }
        | CqReq::Hw2SwEq { .. }
        | CqReq::MapEq { .. }
        | CqReq::EqDoorbell { .. } => {
            let mut e = serde_json::to_value(resp.eq).expect("a context serializes");
            e["event_mask"] = json!(hex64(resp.eq.event_mask));
            v["eq"] = e;
        }
        _ => {
            let c = serde_json::to_value(resp.cq).expect("a context serializes");
            v["cq"] = c;
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
    let mut dut: CqTransactor = open(backend, vcd, Pacing::FULL_SPEED, 0)?;
    dut.set_cycle_limit(max_cycles);
    // Until a line writes it, the MTT maps page `i` at bus address `i << 12`,
    // so a buffer at MTT index `m` with 4 KiB pages is at `m * 4096`.
    let mut icm = hca_abi::SparseIcm::with_linear_mtt(hca_rtl::cq::MTT_TABLE);
    serve_block(&mut dut, &mut icm, input, output, parse, render)
}
