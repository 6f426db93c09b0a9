//! The MSI-X table and pending bits (in BAR0), and delivery: a vector the
//! device raises becomes the message the kernel programmed, or a pending
//! bit while the vector or the function is masked.

use hca_firmware::bar0;

const ENTRY: u64 = 16;
const MASKED: u32 = 1;

#[derive(Clone, Copy, Debug)]
struct Entry {
    addr: u64,
    data: u32,
    control: u32,
}

pub use hca_abi::pci::MsiMessage;

pub struct Msix {
    table: Vec<Entry>,
    pending: Vec<bool>,
}

impl Default for Msix {
    fn default() -> Self {
        Self::new()
    }
}

impl Msix {
    pub fn new() -> Self {
        let n = bar0::MSIX_VECTORS as usize;
        Msix {
            table: vec![
                Entry {
                    addr: 0,
                    data: 0,
                    control: MASKED,
                };
                n
            ],
            pending: vec![false; n],
        }
    }

    /// Whether `offset` (in BAR0) is the table's or the PBA's.
    pub fn owns(offset: u64) -> bool {
        let t = bar0::MSIX_TABLE..bar0::MSIX_TABLE + ENTRY * bar0::MSIX_VECTORS as u64;
        let p = bar0::MSIX_PBA..bar0::MSIX_PBA + 8 * (bar0::MSIX_VECTORS as u64).div_ceil(64);
        t.contains(&offset) || p.contains(&offset)
    }

    fn dword(&self, offset: u64) -> u32 {
        if offset >= bar0::MSIX_PBA {
            let bit0 = (offset - bar0::MSIX_PBA) * 8;
            return (0..32)
                .filter(|b| self.pending.get((bit0 + b) as usize) == Some(&true))
                .fold(0, |v, b| v | 1 << b);
        }
        let i = ((offset - bar0::MSIX_TABLE) / ENTRY) as usize;
        let e = &self.table[i];
        match (offset - bar0::MSIX_TABLE) % ENTRY {
            0 => e.addr as u32,
            4 => (e.addr >> 32) as u32,
            8 => e.data,
            _ => e.control,
        }
    }

    /// A read of the table or PBA (little-endian dwords, any size).
    pub fn read(&self, offset: u64, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            let at = offset.wrapping_add(i as u64);
            *b = if Self::owns(at) {
                self.dword(at & !3).to_le_bytes()[(at & 3) as usize]
            } else {
                0
            };
        }
    }

    /// A write to the table: dwords (or a qword) only; the PBA is read-only.
    /// Returns whether a vector was unmasked (pending ones may now go).
    pub fn write(&mut self, offset: u64, data: &[u8]) -> bool {
        if offset & 3 != 0 || !(data.len() == 4 || data.len() == 8) || offset >= bar0::MSIX_PBA {
            return false;
        }
        let mut unmasked = false;
        for (k, chunk) in data.chunks(4).enumerate() {
            let at = offset.wrapping_add(4 * k as u64);
            if !Self::owns(at) || at >= bar0::MSIX_PBA {
                continue;
            }
            let v = u32::from_le_bytes(chunk.try_into().unwrap());
            let i = ((at - bar0::MSIX_TABLE) / ENTRY) as usize;
            let e = &mut self.table[i];
            match (at - bar0::MSIX_TABLE) % ENTRY {
                0 => e.addr = (e.addr & !0xffff_ffff) | v as u64,
                4 => e.addr = (e.addr & 0xffff_ffff) | (v as u64) << 32,
                8 => e.data = v,
                _ => {
                    unmasked |= e.control & MASKED != 0 && v & MASKED == 0;
                    e.control = v & MASKED;
                }
            }
        }
        unmasked
    }

    /// Raise `vector`: its message if deliverable now, else it pends.
    /// `enabled`/`function_masked` come from the capability.
    pub fn raise(
        &mut self,
        vector: u16,
        enabled: bool,
        function_masked: bool,
    ) -> Option<MsiMessage> {
        let i = vector as usize;
        if i >= self.table.len() || !enabled {
            return None;
        }
        if function_masked || self.table[i].control & MASKED != 0 {
            self.pending[i] = true;
            return None;
        }
        let e = self.table[i];
        Some(MsiMessage {
            vector,
            addr: e.addr,
            data: e.data,
        })
    }

    /// Messages of pending vectors that may go now; their bits clear.
    pub fn flush(&mut self, enabled: bool, function_masked: bool) -> Vec<MsiMessage> {
        if !enabled || function_masked {
            return Vec::new();
        }
        let mut out = Vec::new();
        for i in 0..self.table.len() {
            if self.pending[i] && self.table[i].control & MASKED == 0 {
                self.pending[i] = false;
                let e = self.table[i];
                out.push(MsiMessage {
                    vector: i as u16,
                    addr: e.addr,
                    data: e.data,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_vectors_pend_until_unmasked() {
        let mut m = Msix::new();
        let t = bar0::MSIX_TABLE + 16 * 3;
        m.write(t, &0xa0000u32.to_le_bytes());
        m.write(t + 8, &42u32.to_le_bytes());
        assert_eq!(m.raise(3, true, false), None, "masked at reset");
        let mut pba = [0u8; 4];
        m.read(bar0::MSIX_PBA, &mut pba);
        assert_eq!(u32::from_le_bytes(pba), 1 << 3);
        assert!(m.write(t + 12, &0u32.to_le_bytes()));
        let out = m.flush(true, false);
        assert_eq!(
            out,
            vec![MsiMessage {
                vector: 3,
                addr: 0xa0000,
                data: 42
            }]
        );
        assert_eq!(m.raise(3, true, false).map(|x| x.data), Some(42));
        assert_eq!(m.raise(3, false, false), None, "MSI-X disabled");
        assert_eq!(m.raise(99, true, false), None);
    }
}
