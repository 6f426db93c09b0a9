//! The device's blocks on a backend: the firmware with the CQ/EQ engine,
//! the TPT and the QPC, and the transport engine's atomic unit, each on
//! the model, the rust-hdl simulation or the Verilator build, at full
//! speed (no back-pressure from the ICM port).

use hca_engines::backend::Backend;
use hca_engines::stream::Pacing;
use hca_firmware::{Engines, Firmware};

/// The firmware driving its blocks on `backend`. Build it on the thread
/// that will run it: a Verilator model stays on the thread that made it.
pub fn firmware_on(backend: Backend) -> anyhow::Result<Firmware> {
    let cq = hca_engines::blocks::cq::open(backend, None, Pacing::FULL_SPEED, 0)?;
    let tpt = hca_engines::blocks::tpt::open(backend, None, Pacing::FULL_SPEED, 0)?;
    let qpc = hca_engines::blocks::qpc::open(backend, None, Pacing::FULL_SPEED, 0)?;
    Ok(Firmware::with_engines(Engines { cq, tpt, qpc }))
}

/// The whole device with every block on `backend`: the firmware's, and
/// the atomic unit the transport engine uses.
pub fn device_on(backend: Backend) -> anyhow::Result<crate::HcaPci> {
    let atomic = hca_engines::blocks::atomic::open(backend, None, Pacing::FULL_SPEED, 0)?;
    Ok(crate::HcaPci::with_firmware(firmware_on(backend)?).with_atomic(atomic))
}
