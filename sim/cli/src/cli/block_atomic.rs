//! `hca block atomic`: the atomic unit driven by JSON Lines.

use super::json::{fields, hex64, parse_line, Op, U64};
use super::jsonl::{Answer, JsonBlock};
use crate::Backend;
use anyhow::Result;
use hca_engines::blocks::atomic::open;
use hca_engines::stream::Pacing;
use hca_rtl::atomic::{AtomicOp, AtomicReq, AtomicResp, AtomicStatus};
use hca_rtl::transactor::{BlockMemory, Transactor};
use serde_json::json;
use std::path::Path;

/// Each op's operands.
mod operands {
    use super::U64;
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Read {
        pub addr: U64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Write {
        pub addr: U64,
        pub value: U64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Cas {
        pub addr: U64,
        pub compare: U64,
        pub swap: U64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Fadd {
        pub addr: U64,
        pub add: U64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct MaskedCas {
        pub addr: U64,
        pub compare: U64,
        pub swap: U64,
        pub compare_mask: U64,
        pub swap_mask: U64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct MaskedFadd {
        pub addr: U64,
        pub add: U64,
        pub nocarry_mask: U64,
    }
}

/// The ops, by the unit's names for them.
const OPS: &[Op<AtomicReq>] = &[
    Op {
        name: AtomicOp::Read.name(),
        parse: |v| fields(v).map(|f: operands::Read| AtomicReq::read(f.addr.0)),
    },
    Op {
        name: AtomicOp::Write.name(),
        parse: |v| fields(v).map(|f: operands::Write| AtomicReq::write(f.addr.0, f.value.0)),
    },
    Op {
        name: AtomicOp::Cas.name(),
        parse: |v| {
            fields(v).map(|f: operands::Cas| AtomicReq::cas(f.addr.0, f.compare.0, f.swap.0))
        },
    },
    Op {
        name: AtomicOp::Fadd.name(),
        parse: |v| fields(v).map(|f: operands::Fadd| AtomicReq::fadd(f.addr.0, f.add.0)),
    },
    Op {
        name: AtomicOp::MaskedCas.name(),
        parse: |v| {
            fields(v).map(|f: operands::MaskedCas| {
                AtomicReq::masked_cas(
                    f.addr.0,
                    f.compare.0,
                    f.swap.0,
                    f.compare_mask.0,
                    f.swap_mask.0,
                )
            })
        },
    },
    Op {
        name: AtomicOp::MaskedFadd.name(),
        parse: |v| {
            fields(v).map(|f: operands::MaskedFadd| {
                AtomicReq::masked_fadd(f.addr.0, f.add.0, f.nocarry_mask.0)
            })
        },
    },
];

/// Parse one transaction line.
pub fn parse(line: &str) -> Result<AtomicReq, String> {
    parse_line(line, OPS)
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

/// The block as `hca block atomic` serves it.
pub struct Atomic;

impl JsonBlock for Atomic {
    type Req = AtomicReq;
    type Resp = AtomicResp;
    const OPS: &'static [Op<AtomicReq>] = OPS;

    fn open(
        backend: Backend,
        vcd: Option<&Path>,
    ) -> Result<Box<dyn Transactor<Req = AtomicReq, Resp = AtomicResp> + Send>> {
        open(backend, vcd, Pacing::FULL_SPEED, 0)
    }

    /// The atomic unit: no memory behind it.
    fn memory() -> Box<dyn BlockMemory> {
        Box::new(hca_abi::NoMemory::default())
    }

    fn render(req: &AtomicReq, resp: &AtomicResp) -> Answer {
        render(req, resp)
    }
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
            (
                "{\"op\":\"read\",\"addr\":-8}",
                "field `addr`: -8 is not an integer",
            ),
        ];
        for (line, want) in cases {
            let e = parse(line).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
        }
    }

    #[test]
    fn every_op_of_the_unit_is_named_as_the_unit_names_it() {
        let names: Vec<&str> = OPS.iter().map(|o| o.name).collect();
        let unit: Vec<&str> = AtomicOp::ALL.iter().map(|o| o.name()).collect();
        assert_eq!(names, unit);
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
