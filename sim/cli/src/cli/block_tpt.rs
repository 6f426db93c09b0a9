//! `hca block tpt`: the TPT driven by JSON Lines.

use super::json::{hex64, Obj};
use super::jsonl::{serve_block, Answer, Totals};
use crate::Backend;
use anyhow::Result;
use hca_engines::blocks::tpt::{open, TptTransactor};
use hca_engines::stream::Pacing;
use hca_rtl::tpt::layout::MptEntry;
use hca_rtl::tpt::{status, MptKind, MptState, TptOp, TptReq, TptResp};
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::path::Path;

const ACCESS_NAMES: [&str; 5] = [
    "local_read",
    "local_write",
    "remote_read",
    "remote_write",
    "atomic",
];
const KIND_NAMES: [&str; 4] = ["mr", "fmr", "fast_reg", "physical"];
const STATE_NAMES: [&str; 3] = ["free", "valid", "invalid"];

/// Access bits: a number, or a list of names.
fn access(o: &Obj, name: &str) -> Result<u8, String> {
    match o.list(name)? {
        None => Ok(if o.has(name) {
            o.uint(name, 5)? as u8
        } else {
            0
        }),
        Some(items) => items.iter().try_fold(0u8, |acc, item| {
            let bit = ACCESS_NAMES.iter().position(|n| n == item).ok_or_else(|| {
                format!(
                    "unknown access `{item}` (known: {})",
                    ACCESS_NAMES.join(", ")
                )
            })?;
            Ok(acc | 1 << bit)
        }),
    }
}

fn named(o: &Obj, name: &str, names: &[&str], bits: u32) -> Result<u8, String> {
    match o.string(name) {
        Ok(s) => names
            .iter()
            .position(|n| *n == s)
            .map(|p| p as u8)
            .ok_or_else(|| {
                format!(
                    "field `{name}`: unknown `{s}` (known: {})",
                    names.join(", ")
                )
            }),
        Err(_) => Ok(o.uint(name, bits)? as u8),
    }
}

fn entry(o: &Obj) -> Result<MptEntry, String> {
    o.only(&[
        "state",
        "tag",
        "access",
        "remote_inv",
        "kind",
        "log_page",
        "pd",
        "va",
        "len",
        "mtt_base",
    ])?;
    Ok(MptEntry {
        state: if o.has("state") {
            named(o, "state", &STATE_NAMES, 2)?
        } else {
            MptState::Valid as u8
        },
        tag: if o.has("tag") {
            o.uint("tag", 8)? as u8
        } else {
            0
        },
        access: access(o, "access")?,
        remote_inv: o.flag("remote_inv")?,
        kind: if o.has("kind") {
            named(o, "kind", &KIND_NAMES, 2)?
        } else {
            MptKind::Mr as u8
        },
        log_page: o.uint("log_page", 6)? as u8,
        pd: o.uint("pd", 24)? as u32,
        va: o.u64("va")?,
        len: o.u64("len")?,
        mtt_base: o.uint("mtt_base", 24)? as u32,
    })
}

/// Parse one transaction line.
pub fn parse(line: &str) -> Result<TptReq, String> {
    let mut value = Value::Null;
    let o = Obj::parse(line, &mut value)?;
    let op = TptOp::ALL
        .into_iter()
        .find(|op| op.name() == o.op())
        .ok_or_else(|| {
            let names: Vec<&str> = TptOp::ALL.iter().map(|op| op.name()).collect();
            format!("unknown op `{}` (known: {})", o.op(), names.join(", "))
        })?;
    let fields: &[&str] = match op {
        TptOp::Lookup => &["key", "pd", "va", "len", "access"],
        TptOp::Sw2Hw | TptOp::HostWriteMpt => &["index", "entry"],
        TptOp::Hw2Sw | TptOp::Query => &["index"],
        TptOp::WriteMtt | TptOp::HostWriteMtt => &["mtt", "addr"],
        TptOp::LocalInv | TptOp::RemoteInv => &["key", "pd"],
        TptOp::FastReg => &["key", "pd", "va", "len", "access", "log_page"],
        TptOp::SyncTpt => &[],
    };
    o.only(fields)?;
    let index = || o.uint("index", 24).map(|v| v as u32);
    let key = || o.uint("key", 32).map(|v| v as u32);
    let pd = || o.uint("pd", 24).map(|v| v as u32);
    let new_entry = || {
        o.object("entry")?
            .ok_or_else(|| "missing field `entry`".to_string())
            .and_then(|e| entry(&e))
    };
    Ok(match op {
        TptOp::Lookup => TptReq::lookup(
            key()?,
            pd()?,
            o.u64("va")?,
            o.uint("len", 32)? as u32,
            access(&o, "access")?,
        ),
        TptOp::Sw2Hw => TptReq::sw2hw(index()?, new_entry()?),
        TptOp::HostWriteMpt => TptReq::host_write_mpt(index()?, new_entry()?),
        TptOp::Hw2Sw => TptReq::hw2sw(index()?),
        TptOp::Query => TptReq::query(index()?),
        TptOp::WriteMtt => TptReq::write_mtt(o.uint("mtt", 24)? as u32, o.u64("addr")?),
        TptOp::HostWriteMtt => TptReq::host_write_mtt(o.uint("mtt", 24)? as u32, o.u64("addr")?),
        TptOp::LocalInv => TptReq::local_inv(key()?, pd()?),
        TptOp::RemoteInv => TptReq::remote_inv(key()?, pd()?),
        TptOp::FastReg => TptReq::fast_reg(
            key()?,
            pd()?,
            o.u64("va")?,
            o.u64("len")?,
            access(&o, "access")?,
            o.uint("log_page", 6)? as u8,
        ),
        TptOp::SyncTpt => TptReq::sync_tpt(),
    })
}

fn entry_json(e: &MptEntry) -> Value {
    let names = |bits: u8| -> Vec<&str> {
        (0..5)
            .filter(|b| bits >> b & 1 == 1)
            .map(|b| ACCESS_NAMES[b])
            .collect()
    };
    json!({
        "state": STATE_NAMES.get(e.state as usize).copied().unwrap_or("reserved"),
        "tag": e.tag,
        "access": names(e.access),
        "remote_inv": e.remote_inv,
        "kind": KIND_NAMES.get(e.kind as usize).copied().unwrap_or("reserved"),
        "log_page": e.log_page,
        "pd": e.pd,
        "va": hex64(e.va),
        "len": hex64(e.len),
        "mtt_base": e.mtt_base,
    })
}

/// The answer to a completed request.
pub fn render(req: &TptReq, resp: &TptResp) -> Answer {
    let mut v = json!({ "status": status::name(resp.status), "status_code": resp.status });
    match TptOp::from_code(req.op) {
        Some(TptOp::Lookup) => {
            v["pages"] = json!(resp.pages.iter().map(|p| hex64(*p)).collect::<Vec<_>>());
            v["entry"] = entry_json(&resp.entry);
        }
        Some(TptOp::WriteMtt | TptOp::SyncTpt | TptOp::HostWriteMpt | TptOp::HostWriteMtt)
        | None => {}
        Some(_) => v["entry"] = entry_json(&resp.entry),
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
    let mut dut: TptTransactor = open(backend, vcd, Pacing::FULL_SPEED, 0)?;
    dut.set_cycle_limit(max_cycles);
    let mut icm = hca_abi::SparseIcm::new();
    serve_block(&mut dut, &mut icm, input, output, parse, render)
}
