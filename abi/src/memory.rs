//! Memory as a block sees it: the one interface every engine's ICM and DMA
//! ports reach memory through, on every backend.
//!
//! A block addresses ICM as tables of fixed-size entries of 64-bit words
//! (each block numbers its own tables: the TPT's MPT table is number 0,
//! its MTT number 1) and host memory by DMA address. Where those words live is the
//! implementation's business: [`SparseIcm`] keeps them in a map (block
//! tests, `hca block`), the firmware's ICM window finds them in the ICM
//! the driver mapped with MAP_ICM (the device). In host memory a word is
//! eight bytes big-endian, as everything mlx4 keeps there is.
//!
//! The ports are bus ports: they cannot refuse. An access the
//! implementation cannot carry out (ICM not mapped, a DMA outside host
//! memory) reads zero and writes nothing, and the implementation records
//! it as a [`MemFault`] for whoever owns it to report.

use std::collections::HashMap;
use std::fmt;

/// What a block's ICM and DMA ports reach.
pub trait BlockMemory {
    /// Word `word` of entry `entry` of the block's table `table`. ICM
    /// never written reads zero.
    fn icm_read(&mut self, table: u8, entry: u32, word: u8) -> u64;
    /// Write word `word` of entry `entry` of table `table`.
    fn icm_write(&mut self, table: u8, entry: u32, word: u8, data: u64);
    /// Write eight bytes, `data` big-endian, at host address `addr`.
    fn dma_write(&mut self, addr: u64, data: u64);

    /// The first access since the last call that could not be carried
    /// out, if any (and how many there were). The block's owner asks after
    /// each transaction and reports it.
    fn take_fault(&mut self) -> Option<(MemFault, u64)> {
        None
    }
}

/// An access that could not be carried out: nothing was written, a read
/// gave zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemFault {
    /// The ICM address of the word is not mapped (or past the table).
    IcmUnmapped {
        table: u8,
        entry: u32,
        word: u8,
        icm: Option<u64>,
    },
    /// A DMA outside host memory.
    Dma { addr: u64 },
}

impl fmt::Display for MemFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemFault::IcmUnmapped { table, entry, word, icm: Some(a) } => write!(
                f,
                "word {word} of entry {entry:#x} of table {table} is at ICM {a:#x}, which is not mapped"
            ),
            MemFault::IcmUnmapped { table, entry, word, icm: None } => write!(
                f,
                "word {word} of entry {entry:#x} of table {table} is past the table INIT_HCA placed"
            ),
            MemFault::Dma { addr } => write!(f, "DMA write at {addr:#x} is outside host memory"),
        }
    }
}

/// ICM and host memory in maps, for block tests and tools: every word
/// reads zero until written, every DMA write lands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SparseIcm {
    words: HashMap<(u8, u32, u8), u64>,
    host: HashMap<u64, u64>,
    /// A table whose entries, until written, read as this function of
    /// their index (an MTT the host filled before the run).
    mtt_map: Option<(u8, MttMap)>,
}

/// An MTT's entries as a function of their index.
pub type MttMap = fn(u32) -> u64;

impl SparseIcm {
    pub fn new() -> Self {
        Self::default()
    }

    /// ICM whose MTT (the block's table `table`) maps every 4 KiB page
    /// linearly until written: entry `i` reads `i << 12` with the present
    /// bit, as if the host had mapped a queue at MTT index `i` to bus
    /// address `i * 4096`. For directed tests and `hca block cq`, where
    /// buffers are easier named by address.
    pub fn with_linear_mtt(table: u8) -> Self {
        Self::with_mtt(table, |i| (i as u64) << 12 | 1)
    }

    /// ICM whose table `table` reads `map(i)` at entry `i` until written:
    /// an MTT as large as the block addresses, filled by the host before
    /// the run, without a map entry per page.
    pub fn with_mtt(table: u8, map: MttMap) -> Self {
        SparseIcm {
            mtt_map: Some((table, map)),
            ..Self::default()
        }
    }

    /// The `N` words of one entry.
    pub fn entry<const N: usize>(&self, table: u8, entry: u32) -> [u64; N] {
        std::array::from_fn(|w| self.word(table, entry, w as u8))
    }

    /// One word, as the block would read it.
    pub fn word(&self, table: u8, entry: u32, word: u8) -> u64 {
        match self.words.get(&(table, entry, word)) {
            Some(w) => *w,
            None => match self.mtt_map {
                Some((t, map)) if t == table && word == 0 => map(entry),
                _ => 0,
            },
        }
    }

    /// The host writes ICM directly, as mlx4 writes MTT entries and a
    /// driver maps an FMR.
    pub fn host_write(&mut self, table: u8, entry: u32, word: u8, data: u64) {
        self.words.insert((table, entry, word), data);
    }

    /// The eight bytes at host address `addr` (zero if never written).
    pub fn host_word(&self, addr: u64) -> u64 {
        self.host.get(&addr).copied().unwrap_or(0)
    }

    /// The first ICM word (table, entry, word, here, there) in which this
    /// memory and `other` differ, if any; a word never written equals one
    /// written zero.
    pub fn first_difference(&self, other: &SparseIcm) -> Option<(u8, u32, u8, u64, u64)> {
        let mut keys: Vec<_> = self
            .words
            .keys()
            .chain(other.words.keys())
            .copied()
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter().find_map(|(t, e, w)| {
            let (a, b) = (self.word(t, e, w), other.word(t, e, w));
            (a != b).then_some((t, e, w, a, b))
        })
    }
}

impl BlockMemory for SparseIcm {
    fn icm_read(&mut self, table: u8, entry: u32, word: u8) -> u64 {
        self.word(table, entry, word)
    }

    fn icm_write(&mut self, table: u8, entry: u32, word: u8, data: u64) {
        self.words.insert((table, entry, word), data);
    }

    fn dma_write(&mut self, addr: u64, data: u64) {
        self.host.insert(addr, data);
    }
}

/// Memory for a block that has none attached (the atomic unit's ALU, a
/// block used before INIT_HCA placed its tables): every access reads zero,
/// writes nothing and is a fault.
#[derive(Clone, Debug, Default)]
pub struct NoMemory {
    faults: FaultLog,
}

impl BlockMemory for NoMemory {
    fn icm_read(&mut self, table: u8, entry: u32, word: u8) -> u64 {
        self.faults.record(MemFault::IcmUnmapped {
            table,
            entry,
            word,
            icm: None,
        });
        0
    }

    fn icm_write(&mut self, table: u8, entry: u32, word: u8, _data: u64) {
        self.faults.record(MemFault::IcmUnmapped {
            table,
            entry,
            word,
            icm: None,
        });
    }

    fn dma_write(&mut self, addr: u64, _data: u64) {
        self.faults.record(MemFault::Dma { addr });
    }

    fn take_fault(&mut self) -> Option<(MemFault, u64)> {
        self.faults.take()
    }
}

/// The first fault and how many followed, for [`BlockMemory::take_fault`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultLog {
    first: Option<MemFault>,
    count: u64,
}

impl FaultLog {
    pub fn record(&mut self, f: MemFault) {
        self.count += 1;
        self.first.get_or_insert(f);
    }

    pub fn take(&mut self) -> Option<(MemFault, u64)> {
        let n = std::mem::take(&mut self.count);
        self.first.take().map(|f| (f, n))
    }
}

/// Read a whole entry of `N` words.
pub fn read_entry<const N: usize>(mem: &mut dyn BlockMemory, table: u8, entry: u32) -> [u64; N] {
    std::array::from_fn(|w| mem.icm_read(table, entry, w as u8))
}

/// Write a whole entry.
pub fn write_entry(mem: &mut dyn BlockMemory, table: u8, entry: u32, words: &[u64]) {
    for (w, d) in words.iter().enumerate() {
        mem.icm_write(table, entry, w as u8, *d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_icm_reads_what_was_written_and_keeps_dma_writes() {
        let mut m = SparseIcm::new();
        assert_eq!(m.icm_read(1, 7, 2), 0);
        write_entry(&mut m, 1, 7, &[1, 2, 3]);
        assert_eq!(read_entry::<3>(&mut m, 1, 7), [1, 2, 3]);
        assert_eq!(m.icm_read(0, 7, 0), 0, "tables are apart");
        m.dma_write(0x1000, 5);
        m.dma_write(0x1008, 6);
        assert_eq!((m.host_word(0x1000), m.host_word(0x1008)), (5, 6));
        assert_eq!(m.host_word(0x1010), 0, "never written");
        assert_eq!(m.take_fault(), None, "a map never faults");
        let mut other = m.clone();
        other.icm_write(1, 9, 0, 0);
        assert_eq!(
            m.first_difference(&other),
            None,
            "zero written is zero unwritten"
        );
        other.icm_write(1, 7, 2, 4);
        assert_eq!(m.first_difference(&other), Some((1, 7, 2, 3, 4)));
        let mut lin = SparseIcm::with_linear_mtt(1);
        assert_eq!(lin.icm_read(1, 5, 0), 5 << 12 | 1);
        assert_eq!(lin.icm_read(0, 5, 0), 0, "only the MTT table");
        lin.icm_write(1, 5, 0, 0xa000);
        assert_eq!(lin.icm_read(1, 5, 0), 0xa000, "written entries win");
    }

    #[test]
    fn no_memory_reads_zero_and_reports_the_first_fault() {
        let mut m = NoMemory::default();
        assert_eq!(m.icm_read(0, 3, 1), 0);
        m.dma_write(0x40, 1);
        let (first, n) = m.take_fault().expect("a fault");
        assert_eq!(
            first,
            MemFault::IcmUnmapped {
                table: 0,
                entry: 3,
                word: 1,
                icm: None
            }
        );
        assert_eq!(n, 2);
        assert_eq!(m.take_fault(), None, "taken");
    }
}
