//! Config space: ConnectX-3's identity, two 64-bit BARs the kernel sizes
//! with ordinary writes, and the PCI Express and MSI-X capabilities.

use hca_firmware::bar0;

pub const VENDOR: u16 = 0x15b3;
/// ConnectX-3 (MT27500), as mlx4_core's id table names it.
pub const DEVICE: u16 = 0x1003;
/// Network controller, "other" (what ConnectX-3 reports).
pub const CLASS: u32 = 0x02_80_00;
pub const SIZE: usize = 4096;

/// Where the capabilities sit.
pub const CAP_PCIE: usize = 0x40;
pub const CAP_MSIX: usize = 0x9c;

/// The MSI-X Message Control bits.
pub const MSIX_ENABLE: u16 = 1 << 15;
pub const MSIX_FUNCTION_MASK: u16 = 1 << 14;

struct Bar {
    /// Config offset of the low dword.
    at: usize,
    size: u64,
    /// Low bits: 64-bit memory (0x4), prefetchable (0x8).
    flags: u32,
}

const BARS: [Bar; 2] = [
    Bar {
        at: 0x10,
        size: bar0::BAR0_SIZE,
        flags: 0x4,
    },
    Bar {
        at: 0x18,
        size: bar0::BAR2_SIZE,
        flags: 0xc,
    },
];

/// Config space contents and which bits the kernel may write.
pub struct ConfigSpace {
    bytes: [u8; SIZE],
    writable: [u8; SIZE],
}

impl Default for ConfigSpace {
    fn default() -> Self {
        Self::new()
    }
}

impl ConfigSpace {
    pub fn new() -> Self {
        let mut c = ConfigSpace {
            bytes: [0; SIZE],
            writable: [0; SIZE],
        };
        c.put16(0x00, VENDOR);
        c.put16(0x02, DEVICE);
        // Status: capability list.
        c.put16(0x06, 1 << 4);
        c.put32(0x08, CLASS << 8);
        c.put16(0x2c, VENDOR);
        c.put16(0x2e, 0x0006);
        c.bytes[0x34] = CAP_PCIE as u8;
        // Interrupt pin A.
        c.bytes[0x3d] = 1;
        // Command: I/O, memory, bus master, parity, SERR, INTx disable.
        c.writable(0x04, &[0x47, 0x05]);
        c.writable(0x3c, &[0xff]);
        for b in &BARS {
            c.put32(b.at, b.flags);
            let mask = !(b.size as u32 - 1) & !0xf;
            c.writable(b.at, &mask.to_le_bytes());
            c.writable(b.at + 4, &[0xff; 4]);
        }
        // PCI Express capability v2, endpoint.
        let p = CAP_PCIE;
        c.bytes[p] = 0x10;
        c.bytes[p + 1] = CAP_MSIX as u8;
        c.put16(p + 2, 0x0002);
        // Device capabilities: 256-byte payloads, function-level reset.
        c.put32(p + 4, 0x1 | 1 << 28);
        // Device control and link control are the driver's to write (the
        // reset path saves and restores them).
        c.writable(p + 8, &[0xff, 0xff]);
        // Link: 8 GT/s x8, and its status the same.
        c.put32(p + 0x0c, 0x3 | 8 << 4);
        c.writable(p + 0x10, &[0xff, 0xff]);
        c.put16(p + 0x12, 0x3 | 8 << 4);
        c.writable(p + 0x28, &[0xff, 0xff]);
        c.writable(p + 0x30, &[0xff, 0xff]);
        // MSI-X: table and PBA in BAR0.
        let m = CAP_MSIX;
        c.bytes[m] = 0x11;
        c.bytes[m + 1] = 0;
        c.put16(m + 2, bar0::MSIX_VECTORS - 1);
        c.writable(m + 2, &[0, 0xc0]);
        c.put32(m + 4, bar0::MSIX_TABLE as u32);
        c.put32(m + 8, bar0::MSIX_PBA as u32);
        c
    }

    fn put16(&mut self, at: usize, v: u16) {
        self.bytes[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }

    fn put32(&mut self, at: usize, v: u32) {
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn writable(&mut self, at: usize, mask: &[u8]) {
        self.writable[at..at + mask.len()].copy_from_slice(mask);
    }

    /// Read `buf.len()` bytes at `offset`; past the end reads as ones.
    pub fn read(&self, offset: u64, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = usize::try_from(offset.wrapping_add(i as u64))
                .ok()
                .and_then(|o| self.bytes.get(o).copied())
                .unwrap_or(0xff);
        }
    }

    /// Write: only writable bits change (BAR size masks, command, the
    /// capabilities' control registers).
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        for (i, v) in data.iter().enumerate() {
            let Some(o) = usize::try_from(offset.wrapping_add(i as u64))
                .ok()
                .filter(|o| *o < SIZE)
            else {
                return;
            };
            let m = self.writable[o];
            self.bytes[o] = (self.bytes[o] & !m) | (v & m);
        }
    }

    pub fn u16_at(&self, at: usize) -> u16 {
        u16::from_le_bytes([self.bytes[at], self.bytes[at + 1]])
    }

    /// The MSI-X Message Control register.
    pub fn msix_control(&self) -> u16 {
        self.u16_at(CAP_MSIX + 2)
    }

    /// Bus master enabled (the device may DMA and signal MSI-X).
    pub fn bus_master(&self) -> bool {
        self.bytes[0x04] & 0x4 != 0
    }

    /// A BAR's address as the kernel assigned it.
    pub fn bar_address(&self, bar: usize) -> u64 {
        let at = BARS[bar].at;
        let lo = u32::from_le_bytes(self.bytes[at..at + 4].try_into().unwrap()) & !0xf;
        let hi = u32::from_le_bytes(self.bytes[at + 4..at + 8].try_into().unwrap());
        (hi as u64) << 32 | lo as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r32(c: &ConfigSpace, at: u64) -> u32 {
        let mut b = [0; 4];
        c.read(at, &mut b);
        u32::from_le_bytes(b)
    }

    #[test]
    fn identity_and_bar_sizing() {
        let mut c = ConfigSpace::new();
        assert_eq!(r32(&c, 0), 0x1003_15b3);
        assert_eq!(r32(&c, 8) >> 8, CLASS);
        c.write(0x10, &0xffff_ffffu32.to_le_bytes());
        assert_eq!(r32(&c, 0x10), !(bar0::BAR0_SIZE as u32 - 1) | 0x4);
        c.write(0x18, &0xffff_ffffu32.to_le_bytes());
        assert_eq!(r32(&c, 0x18), !(bar0::BAR2_SIZE as u32 - 1) | 0xc);
        c.write(0x10, &0xf000_0000u32.to_le_bytes());
        c.write(0x14, &0u32.to_le_bytes());
        assert_eq!(c.bar_address(0), 0xf000_0000);
        // Read-only registers stay.
        c.write(0, &[0; 4]);
        assert_eq!(r32(&c, 0), 0x1003_15b3);
    }

    #[test]
    fn capabilities_chain() {
        let c = ConfigSpace::new();
        assert_eq!(c.bytes[0x34] as usize, CAP_PCIE);
        assert_eq!(c.bytes[CAP_PCIE], 0x10);
        assert_eq!(c.bytes[CAP_PCIE + 1] as usize, CAP_MSIX);
        assert_eq!(c.bytes[CAP_MSIX], 0x11);
        assert_eq!(c.bytes[CAP_MSIX + 1], 0);
        assert_eq!(c.msix_control() & 0x7ff, bar0::MSIX_VECTORS - 1);
    }
}
