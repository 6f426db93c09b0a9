//! The fabric the hosts of a run share: one switch with a port per host,
//! the subnet manager on its management port, simulated time following
//! the wall clock (the hosts are kernels whose timers run on it).

use anyhow::{Context, Result};
use hca_device::FabricPort;
use hca_fabric::{Attach, Fabric, LinkConfig};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The fabric and, for host `h`, its HCA's place on it.
pub(crate) fn build(
    hosts: usize,
    seed: u64,
    pcap: Option<&Path>,
) -> Result<(Arc<Mutex<Fabric>>, Vec<FabricPort>)> {
    let ports = u8::try_from(hosts)
        .ok()
        .filter(|n| (1..=63).contains(n))
        .with_context(|| format!("{hosts} hosts: the switch has 1 to 63 ports"))?;
    let mut f = Fabric::new(seed);
    f.follow_wall_clock();
    let s = f.add_switch("sw0", ports);
    f.add_subnet_manager(s).map_err(anyhow::Error::msg)?;
    if let Some(p) = pcap {
        let file = std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?;
        f.capture_to(Box::new(std::io::BufWriter::new(file)))
            .with_context(|| format!("writing {}", p.display()))?;
    }
    let mut eps = Vec::new();
    for h in 0..hosts {
        let e = f.add_endpoint(&format!("uml{h}/1"));
        f.connect(
            Attach::Endpoint(e),
            Attach::Switch(s, h as u8 + 1),
            LinkConfig::default(),
        )
        .map_err(anyhow::Error::msg)?;
        eps.push(e);
    }
    let f = Arc::new(Mutex::new(f));
    let ports = eps
        .into_iter()
        .map(|endpoint| FabricPort {
            fabric: f.clone(),
            endpoint,
        })
        .collect();
    Ok((f, ports))
}
