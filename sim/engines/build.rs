//! Verilate every RTL block: emit its Verilog from the rust-hdl design,
//! run Verilator, and compile the model with a shim generated from the
//! design's port list. Nothing generated is kept in the source tree.

use hca_rtl::ports::Dir;
use hca_verilate::{Build, ModelSpec, PortSpec};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut build = Build::new()?;
    for design in hca_rtl::registry::designs() {
        let name = design.name;
        let e = (design.emit)()?;
        let ports = e
            .ports
            .iter()
            .map(|p| PortSpec {
                name: p.name.clone(),
                input: p.dir == Dir::In,
                width: p.width,
            })
            .collect();
        build.model(ModelSpec {
            name: name.to_string(),
            verilog: e.verilog,
            ports,
        });
    }
    build.compile()?;
    Ok(())
}
