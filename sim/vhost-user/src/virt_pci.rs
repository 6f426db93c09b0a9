//! UML's virt-pci wire format (`virtio_pcidev_msg`,
//! include/uapi/linux/virtio_pcidev.h): the message header, the MSI
//! message the device sends back, and one handler that carries each
//! request to a [`PciFunction`].

use hca_abi::hostmem::HostMemory;
use hca_abi::pci::{MsiMessage, PciFunction};

/// `virtio_pcidev_msg` operations.
pub mod op {
    pub const CFG_READ: u8 = 1;
    pub const CFG_WRITE: u8 = 2;
    pub const MMIO_READ: u8 = 3;
    pub const MMIO_WRITE: u8 = 4;
    pub const MMIO_MEMSET: u8 = 5;
    pub const INT: u8 = 6;
    pub const MSI: u8 = 7;
}

/// Bytes of the message header: op, bar, reserved, size, addr.
pub const HEADER: usize = 16;

/// The largest read the device answers in one message.
pub const MAX_READ: usize = 4096;

/// A parsed message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciMsg {
    pub op: u8,
    pub bar: u8,
    pub size: u32,
    pub addr: u64,
}

impl PciMsg {
    pub fn parse(b: &[u8]) -> Option<PciMsg> {
        if b.len() < HEADER {
            return None;
        }
        Some(PciMsg {
            op: b[0],
            bar: b[1],
            size: u32::from_le_bytes(b[4..8].try_into().unwrap()),
            addr: u64::from_le_bytes(b[8..16].try_into().unwrap()),
        })
    }

    /// The MSI message the device sends on the interrupt queue: UML takes
    /// the 32-bit data as the interrupt number.
    pub fn msi(m: &MsiMessage) -> Vec<u8> {
        let mut b = vec![0u8; HEADER + 4];
        b[0] = op::MSI;
        b[4..8].copy_from_slice(&4u32.to_le_bytes());
        b[8..16].copy_from_slice(&m.addr.to_le_bytes());
        b[16..20].copy_from_slice(&m.data.to_le_bytes());
        b
    }
}

/// Handle one request from the command queue on `dev`; the reply (for
/// reads) fits `reply_room` bytes. What cannot be carried out goes to
/// `warn`. Never panics, whatever the bytes.
pub fn handle<D: PciFunction + ?Sized>(
    dev: &mut D,
    req: &[u8],
    reply_room: usize,
    mem: &mut dyn HostMemory,
    warn: &mut dyn FnMut(String),
) -> Vec<u8> {
    let Some(m) = PciMsg::parse(req) else {
        warn(format!(
            "a {}-byte request is shorter than its header",
            req.len()
        ));
        return vec![0xff; reply_room.min(8)];
    };
    let data = &req[HEADER..];
    let size = m.size as usize;
    // Accesses outside config space or a BAR are the PciFunction's to
    // refuse (ones read back, nothing written, a warning).
    match m.op {
        op::CFG_READ | op::MMIO_READ => {
            let mut n = size.min(reply_room).min(MAX_READ);
            if n != size {
                warn(format!(
                    "read of {size} bytes at {:#x} answered with {n} (reply room {reply_room})",
                    m.addr
                ));
                n = n.min(size);
            }
            let mut out = vec![0xff; n];
            if m.op == op::CFG_READ {
                dev.config_read(m.addr, &mut out);
            } else {
                dev.mmio_read(m.bar, m.addr, &mut out);
            }
            out
        }
        op::CFG_WRITE | op::MMIO_WRITE => {
            if data.len() < size || !(1..=8).contains(&size) {
                warn(format!(
                    "write (op {}) of {size} bytes at {:#x} carries {} bytes",
                    m.op,
                    m.addr,
                    data.len()
                ));
                return Vec::new();
            }
            if m.op == op::CFG_WRITE {
                dev.config_write(m.addr, &data[..size]);
            } else {
                dev.mmio_write(m.bar, m.addr, &data[..size], mem);
            }
            Vec::new()
        }
        op::MMIO_MEMSET => {
            warn(format!(
                "memset of BAR{} at {:#x}: not supported, ignored",
                m.bar, m.addr
            ));
            Vec::new()
        }
        other => {
            warn(format!("unknown request op {other}"));
            vec![0xff; reply_room.min(size).min(MAX_READ)]
        }
    }
}
