//! The tables docs/firmware.md prints, generated from the definitions
//! (mailbox layouts, the capability table, the BAR0 map, the statuses),
//! so a test can hold the docs to the code.

use crate::mailbox::{markdown, MbField};
use crate::status::Status;
use crate::{caps, cq, eq, fw, hca, mad, mr, port};

fn values(fields: &[MbField], bytes: &[u8]) -> String {
    let mut s = String::from("| offset[bits] | field | value | meaning |\n|---|---|---|---|\n");
    for f in fields {
        let v = f.get(bytes);
        let shown = if f.width >= 16 && v > 9 {
            format!("{v:#x}")
        } else {
            v.to_string()
        };
        s.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            f.place(),
            f.name,
            shown,
            f.doc.trim()
        ));
    }
    s
}

/// Every generated table, by the name its docs marker uses.
pub fn tables() -> Vec<(&'static str, String)> {
    let statuses = {
        let mut s = String::from("| code | status |\n|---|---|\n");
        for st in Status::ALL {
            s.push_str(&format!("| `{:#04x}` | {} |\n", st.code(), st.name()));
        }
        s
    };
    vec![
        ("bar0", crate::bar0::markdown()),
        (
            "caps",
            values(caps::QueryDevCapOut::FIELDS, &caps::device_caps().encode()),
        ),
        (
            "port-caps",
            values(port::QueryPortOut::FIELDS, &port::port_caps().encode()),
        ),
        (
            "query-fw",
            values(fw::QueryFwOut::FIELDS, &fw::query_fw().encode()),
        ),
        ("mod-stat-cfg", markdown(fw::ModStatCfgIn::FIELDS)),
        (
            "mod-stat-cfg-query",
            markdown(fw::ModStatCfgQueryOut::FIELDS),
        ),
        ("query-adapter", markdown(hca::QueryAdapterOut::FIELDS)),
        ("init-hca", markdown(hca::InitHca::FIELDS)),
        ("eq-context", markdown(eq::EqContext::FIELDS)),
        ("cq-context", markdown(cq::CqContext::FIELDS)),
        ("set-port", markdown(port::SetPortIbIn::FIELDS)),
        ("mpt", markdown(mr::MlxMpt::FIELDS)),
        ("srq-context", markdown(crate::srq::SrqContext::FIELDS)),
        ("mgm", markdown(crate::mcg::MgmHead::FIELDS)),
        (
            "qp-context",
            markdown(hca_abi::cmd::qp::MlxQpMailbox::FIELDS),
        ),
        ("mad-header", markdown(mad::MadHeader::FIELDS)),
        ("node-info", markdown(mad::NodeInfo::FIELDS)),
        ("port-info", markdown(mad::PortInfo::FIELDS)),
        ("transport-errors", markdown(hca::TransportErrors::FIELDS)),
        ("statuses", statuses),
        ("commands", crate::cmd::markdown()),
    ]
}

/// One table by name.
pub fn table(name: &str) -> Option<String> {
    tables()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| t)
}
