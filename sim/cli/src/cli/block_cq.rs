//! `hca block cq`: the CQ and EQ engine driven by JSON Lines.

use super::json::{fields, hex64, parse_line, Named, Names, Op, Uint, U64};
use super::jsonl::{Answer, JsonBlock};
use crate::Backend;
use anyhow::Result;
use hca_engines::blocks::cq::open;
use hca_engines::stream::Pacing;
use hca_rtl::cq::{status, Arm, CqReq, CqResp};
use hca_rtl::transactor::{BlockMemory, Transactor};
use serde_json::{json, Value};
use std::path::Path;

/// A CQ's arm request, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArmName;
impl Names for ArmName {
    const WHAT: &'static str = "arm";
    const NAMES: &'static [&'static str] = &["solicited", "next"];
    const BITS: u32 = 2;
    fn code(i: usize) -> u8 {
        [Arm::Solicited, Arm::Next][i] as u8
    }
}

/// Each op's operands.
mod operands {
    use super::{ArmName, Named, Uint, U64};
    use hca_rtl::cq::{Cqe, Eqe};
    use serde::Deserialize;

    /// A CQE: every field 0 unless given.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, default)]
    #[derive(Default)]
    pub struct CqeFields {
        my_qpn: Uint<24>,
        immed: Uint<32>,
        rqpn: Uint<24>,
        g_mlpath: Uint<8>,
        sl_vid: Uint<16>,
        rlid: Uint<16>,
        status: Uint<16>,
        byte_cnt: Uint<32>,
        wqe_index: Uint<16>,
        vendor_err: Uint<8>,
        syndrome: Uint<8>,
        opcode: Uint<5>,
        is_send: bool,
    }

    impl CqeFields {
        pub fn get(&self) -> Cqe {
            Cqe {
                my_qpn: self.my_qpn.u32(),
                immed: self.immed.u32(),
                rqpn: self.rqpn.u32(),
                g_mlpath: self.g_mlpath.u8(),
                sl_vid: self.sl_vid.u16(),
                rlid: self.rlid.u16(),
                status: self.status.u16(),
                byte_cnt: self.byte_cnt.u32(),
                wqe_index: self.wqe_index.u16(),
                vendor_err: self.vendor_err.u8(),
                syndrome: self.syndrome.u8(),
                opcode: self.opcode.u8(),
                is_send: self.is_send,
                owner: false,
            }
        }
    }

    /// An EQE: its type, and 0 for whatever else is not given.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct EqeFields {
        #[serde(rename = "type")]
        event_type: Uint<8>,
        #[serde(default)]
        subtype: Uint<8>,
        #[serde(default)]
        d0: Uint<32>,
        #[serde(default)]
        d1: Uint<32>,
        #[serde(default)]
        d2: Uint<32>,
        #[serde(default)]
        d3: U64,
    }

    impl EqeFields {
        pub fn get(&self) -> Eqe {
            Eqe {
                event_type: self.event_type.u8(),
                subtype: self.subtype.u8(),
                d0: self.d0.u32(),
                d1: self.d1.u32(),
                d2: self.d2.u32(),
                d3: self.d3.0,
                owner: false,
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Sw2HwCq {
        pub cqn: Uint<32>,
        pub mtt: Uint<24>,
        pub log_page: Uint<4>,
        pub log_size: Uint<8>,
        pub eqn: Uint<16>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Cqn {
        pub cqn: Uint<32>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Resize {
        pub cqn: Uint<32>,
        pub mtt: Uint<24>,
        pub log_page: Uint<4>,
        pub log_size: Uint<8>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Moderate {
        pub cqn: Uint<32>,
        pub count: Uint<16>,
        pub period: Uint<16>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Sw2HwEq {
        pub eqn: Uint<16>,
        pub mtt: Uint<24>,
        pub log_page: Uint<4>,
        pub log_size: Uint<8>,
        pub vector: Uint<8>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Eqn {
        pub eqn: Uint<16>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct MapEq {
        pub eqn: Uint<16>,
        pub types: U64,
        #[serde(default)]
        pub unmap: bool,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Complete {
        pub cqn: Uint<32>,
        pub cqe: CqeFields,
        #[serde(default)]
        pub solicited: bool,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct SetCi {
        pub cqn: Uint<32>,
        pub ci: Uint<24>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ArmCq {
        pub cqn: Uint<32>,
        pub arm: Named<ArmName>,
        pub sn: Uint<2>,
        pub ci: Uint<24>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Tick {
        pub cqn: Uint<32>,
        pub ticks: Uint<16>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct EqDoorbell {
        pub eqn: Uint<16>,
        pub ci: Uint<24>,
        #[serde(default)]
        pub arm: bool,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Event {
        pub eqe: EqeFields,
    }
}

use operands as o;

/// The ops, named as the request's serde form names them.
const OPS: &[Op<CqReq>] = &[
    Op {
        name: "sw2hw_cq",
        parse: |v| {
            fields(v).map(|f: o::Sw2HwCq| CqReq::Sw2HwCq {
                cqn: f.cqn.u32(),
                mtt: f.mtt.u32(),
                log_page: f.log_page.u8(),
                log_size: f.log_size.u8(),
                eqn: f.eqn.u16(),
            })
        },
    },
    Op {
        name: "hw2sw_cq",
        parse: |v| fields(v).map(|f: o::Cqn| CqReq::Hw2SwCq { cqn: f.cqn.u32() }),
    },
    Op {
        name: "resize",
        parse: |v| {
            fields(v).map(|f: o::Resize| CqReq::Resize {
                cqn: f.cqn.u32(),
                mtt: f.mtt.u32(),
                log_page: f.log_page.u8(),
                log_size: f.log_size.u8(),
            })
        },
    },
    Op {
        name: "moderate",
        parse: |v| {
            fields(v).map(|f: o::Moderate| CqReq::Moderate {
                cqn: f.cqn.u32(),
                count: f.count.u16(),
                period: f.period.u16(),
            })
        },
    },
    Op {
        name: "sw2hw_eq",
        parse: |v| {
            fields(v).map(|f: o::Sw2HwEq| CqReq::Sw2HwEq {
                eqn: f.eqn.u16(),
                mtt: f.mtt.u32(),
                log_page: f.log_page.u8(),
                log_size: f.log_size.u8(),
                vector: f.vector.u8(),
            })
        },
    },
    Op {
        name: "hw2sw_eq",
        parse: |v| fields(v).map(|f: o::Eqn| CqReq::Hw2SwEq { eqn: f.eqn.u16() }),
    },
    Op {
        name: "map_eq",
        parse: |v| {
            fields(v).map(|f: o::MapEq| CqReq::MapEq {
                eqn: f.eqn.u16(),
                mask: f.types.0,
                unmap: f.unmap,
            })
        },
    },
    Op {
        name: "complete",
        parse: |v| {
            fields(v).map(|f: o::Complete| CqReq::Complete {
                cqn: f.cqn.u32(),
                cqe: f.cqe.get(),
                solicited: f.solicited,
            })
        },
    },
    Op {
        name: "set_ci",
        parse: |v| {
            fields(v).map(|f: o::SetCi| CqReq::SetCi {
                cqn: f.cqn.u32(),
                ci: f.ci.u32(),
            })
        },
    },
    Op {
        name: "arm_cq",
        parse: |v| {
            fields(v).map(|f: o::ArmCq| CqReq::ArmCq {
                cqn: f.cqn.u32(),
                arm: f.arm.0,
                sn: f.sn.u8(),
                ci: f.ci.u32(),
            })
        },
    },
    Op {
        name: "tick",
        parse: |v| {
            fields(v).map(|f: o::Tick| CqReq::Tick {
                cqn: f.cqn.u32(),
                ticks: f.ticks.u16(),
            })
        },
    },
    Op {
        name: "eq_doorbell",
        parse: |v| {
            fields(v).map(|f: o::EqDoorbell| CqReq::EqDoorbell {
                eqn: f.eqn.u16(),
                ci: f.ci.u32(),
                arm: f.arm,
            })
        },
    },
    Op {
        name: "event",
        parse: |v| fields(v).map(|f: o::Event| CqReq::Event { eqe: f.eqe.get() }),
    },
];

/// Parse one transaction line.
pub fn parse(line: &str) -> Result<CqReq, String> {
    parse_line(line, OPS)
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

/// The block as `hca block cq` serves it.
pub struct Cq;

impl JsonBlock for Cq {
    type Req = CqReq;
    type Resp = CqResp;
    const OPS: &'static [Op<CqReq>] = OPS;

    fn open(
        backend: Backend,
        vcd: Option<&Path>,
    ) -> Result<Box<dyn Transactor<Req = CqReq, Resp = CqResp> + Send>> {
        open(backend, vcd, Pacing::FULL_SPEED, 0)
    }

    /// The CQ contexts in ICM; until a line writes it, the MTT maps page `i` at bus address `i << 12`, so a buffer at MTT index `m` with 4 KiB pages is at `m * 4096`.
    fn memory() -> Box<dyn BlockMemory> {
        Box::new(hca_abi::SparseIcm::with_linear_mtt(hca_rtl::cq::MTT_TABLE))
    }

    fn render(req: &CqReq, resp: &CqResp) -> Answer {
        render(req, resp)
    }
}
