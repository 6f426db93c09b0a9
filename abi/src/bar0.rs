//! BAR0: where every register of the device sits. One table, used by the
//! firmware, the PCI device (which owns the MSI-X table) and the docs.
//!
//! The mlx4 driver hard-codes the HCR, owner and reset offsets; the others
//! it learns from QUERY_FW, and the MSI-X table from the capability.

/// Size of BAR0 (1 MiB, as ConnectX-3).
pub const BAR0_SIZE: u64 = 1 << 20;
/// Size of BAR2, the UAR pages (8 MiB).
pub const BAR2_SIZE: u64 = 8 << 20;
/// UAR page size (4 KiB).
pub const UAR_PAGE: u64 = 4096;

/// The MSI-X table (16 bytes per vector).
pub const MSIX_TABLE: u64 = 0x7c000;
/// The MSI-X pending-bit array.
pub const MSIX_PBA: u64 = 0x7d000;
/// Vectors the device has (mlx4's `MAX_MSIX` is 64).
pub const MSIX_VECTORS: u16 = 64;

/// The catastrophic-error buffer the driver polls every second (QUERY_FW).
pub const CATAS_BASE: u64 = 0x7e000;
/// Its size in 32-bit words.
pub const CATAS_WORDS: u32 = 16;
/// The device's internal clock (QUERY_FW's clock offset): a free-running
/// 64-bit count of the cycles the blocks have run, read as two big-endian
/// words, high then low, as `mlx4_read_clock` reads the HCA core clock.
/// The behavioral models are untimed and add nothing to it.
pub const CLOCK_BASE: u64 = 0x7e800;
/// The interrupt-clear register for INTx (QUERY_FW).
pub const CLR_INT_BASE: u64 = 0x7f000;

/// The host command register: seven big-endian words.
pub const HCR_BASE: u64 = 0x80680;
pub const HCR_WORDS: u64 = 7;
/// Read 0: the reader owns the device; the read takes it (test and set).
pub const OWNER: u64 = 0x8069c;
/// The hardware semaphore (read 0: taken; reset releases it).
pub const SEMAPHORE: u64 = 0xf03fc;
/// Writing 1 (big-endian) resets the device.
pub const RESET: u64 = 0xf0010;
/// What the driver writes to RESET (`swab32(1)` as a little-endian store).
pub const RESET_VALUE: u32 = 1;

/// HCR word 6 bits.
pub mod hcr {
    pub const GO: u32 = 1 << 23;
    pub const EVENT: u32 = 1 << 22;
    pub const TOGGLE: u32 = 1 << 21;
    pub const OPMOD_SHIFT: u32 = 12;
    pub const STATUS_SHIFT: u32 = 24;
}

/// The register map as Markdown (docs/uml.md).
pub fn markdown() -> String {
    let rows: [(u64, &str, &str); 10] = [
        (
            MSIX_TABLE,
            "MSI-X table",
            "64 vectors x 16 bytes; the PCI device owns it",
        ),
        (MSIX_PBA, "MSI-X PBA", "pending bits, read-only"),
        (
            CATAS_BASE,
            "catastrophic error buffer",
            "16 words, zero while healthy",
        ),
        (
            CLOCK_BASE,
            "internal clock",
            "2 big-endian words, high then low: block cycles since power-on",
        ),
        (
            CLR_INT_BASE,
            "clear interrupt",
            "INTx acknowledge; writes ignored",
        ),
        (
            HCR_BASE,
            "HCR",
            "7 big-endian words: in_param, in_modifier, out_param, token, go/e/t/opmod/op",
        ),
        (OWNER, "owner", "test and set: the first read returns 0"),
        (0xf0000, "reset block", "mapped by mlx4_reset"),
        (SEMAPHORE, "semaphore", "test and set; reset releases it"),
        (
            RESET,
            "reset",
            "write 1 (big-endian): back to power-on state",
        ),
    ];
    let mut s = String::from("| BAR0 offset | register | behaviour |\n|---|---|---|\n");
    for (off, name, what) in rows {
        s.push_str(&format!("| `{off:#07x}` | {name} | {what} |\n"));
    }
    s
}
