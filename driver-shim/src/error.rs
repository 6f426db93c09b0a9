//! The driver's errors: each names what failed, and a command's names the
//! command and the status the device answered with.

use hca_abi::{DmaError, Status};
use thiserror::Error;

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum Error {
    /// The device completed a command with a status other than OK.
    #[error("{name} (opcode {opcode:#05x}, in_modifier {in_modifier:#x}) failed: {status}")]
    Command {
        name: &'static str,
        opcode: u16,
        in_modifier: u32,
        status: Status,
        /// The raw status byte (a code mlx4 does not define is kept here).
        code: u8,
    },
    /// A command did not complete: GO stayed set, or no completion event
    /// came. The driver stays usable; the command's token is retired.
    #[error("{name} timed out ({what})")]
    Timeout { name: &'static str, what: String },
    /// The HCR was busy (GO set) before a post.
    #[error("the HCR is busy before {name}")]
    Busy { name: &'static str },
    /// Out of a resource the driver allocates (QPNs, CQNs, host memory...).
    #[error("out of {0}")]
    NoResources(&'static str),
    /// An argument the driver refuses before it reaches the device.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A QP transition the IBTA does not allow, or attributes it does not
    /// take: refused by the driver, the QP unchanged.
    #[error("QP {qpn:#x}: {what}")]
    QpTransition { qpn: u32, what: String },
    /// A handle that names nothing the driver holds (destroyed, or another
    /// device's).
    #[error("no such {what} {id:#x}")]
    NoSuchObject { what: &'static str, id: u32 },
    /// An object still in use (a CQ with QPs on it, a PD with MRs...).
    #[error("{0}")]
    InUse(String),
    /// The device is not what the driver expects, or not in a state it can
    /// work with (wrong id, no MSI-X, the firmware not running).
    #[error("device: {0}")]
    Device(String),
    /// A management datagram answered with a MAD status other than 0.
    #[error("MAD for attribute {attr:#06x} answered with status {status:#06x}")]
    Mad { attr: u16, status: u16 },
    /// A DMA buffer access outside the driver's memory (a driver bug).
    #[error(transparent)]
    Dma(#[from] DmaError),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The device's status, for a command that failed.
    pub fn status(&self) -> Option<Status> {
        match self {
            Error::Command { status, .. } => Some(*status),
            _ => None,
        }
    }
}
