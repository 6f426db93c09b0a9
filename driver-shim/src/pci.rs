//! The PCI function as the driver reaches it: configuration space, BAR0's
//! registers (big-endian, as mlx4's `readl`/`swab32` pairs see them) and
//! the MSI-X table (little-endian, as PCI defines it), BAR2's UAR pages,
//! the MSI messages the device sends, and the driver's own memory, which
//! the device reaches by DMA while it acts on a write.

use crate::dma::DmaMemory;
use crate::error::{Error, Result};
use hca_abi::pci::{MsiMessage, PciFunction};

/// PCI's capability ids the driver looks for.
const CAP_ID_MSIX: u8 = 0x11;
/// Command register bits: memory space, bus master.
const CMD_MEMORY: u16 = 1 << 1;
const CMD_MASTER: u16 = 1 << 2;
/// MSI-X Message Control: enable, function mask.
const MSIX_ENABLE: u16 = 1 << 15;
const MSIX_MASKALL: u16 = 1 << 14;
/// The address every vector's message goes to (x86's interrupt window);
/// a vector's data names it.
pub const MSI_ADDR: u64 = 0xfee0_0000;
pub const MSI_DATA_BASE: u32 = 0x4000;

/// Where the MSI-X table is: BAR and offset, and its size.
#[derive(Clone, Copy, Debug)]
pub struct MsixTable {
    pub cap: u64,
    pub bar: u8,
    pub offset: u64,
    pub vectors: u16,
}

pub struct Bus<P: PciFunction> {
    pub dev: P,
    pub mem: DmaMemory,
    msix: Option<MsixTable>,
}

impl<P: PciFunction> Bus<P> {
    pub fn new(dev: P, mem: DmaMemory) -> Bus<P> {
        Bus {
            dev,
            mem,
            msix: None,
        }
    }

    pub fn config_read16(&mut self, at: u64) -> u16 {
        let mut b = [0u8; 2];
        self.dev.config_read(at, &mut b);
        u16::from_le_bytes(b)
    }

    pub fn config_read32(&mut self, at: u64) -> u32 {
        let mut b = [0u8; 4];
        self.dev.config_read(at, &mut b);
        u32::from_le_bytes(b)
    }

    pub fn config_write16(&mut self, at: u64, v: u16) {
        self.dev.config_write(at, &v.to_le_bytes());
    }

    /// The vendor and device ids.
    pub fn ids(&mut self) -> (u16, u16) {
        (self.config_read16(0), self.config_read16(2))
    }

    /// Memory decoding and bus mastering on (pci_enable_device,
    /// pci_set_master).
    pub fn enable(&mut self) {
        let c = self.config_read16(4);
        self.config_write16(4, c | CMD_MEMORY | CMD_MASTER);
    }

    /// Walk the capability list for `id`.
    pub fn find_capability(&mut self, id: u8) -> Option<u64> {
        let mut at = (self.config_read16(0x34) & 0xfc) as u64;
        for _ in 0..48 {
            if at == 0 {
                return None;
            }
            let hdr = self.config_read16(at);
            if hdr as u8 == id {
                return Some(at);
            }
            at = ((hdr >> 8) & 0xfc) as u64;
        }
        None
    }

    /// A BAR0 register, as mlx4 reads it (`swab32(readl())`).
    pub fn read_be32(&mut self, offset: u64) -> u32 {
        let mut b = [0u8; 4];
        self.dev.mmio_read(0, offset, &mut b);
        u32::from_be_bytes(b)
    }

    pub fn write_be32(&mut self, offset: u64, v: u32) {
        self.dev
            .mmio_write(0, offset, &v.to_be_bytes(), self.mem.host());
    }

    /// A doorbell in BAR2 (the UAR pages): bytes as the driver stores them.
    pub fn uar_write(&mut self, offset: u64, data: &[u8]) {
        self.dev.mmio_write(2, offset, data, self.mem.host());
    }

    fn write_le32(&mut self, bar: u8, offset: u64, v: u32) {
        self.dev
            .mmio_write(bar, offset, &v.to_le_bytes(), self.mem.host());
    }

    /// Find the MSI-X table, program `vectors` entries (address
    /// [`MSI_ADDR`], data [`MSI_DATA_BASE`] + vector, unmasked) and enable
    /// MSI-X.
    pub fn enable_msix(&mut self, vectors: u16) -> Result<MsixTable> {
        let cap = self
            .find_capability(CAP_ID_MSIX)
            .ok_or_else(|| Error::Device("no MSI-X capability".into()))?;
        let ctl = self.config_read16(cap + 2);
        let size = (ctl & 0x7ff) + 1;
        if vectors == 0 || vectors > size {
            return Err(Error::InvalidArgument(format!(
                "{vectors} MSI-X vectors (the device has {size})"
            )));
        }
        let t = self.config_read32(cap + 4);
        let table = MsixTable {
            cap,
            bar: (t & 7) as u8,
            offset: (t & !7) as u64,
            vectors,
        };
        self.config_write16(cap + 2, ctl | MSIX_MASKALL);
        for v in 0..vectors {
            let e = table.offset + 16 * v as u64;
            self.write_le32(table.bar, e, MSI_ADDR as u32);
            self.write_le32(table.bar, e + 4, (MSI_ADDR >> 32) as u32);
            self.write_le32(table.bar, e + 8, MSI_DATA_BASE + v as u32);
            self.write_le32(table.bar, e + 12, 0);
        }
        self.config_write16(cap + 2, (ctl | MSIX_ENABLE) & !MSIX_MASKALL);
        self.msix = Some(table);
        Ok(table)
    }

    /// Mask or unmask one vector in the table (as the kernel's irq chip
    /// does); a message raised while masked waits in the pending bits.
    pub fn mask_vector(&mut self, v: u16, masked: bool) {
        if let Some(t) = self.msix {
            self.write_le32(t.bar, t.offset + 16 * v as u64 + 12, masked as u32);
        }
    }

    /// MSI-X off (at teardown).
    pub fn disable_msix(&mut self) {
        if let Some(t) = self.msix.take() {
            let ctl = self.config_read16(t.cap + 2);
            self.config_write16(t.cap + 2, ctl & !MSIX_ENABLE);
        }
    }

    /// Give the device a slice of its own time (it takes in packets, runs
    /// its timers) with DMA to the driver's memory; whether it did
    /// anything.
    pub fn run(&mut self) -> bool {
        self.dev.run(self.mem.host())
    }

    /// The vectors the device signalled since the last call, oldest first
    /// (messages that match no programmed vector are dropped and counted
    /// by the caller).
    pub fn take_vectors(&mut self) -> (Vec<u16>, u64) {
        let msgs: Vec<MsiMessage> = self.dev.take_msis();
        let n = self.msix.map_or(0, |t| t.vectors);
        let mut stray = 0;
        let mut v = Vec::new();
        for m in msgs {
            match m.data.checked_sub(MSI_DATA_BASE) {
                Some(k) if m.addr == MSI_ADDR && k < n as u32 => v.push(k as u16),
                _ => stray += 1,
            }
        }
        (v, stray)
    }
}
