//! The top-level port list of a rust-hdl design, read from the design
//! itself. The Verilator shim and the simulator bindings are generated
//! from it, so they cannot drift from the RTL.

use rust_hdl::prelude::*;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    In,
    Out,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Port {
    pub name: String,
    pub dir: Dir,
    pub width: usize,
}

#[derive(Default)]
struct TopPorts {
    depth: usize,
    ports: Vec<Port>,
    names: Vec<String>,
}

impl Probe for TopPorts {
    fn visit_start_scope(&mut self, name: &str, _node: &dyn Block) {
        self.depth += 1;
        self.names.push(name.to_string());
    }
    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth -= 1;
    }
    fn visit_start_namespace(&mut self, name: &str, _node: &dyn Block) {
        self.depth += 1;
        self.names.push(name.to_string());
    }
    fn visit_end_namespace(&mut self, _name: &str, _node: &dyn Block) {
        self.depth -= 1;
    }
    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        self.names.push(name.to_string());
        if self.depth != 1 {
            return;
        }
        let dir = match signal.kind() {
            AtomKind::InputParameter => Dir::In,
            AtomKind::OutputParameter => Dir::Out,
            _ => return,
        };
        self.ports.push(Port {
            name: name.to_string(),
            dir,
            width: signal.bits(),
        });
    }
}

/// The ports of the design's top module, in declaration order.
pub fn top_ports(uut: &dyn Block) -> Vec<Port> {
    let mut probe = TopPorts::default();
    uut.accept("top", &mut probe);
    probe.ports
}

/// Every signal and scope name in the design (for the keyword check).
pub fn all_names(uut: &dyn Block) -> Vec<String> {
    let mut probe = TopPorts::default();
    uut.accept("top", &mut probe);
    probe.names
}
