//! The device as a typed PCI function, driven in process the way a driver
//! drives it (no UML, no virt-pci messages): config space identifies it and
//! sizes its BARs, a command posted through BAR0's HCR completes with its
//! answer in host memory by DMA, the MSI-X table is the driver's to write,
//! and accesses outside a BAR read as ones and change nothing. (Interrupts
//! end to end, through an EQ, are `firmware_events.rs`' and the UML boot's.)

use hca_device::{HcaPci, PciFunction};
use hca_firmware::bar0::{self, hcr};
use hca_firmware::fw;
use hca_firmware::opcode as op;
use hca_firmware::{FlatMemory, HostMemory};

const MEM_BASE: u64 = 0x10_0000;

fn r32(d: &mut HcaPci, bar: u8, at: u64) -> u32 {
    let mut b = [0u8; 4];
    d.mmio_read(bar, at, &mut b);
    u32::from_be_bytes(b)
}

fn cfg16(d: &mut HcaPci, at: u64) -> u16 {
    let mut b = [0u8; 2];
    d.config_read(at, &mut b);
    u16::from_le_bytes(b)
}

/// Post a command through the HCR as mlx4's cmd.c does (six words, then
/// the status word with GO) and poll GO; the status it completed with.
fn post(d: &mut HcaPci, mem: &mut FlatMemory, opcode: u16, out_param: u64, event: bool) -> u8 {
    let words = [
        0,
        0,
        0,
        (out_param >> 32) as u32,
        out_param as u32,
        0x1234 << 16,
    ];
    for (i, w) in words.iter().enumerate() {
        d.mmio_write(0, bar0::HCR_BASE + 4 * i as u64, &w.to_be_bytes(), mem);
    }
    let go = hcr::GO | if event { hcr::EVENT } else { 0 } | opcode as u32;
    d.mmio_write(0, bar0::HCR_BASE + 24, &go.to_be_bytes(), mem);
    let status = r32(d, 0, bar0::HCR_BASE + 24);
    assert_eq!(
        status & hcr::GO,
        0,
        "the command completed inside the GO write"
    );
    (status >> 24) as u8
}

#[test]
fn a_driver_in_process_meets_the_device_through_its_pci_function() {
    let mut dev = HcaPci::new();
    let mut mem = FlatMemory::new(MEM_BASE, 1 << 20);

    // Identity: Mellanox's vendor id, ConnectX-3's device id, a network
    // controller of class InfiniBand.
    assert_eq!((cfg16(&mut dev, 0), cfg16(&mut dev, 2)), (0x15b3, 0x1003));
    let mut class = [0u8; 3];
    dev.config_read(9, &mut class);
    assert_eq!(class, [0, 0x80, 0x02]);
    // BAR sizing: all ones written, the size mask read back.
    dev.config_write(0x10, &u32::MAX.to_le_bytes());
    let mut bar = [0u8; 4];
    dev.config_read(0x10, &mut bar);
    assert_eq!(
        !(u32::from_le_bytes(bar) & !0xf) as u64 + 1,
        dev.bar_size(0)
    );
    assert_eq!(dev.bar_size(0), bar0::BAR0_SIZE);
    assert_eq!(dev.bar_size(1), 0, "no BAR1");

    // QUERY_FW by polling: the answer lands in the output mailbox by DMA.
    let outbox = MEM_BASE + 0x1000;
    assert_eq!(post(&mut dev, &mut mem, op::QUERY_FW, outbox, false), 0);
    let mut out = vec![0u8; fw::QueryFwOut::SIZE];
    mem.read(outbox, &mut out).expect("outbox");
    assert_eq!(fw::QueryFwOut::decode(&out).fw_major, fw::FW_MAJOR);

    // Outside a BAR: ones, nothing changes.
    let mut b = [0u8; 4];
    dev.mmio_read(0, bar0::BAR0_SIZE - 2, &mut b);
    assert_eq!(b, [0xff; 4]);
    dev.mmio_read(1, 0, &mut b);
    assert_eq!(b, [0xff; 4]);
    dev.mmio_write(0, u64::MAX - 1, &[0; 4], &mut mem);
    assert!(dev.take_msis().is_empty());
}

#[test]
fn the_msix_table_is_the_drivers() {
    let mut dev = HcaPci::new();
    let mut mem = FlatMemory::new(MEM_BASE, 1 << 20);
    // Vector 0: address and data in the table, unmasked.
    let entry = bar0::MSIX_TABLE;
    let words: [u32; 4] = [0xfee0_0000, 0, 0x41, 0];
    for (i, w) in words.iter().enumerate() {
        dev.mmio_write(0, entry + 4 * i as u64, &w.to_le_bytes(), &mut mem);
    }
    let vector = |dev: &mut HcaPci| {
        let mut b = [0u8; 4];
        dev.mmio_read(0, entry + 8, &mut b);
        u32::from_le_bytes(b)
    };
    assert_eq!(vector(&mut dev), 0x41, "the table reads back");
    assert!(
        dev.take_msis().is_empty(),
        "nothing sent before MSI-X is enabled"
    );
}
