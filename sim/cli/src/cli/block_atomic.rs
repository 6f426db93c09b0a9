//! `hca block atomic`: the atomic unit driven by JSON Lines.

use super::json::{hex64, Obj};
use super::jsonl::{serve_block, Answer, Totals};
use crate::Backend;
use anyhow::Result;
use hca_engines::blocks::atomic::{open, AtomicTransactor};
use hca_engines::stream::Pacing;
use hca_rtl::atomic::{AtomicOp, AtomicReq, AtomicResp, AtomicStatus};
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::path::Path;

/// Parse one transaction line.
pub fn parse(line: &str) -> Result<AtomicReq, String> {
    let mut value = Value::Null;
    let o = Obj::parse(line, &mut value)?;
    let op = AtomicOp::ALL
        .into_iter()
        .find(|op| op.name() == o.op())
        .ok_or_else(|| {
            let names: Vec<&str> = AtomicOp::ALL.iter().map(|op| op.name()).collect();
            format!("unknown op `{}` (known: {})", o.op(), names.join(", "))
        })?;
    let fields: &[&str] = match op {
        AtomicOp::Read => &["addr"],
        AtomicOp::Write => &["addr", "value"],
        AtomicOp::Cas => &["addr", "compare", "swap"],
        AtomicOp::Fadd => &["addr", "add"],
        AtomicOp::MaskedCas => &["addr", "compare", "swap", "compare_mask", "swap_mask"],
        AtomicOp::MaskedFadd => &["addr", "add", "nocarry_mask"],
    };
    o.only(fields)?;
    let addr = o.u64("addr")?;
    let req = match op {
        AtomicOp::Read => AtomicReq::read(addr),
        AtomicOp::Write => AtomicReq::write(addr, o.u64("value")?),
        AtomicOp::Cas => AtomicReq::cas(addr, o.u64("compare")?, o.u64("swap")?),
        AtomicOp::Fadd => AtomicReq::fadd(addr, o.u64("add")?),
        AtomicOp::MaskedCas => AtomicReq::masked_cas(
            addr,
            o.u64("compare")?,
            o.u64("swap")?,
            o.u64("compare_mask")?,
            o.u64("swap_mask")?,
        ),
        AtomicOp::MaskedFadd => AtomicReq::masked_fadd(addr, o.u64("add")?, o.u64("nocarry_mask")?),
    };
    Ok(req)
}

/// The answer to a completed transaction.
pub fn render(req: &AtomicReq, resp: &AtomicResp) -> Answer {
    match resp.status {
        AtomicStatus::Ok => Answer::Response(
            match req.atomic_op() {
                Some(AtomicOp::Write) => json!({ "ok": true }),
                Some(AtomicOp::Read) => json!({ "value": hex64(resp.original) }),
                _ => json!({ "original": hex64(resp.original) }),
            }
            .to_string(),
        ),
        status => Answer::Refused(format!("{} (addr {})", status.reason(), hex64(req.addr))),
    }
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
    let mut dut: AtomicTransactor = open(backend, vcd, Pacing::FULL_SPEED, 0)?;
    dut.set_cycle_limit(max_cycles);
    serve_block(
        &mut dut,
        &mut hca_abi::NoMemory::default(),
        input,
        output,
        parse,
        render,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_the_problem() {
        let cases = [
            ("{\"op\":\"swap\",\"addr\":0}", "unknown op `swap`"),
            (
                "{\"op\":\"cas\",\"addr\":0,\"swap\":\"0x1\"}",
                "missing field `compare`",
            ),
            (
                "{\"op\":\"fadd\",\"addr\":0,\"add\":\"12\"}",
                "bad hex \"12\"",
            ),
            (
                "{\"op\":\"fadd\",\"addr\":0,\"add\":\"0x1\",\"nocarry_mask\":\"0x1\"}",
                "unknown field `nocarry_mask`",
            ),
            ("{\"addr\":0}", "missing field `op`"),
            ("[1,2]", "not a JSON object"),
            ("{op:", "not JSON"),
            ("{\"op\":\"read\",\"addr\":-8}", "not an integer"),
        ];
        for (line, want) in cases {
            let e = parse(line).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
        }
    }

    #[test]
    fn fields_map_to_the_unit_operands() {
        let r = parse(
            r#"{"op":"masked_cas","addr":"0x10","compare":"0x1","swap":"0x2","compare_mask":"0x3","swap_mask":"0x4"}"#,
        )
        .unwrap();
        assert_eq!(r.atomic_op(), Some(AtomicOp::MaskedCas));
        assert_eq!(r, AtomicReq::masked_cas(0x10, 1, 2, 3, 4));
        let r =
            parse(r#"{"op":"masked_fadd","addr":8,"add":"0x5","nocarry_mask":"0x80"}"#).unwrap();
        assert_eq!(r, AtomicReq::masked_fadd(8, 5, 0x80));
    }
}
