//! `hca block tpt`: the TPT driven by JSON Lines.

use super::json::{fields, hex64, parse_line, NamedBits, Names, NoFields, Op, Uint, U64};
use super::jsonl::{Answer, JsonBlock};
use crate::Backend;
use anyhow::Result;
use hca_engines::blocks::tpt::open;
use hca_engines::stream::Pacing;
use hca_rtl::tpt::layout::MptEntry;
use hca_rtl::tpt::{status, TptOp, TptReq, TptResp};
use hca_rtl::transactor::{BlockMemory, Transactor};
use serde_json::{json, Value};
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

/// Access bits, by name (bit `i` is `ACCESS_NAMES[i]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access;
impl Names for Access {
    const WHAT: &'static str = "access";
    const NAMES: &'static [&'static str] = &ACCESS_NAMES;
    const BITS: u32 = 5;
}

/// An entry's kind, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind;
impl Names for Kind {
    const WHAT: &'static str = "kind";
    const NAMES: &'static [&'static str] = &KIND_NAMES;
    const BITS: u32 = 2;
}

/// An entry's state, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State;
impl Names for State {
    const WHAT: &'static str = "state";
    const NAMES: &'static [&'static str] = &STATE_NAMES;
    const BITS: u32 = 2;
}

/// Each op's operands.
mod operands {
    use super::{Access, Kind, NamedBits, State, Uint, U64};
    use crate::cli::json::Named;
    use hca_rtl::tpt::layout::MptEntry;
    use hca_rtl::tpt::{MptKind, MptState};
    use serde::Deserialize;

    fn valid() -> Named<State> {
        Named::new(MptState::Valid as u8)
    }

    fn mr() -> Named<Kind> {
        Named::new(MptKind::Mr as u8)
    }

    /// An MPT entry: a valid ordinary region unless it says otherwise.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Entry {
        #[serde(default = "valid")]
        state: Named<State>,
        #[serde(default)]
        tag: Uint<8>,
        #[serde(default)]
        access: NamedBits<Access>,
        #[serde(default)]
        remote_inv: bool,
        #[serde(default = "mr")]
        kind: Named<Kind>,
        log_page: Uint<6>,
        pd: Uint<24>,
        va: U64,
        len: U64,
        mtt_base: Uint<24>,
    }

    impl Entry {
        pub fn get(&self) -> MptEntry {
            MptEntry {
                state: self.state.0,
                tag: self.tag.u8(),
                access: self.access.0,
                remote_inv: self.remote_inv,
                kind: self.kind.0,
                log_page: self.log_page.u8(),
                pd: self.pd.u32(),
                va: self.va.0,
                len: self.len.0,
                mtt_base: self.mtt_base.u32(),
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Lookup {
        pub key: Uint<32>,
        pub pd: Uint<24>,
        pub va: U64,
        pub len: Uint<32>,
        #[serde(default)]
        pub access: NamedBits<Access>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct WithEntry {
        pub index: Uint<24>,
        pub entry: Entry,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Index {
        pub index: Uint<24>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Mtt {
        pub mtt: Uint<24>,
        pub addr: U64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Key {
        pub key: Uint<32>,
        pub pd: Uint<24>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct FastReg {
        pub key: Uint<32>,
        pub pd: Uint<24>,
        pub va: U64,
        pub len: U64,
        #[serde(default)]
        pub access: NamedBits<Access>,
        pub log_page: Uint<6>,
    }
}

use operands as o;

/// The ops, by the TPT's names for them.
const OPS: &[Op<TptReq>] = &[
    Op {
        name: TptOp::Lookup.name(),
        parse: |v| {
            fields(v).map(|f: o::Lookup| {
                TptReq::lookup(f.key.u32(), f.pd.u32(), f.va.0, f.len.u32(), f.access.0)
            })
        },
    },
    Op {
        name: TptOp::Sw2Hw.name(),
        parse: |v| fields(v).map(|f: o::WithEntry| TptReq::sw2hw(f.index.u32(), f.entry.get())),
    },
    Op {
        name: TptOp::Hw2Sw.name(),
        parse: |v| fields(v).map(|f: o::Index| TptReq::hw2sw(f.index.u32())),
    },
    Op {
        name: TptOp::Query.name(),
        parse: |v| fields(v).map(|f: o::Index| TptReq::query(f.index.u32())),
    },
    Op {
        name: TptOp::WriteMtt.name(),
        parse: |v| fields(v).map(|f: o::Mtt| TptReq::write_mtt(f.mtt.u32(), f.addr.0)),
    },
    Op {
        name: TptOp::LocalInv.name(),
        parse: |v| fields(v).map(|f: o::Key| TptReq::local_inv(f.key.u32(), f.pd.u32())),
    },
    Op {
        name: TptOp::RemoteInv.name(),
        parse: |v| fields(v).map(|f: o::Key| TptReq::remote_inv(f.key.u32(), f.pd.u32())),
    },
    Op {
        name: TptOp::FastReg.name(),
        parse: |v| {
            fields(v).map(|f: o::FastReg| {
                TptReq::fast_reg(
                    f.key.u32(),
                    f.pd.u32(),
                    f.va.0,
                    f.len.0,
                    f.access.0,
                    f.log_page.u8(),
                )
            })
        },
    },
    Op {
        name: TptOp::SyncTpt.name(),
        parse: |v| fields(v).map(|_: NoFields| TptReq::sync_tpt()),
    },
    Op {
        name: TptOp::HostWriteMpt.name(),
        parse: |v| {
            fields(v).map(|f: o::WithEntry| TptReq::host_write_mpt(f.index.u32(), f.entry.get()))
        },
    },
    Op {
        name: TptOp::HostWriteMtt.name(),
        parse: |v| fields(v).map(|f: o::Mtt| TptReq::host_write_mtt(f.mtt.u32(), f.addr.0)),
    },
];

/// Parse one transaction line.
pub fn parse(line: &str) -> Result<TptReq, String> {
    parse_line(line, OPS)
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

/// The block as `hca block tpt` serves it.
pub struct Tpt;

impl JsonBlock for Tpt {
    type Req = TptReq;
    type Resp = TptResp;
    const OPS: &'static [Op<TptReq>] = OPS;

    fn open(
        backend: Backend,
        vcd: Option<&Path>,
    ) -> Result<Box<dyn Transactor<Req = TptReq, Resp = TptResp> + Send>> {
        open(backend, vcd, Pacing::FULL_SPEED, 0)
    }

    /// The MPT and MTT tables in ICM.
    fn memory() -> Box<dyn BlockMemory> {
        Box::new(hca_abi::SparseIcm::new())
    }

    fn render(req: &TptReq, resp: &TptResp) -> Answer {
        render(req, resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_of_the_tpt_is_named() {
        let mut names: Vec<&str> = OPS.iter().map(|o| o.name).collect();
        let mut block: Vec<&str> = TptOp::ALL.iter().map(|o| o.name()).collect();
        names.sort();
        block.sort();
        assert_eq!(names, block);
    }

    #[test]
    fn entries_take_names_or_numbers_and_defaults() {
        let r = parse(r#"{"op":"sw2hw_mpt","index":3,"entry":{"access":["local_write","remote_read"],"kind":"fast_reg","log_page":12,"pd":1,"va":"0x1000","len":4096,"mtt_base":0}}"#).unwrap();
        assert_eq!(
            (r.entry.access, r.entry.kind, r.entry.state),
            (
                0b110,
                hca_rtl::tpt::MptKind::FastReg as u8,
                hca_rtl::tpt::MptState::Valid as u8
            )
        );
        let r = parse(r#"{"op":"lookup","key":1,"pd":1,"va":0,"len":8,"access":3}"#).unwrap();
        assert_eq!(r.access, 3);
        for (line, want) in [
            (
                r#"{"op":"lookup","key":1,"pd":1,"va":0,"len":8,"access":["fly"]}"#,
                "field `access`: unknown access `fly`",
            ),
            (
                r#"{"op":"lookup","key":1,"pd":1,"va":0,"len":8,"access":32}"#,
                "does not fit in 5 bits",
            ),
            (
                r#"{"op":"sw2hw_mpt","index":3,"entry":{"kind":"window","log_page":12,"pd":1,"va":0,"len":1,"mtt_base":0}}"#,
                "field `entry.kind`: unknown kind `window`",
            ),
            (
                r#"{"op":"sw2hw_mpt","index":3,"entry":{"log_page":12,"pd":1,"va":0,"len":1}}"#,
                "field `entry`: missing field `mtt_base`",
            ),
            (r#"{"op":"sync_tpt","index":1}"#, "unknown field `index`"),
        ] {
            let e = parse(line).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
        }
    }
}
