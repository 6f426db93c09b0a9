//! Each implemented command, posted through the project's driver over the
//! PCI function as mlx4 posts it: the bring-up sequence works, and bad
//! input is answered with mlx4's status and changes nothing. Before
//! bring-up the driver polls and the test brings up what it needs with
//! raw commands; after it commands complete by event on the driver's EQ.

mod common;

use common::*;
use hca_device::PciFunction as _;
use hca_driver::cmd::Cmd;
use hca_driver::Profile;
use hca_engines::Backend;
use hca_firmware::bar0;
use hca_firmware::hca::{self as adapter, InitHca};
use hca_firmware::icm::ICM_PAGE;
use hca_firmware::opcode as op;
use hca_firmware::Status;
use hca_firmware::{caps, fw};

const MODEL: Backend = Backend::Model;

/// The layout the driver's profile makes for this device, before any
/// bring-up: what INIT_HCA takes, and the ICM size SET_ICM_SIZE gets.
fn profile_layout() -> hca_driver::profile::Layout {
    hca_driver::profile::layout(&Profile::default(), &caps::device_caps()).expect("layout")
}

/// ICM the driver's layout places a table at but never maps (the cMPT,
/// which this device does not use): room for the tests' own MAP_ICMs.
fn unused_icm(d: &Dev) -> u64 {
    layout(d).cmpt_base
}

#[test]
fn bring_up_reaches_init_hca_and_query_adapter() {
    let mut d = up(MODEL);
    let (s, out) = cmd_out(&mut d, op::QUERY_ADAPTER, 0, 0);
    assert_eq!(s, Status::Ok);
    // mlx4 byte-swaps each word of the board id back.
    let id: Vec<u8> = out[0xf0..0x100]
        .chunks(4)
        .flat_map(|w| [w[3], w[2], w[1], w[0]])
        .take_while(|b| *b != 0)
        .collect();
    assert_eq!(String::from_utf8(id).unwrap(), adapter::BOARD_ID);
    let (s, out) = cmd_out(&mut d, op::QUERY_HCA, 0, 0);
    assert_eq!(s, Status::Ok);
    assert_eq!(InitHca::decode(&out).dmpt_base, layout(&d).dmpt_base);
    assert!(fw(&mut d).layout().is_some());
    // CLOSE_HCA takes the EQs with it: posted by polling, as mlx4 does.
    d.use_polling();
    assert_eq!(cmd(&mut d, op::CLOSE_HCA, 0, 0, 0), Status::Ok);
    assert!(fw(&mut d).layout().is_none());
}

#[test]
fn query_fw_and_dev_cap_say_what_the_device_is() {
    let mut d = driver(MODEL);
    let (s, out) = cmd_out(&mut d, op::QUERY_FW, 0, 0);
    assert_eq!(s, Status::Ok);
    let q = fw::QueryFwOut::decode(&out);
    assert_eq!(q.cmd_if_rev, 3);
    assert_eq!(
        (q.fw_major, q.fw_minor, q.fw_subminor),
        (fw::FW_MAJOR, fw::FW_MINOR, fw::FW_SUBMINOR)
    );
    assert_eq!(q.catas_offset, bar0::CATAS_BASE);
    let mut d = running(MODEL);
    let (s, out) = cmd_out(&mut d, op::QUERY_DEV_CAP, 0, 0);
    assert_eq!(s, Status::Ok);
    // The bytes where mlx4's fw.c reads them (`QUERY_DEV_CAP_*_OFFSET`),
    // checked here without our layout: the facts the driver sizes its
    // tables and features from.
    let be16 = |o: usize| u16::from_be_bytes([out[o], out[o + 1]]);
    let be32 = |o: usize| u32::from_be_bytes(out[o..o + 4].try_into().unwrap());
    assert!(
        out[0x13] & 0x1f >= 18,
        "log max QPs covers mlx4's profile (2^18)"
    );
    assert_eq!(out[0x1d] & 0x3f, 19, "log max MPTs: the TPT's 2^19");
    assert_eq!(be32(0x44) & 0b111, 0b111, "RC, UC and UD (flags at 0x44)");
    assert_ne!(be32(0x44) & 1 << 18, 0, "atomics");
    assert_eq!(
        be32(0x40),
        0,
        "no extended flags (0x40): no 64-byte CQEs or EQEs"
    );
    assert_eq!(
        be32(0x94) & (1 << 6 | 1 << 7 | 1 << 11),
        1 << 6 | 1 << 7 | 1 << 11,
        "BMME: local and remote invalidate, fast-register"
    );
    assert_eq!(
        (be16(0x82), be16(0x8a), be16(0x90), be16(0x92)),
        (512, 32, 8, 64),
        "QPC, CQC, MTT and dMPT entry sizes"
    );
    let c = caps::QueryDevCapOut::decode(&out);
    assert_eq!(c, caps::device_caps());
    assert_eq!(c.num_ports, 1);
    assert_eq!(1u64 << (c.uar_sz + 20), bar0::BAR2_SIZE);
    let (s, out) = cmd_out(&mut d, op::QUERY_PORT, 0, 1);
    assert_eq!(s, Status::Ok);
    assert_eq!(hca_firmware::port::QueryPortOut::decode(&out).ib_mtu, 5);
}

#[test]
fn mailbox_outside_host_memory_is_a_bus_error() {
    let mut d = driver(MODEL);
    let s = post(
        &mut d,
        Cmd {
            opcode: op::QUERY_FW,
            out_param: OUTSIDE,
            ..Default::default()
        },
    );
    assert_eq!(s, Status::InternalErr);
    refused(&mut d, Status::InternalErr, |d| {
        cmd(d, op::MAP_FA, 0, OUTSIDE, 1)
    });
    let mut d = running(MODEL);
    refused(&mut d, Status::InternalErr, |d| {
        cmd(d, op::MOD_STAT_CFG, 0, OUTSIDE, 0)
    });
    assert_eq!(
        post(
            &mut d,
            Cmd {
                opcode: op::QUERY_DEV_CAP,
                out_param: OUTSIDE,
                ..Default::default()
            }
        ),
        Status::InternalErr
    );
    let mut d = up(MODEL);
    d.use_polling();
    assert_eq!(cmd(&mut d, op::CLOSE_HCA, 0, 0, 0), Status::Ok);
    refused(&mut d, Status::InternalErr, |d| {
        cmd(d, op::INIT_HCA, 0, OUTSIDE, 0)
    });
    // A chunk the mailbox names outside host memory: refused as a parameter.
    let virt = unused_icm(&d);
    refused(&mut d, Status::BadParam, |d| {
        map_cmd(d, op::MAP_ICM, &[(virt, OUTSIDE & !0xfff, 0)])
    });
}

#[test]
fn unaligned_and_overlapping_icm_is_refused_whole() {
    let mut d = up(MODEL);
    let a = alloc(&mut d, 8 * ICM_PAGE, 8 * ICM_PAGE);
    let free = unused_icm(&d);
    // Chunk of 2 pages at an address aligned to one.
    refused(&mut d, Status::BadParam, |d| {
        map_cmd(d, op::MAP_ICM, &[(free, a + ICM_PAGE, 1)])
    });
    // ICM address not aligned to the chunk.
    refused(&mut d, Status::BadParam, |d| {
        map_cmd(d, op::MAP_ICM, &[(free + 0x1000, a, 1)])
    });
    // The EQC page is mapped already (the driver maps the table whole).
    let eqc = layout(&d).eqc_base;
    refused(&mut d, Status::BadParam, |d| {
        map_cmd(d, op::MAP_ICM, &[(eqc, a, 0)])
    });
    // Two entries of one batch on the same page: neither is mapped.
    let other = free + 0x10_0000;
    refused(&mut d, Status::BadParam, |d| {
        map_cmd(d, op::MAP_ICM, &[(other, a, 0), (other, a + ICM_PAGE, 0)])
    });
    // No entries, or more than a mailbox holds.
    let page = alloc(&mut d, 4096, 4096);
    refused(&mut d, Status::BadParam, |d| {
        cmd(d, op::MAP_ICM, 0, page, 0)
    });
    refused(&mut d, Status::BadParam, |d| {
        cmd(d, op::MAP_ICM, 0, page, 257)
    });
    // Unmap of an unaligned address.
    refused(&mut d, Status::BadParam, |d| {
        cmd(d, op::UNMAP_ICM, 0, eqc + 8, 1)
    });
    // A good map still works, and translates.
    assert_eq!(map_cmd(&mut d, op::MAP_ICM, &[(other, a, 1)]), Status::Ok);
    assert_eq!(
        fw(&mut d).icm_translate(other + 0x1008),
        Some(a + ICM_PAGE + 8)
    );
}

#[test]
fn init_hca_before_map_icm_and_bad_layouts() {
    let mut d = running(MODEL);
    let l = profile_layout();
    let p = l.init;
    refused(&mut d, Status::BadSysState, |d| {
        cmd_in(d, op::INIT_HCA, 0, &p.encode(), 0)
    });
    let aux = d.cmd(Cmd {
        opcode: op::SET_ICM_SIZE,
        in_param: l.icm_size,
        ..Default::default()
    });
    assert_eq!(status(aux.clone()), Status::Ok);
    let aux_pages = aux.unwrap();
    // MAP_ICM before the auxiliary ICM is there.
    refused(&mut d, Status::IcmError, |d| map_icm(d, p.eqc_base, 1));
    let n = aux_pages.next_power_of_two();
    let a = alloc(&mut d, n * ICM_PAGE, n * ICM_PAGE);
    assert_eq!(
        map_cmd(&mut d, op::MAP_ICM_AUX, &[(0, a, n.trailing_zeros())]),
        Status::Ok
    );
    // INIT_HCA with no ICM mapped.
    refused(&mut d, Status::IcmError, |d| {
        cmd_in(d, op::INIT_HCA, 0, &p.encode(), 0)
    });
    assert_eq!(map_icm(&mut d, p.eqc_base, 1), Status::Ok);
    let bad = |f: &dyn Fn(&mut InitHca)| {
        let mut q = p;
        f(&mut q);
        q.encode()
    };
    for mbox in [
        bad(&|q| q.version = 1),
        bad(&|q| q.cqc_base = q.qpc_base + 0x1000),
        bad(&|q| q.dmpt_base += 0x800),
        bad(&|q| q.log_num_qps = 25),
        bad(&|q| q.log_num_eqs = 4),
        bad(&|q| q.cmpt_base = l.icm_size),
        bad(&|q| q.mtt_base = q.dmpt_base + 0x1000),
        bad(&|q| q.eqe_cqe_sizes = 1 << 29),
        bad(&|q| q.log_uar_sz = 12),
        bad(&|q| q.mw_enabled = 0x80),
    ] {
        refused(&mut d, Status::BadParam, |d| {
            cmd_in(d, op::INIT_HCA, 0, &mbox, 0)
        });
    }
    assert_eq!(cmd_in(&mut d, op::INIT_HCA, 0, &p.encode(), 0), Status::Ok);
    refused(&mut d, Status::BadSysState, |d| {
        cmd_in(d, op::INIT_HCA, 0, &p.encode(), 0)
    });
    refused(&mut d, Status::BadSysState, |d| {
        cmd(d, op::UNMAP_FA, 0, 0, 0)
    });
    refused(&mut d, Status::BadSysState, |d| {
        cmd(d, op::SET_ICM_SIZE, 0, 1 << 30, 0)
    });
}

#[test]
fn run_fw_twice_or_without_its_area() {
    let mut d = driver(MODEL);
    refused(&mut d, Status::BadSysState, |d| cmd(d, op::RUN_FW, 0, 0, 0));
    let fa = alloc(&mut d, 8 * ICM_PAGE, 8 * ICM_PAGE);
    assert_eq!(map_cmd(&mut d, op::MAP_FA, &[(0, fa, 3)]), Status::Ok);
    refused(&mut d, Status::BadSysState, |d| cmd(d, op::RUN_FW, 0, 0, 0));
    let fa = alloc(&mut d, 8 * ICM_PAGE, 8 * ICM_PAGE);
    assert_eq!(map_cmd(&mut d, op::MAP_FA, &[(0, fa, 3)]), Status::Ok);
    assert_eq!(cmd(&mut d, op::RUN_FW, 0, 0, 0), Status::Ok);
    refused(&mut d, Status::BadSysState, |d| cmd(d, op::RUN_FW, 0, 0, 0));
    refused(&mut d, Status::BadSysState, |d| {
        map_cmd(d, op::MAP_FA, &[(0, fa, 0)])
    });
    // UNMAP_FA stops the firmware; it may run again once given its area.
    assert_eq!(cmd(&mut d, op::UNMAP_FA, 0, 0, 0), Status::Ok);
    assert!(!fw(&mut d).running());
}

#[test]
fn commands_need_the_firmware_running_and_the_hca_initialised() {
    let mut d = driver(MODEL);
    let page = alloc(&mut d, 4096, 4096);
    for opcode in [
        op::QUERY_DEV_CAP,
        op::QUERY_PORT,
        op::SET_ICM_SIZE,
        op::INIT_HCA,
        op::NOP,
    ] {
        refused(&mut d, Status::BadSysState, |d| cmd(d, opcode, 0, page, 1));
    }
    let mut d = running(MODEL);
    let page = alloc(&mut d, 4096, 4096);
    for opcode in [
        op::QUERY_ADAPTER,
        op::QUERY_HCA,
        op::CLOSE_HCA,
        op::SW2HW_EQ,
        op::MAP_EQ,
    ] {
        refused(&mut d, Status::BadSysState, |d| cmd(d, opcode, 0, page, 0));
    }
    refused(&mut d, Status::BadParam, |d| {
        cmd(d, op::QUERY_PORT, 0, page, 2)
    });
    refused(&mut d, Status::BadParam, |d| {
        cmd(d, op::QUERY_PORT, 0, page, 0)
    });
    refused(&mut d, Status::BadParam, |d| {
        cmd_in(
            d,
            op::MOD_STAT_CFG,
            0,
            &fw::ModStatCfgIn {
                pg_sz_m: 1,
                pg_sz: 1,
            }
            .encode(),
            0,
        )
    });
}

#[test]
fn wrong_op_modifiers_and_unknown_opcodes_are_bad_op() {
    let mut d = up(MODEL);
    let page = alloc(&mut d, 4096, 4096);
    for opcode in [
        op::QUERY_FW,
        op::MAP_FA,
        op::RUN_FW,
        op::QUERY_DEV_CAP,
        op::QUERY_PORT,
        op::SET_ICM_SIZE,
        op::MAP_ICM_AUX,
        op::MAP_ICM,
        op::UNMAP_ICM,
        op::INIT_HCA,
        op::QUERY_HCA,
        op::QUERY_ADAPTER,
        op::SW2HW_EQ,
        op::MAP_EQ,
        op::NOP,
        op::CONF_SPECIAL_QP,
        op::SET_PORT,
        op::INIT_PORT,
        op::CLOSE_PORT,
    ] {
        refused(&mut d, Status::BadOp, |d| cmd(d, opcode, 3, page, 1));
    }
    refused(&mut d, Status::BadOp, |d| cmd(d, op::CLOSE_HCA, 2, 0, 0));
    refused(&mut d, Status::BadOp, |d| {
        cmd(d, op::MOD_STAT_CFG, 1, page, 0)
    });
    // Implemented elsewhere in mlx4, not here (yet), and never defined.
    for opcode in [0x032, 0x039, 0x061, 0x0aa, 0xfff - 0x10] {
        refused(&mut d, Status::BadOp, |d| cmd(d, opcode, 0, page, 0));
    }
}

/// A 32-bit BAR0 register read through the PCI function.
fn bar0_read(d: &mut Dev, at: u64) -> [u8; 4] {
    let mut b = [0u8; 4];
    d.pci().mmio_read(0, at, &mut b);
    b
}

#[test]
fn reset_returns_to_power_on() {
    let mut d = up(MODEL);
    // mlx4_reset: take the semaphore, hit reset.
    assert_eq!(
        bar0_read(&mut d, bar0::SEMAPHORE),
        [0; 4],
        "the semaphore is free"
    );
    assert_ne!(bar0_read(&mut d, bar0::SEMAPHORE), [0; 4], "and now taken");
    {
        let (pci, mem) = d.pci_and_memory();
        pci.mmio_write(0, bar0::RESET, &1u32.to_be_bytes(), mem.host());
    }
    let f = fw(&mut d);
    assert!(!f.running() && f.layout().is_none() && f.icm_pages() == 0);
    assert_eq!(f.hcr_status(), 0, "T = 0 after reset");
    // The owner register: the first read owns the device.
    assert_eq!(bar0_read(&mut d, bar0::OWNER), [0; 4]);
    assert_ne!(bar0_read(&mut d, bar0::OWNER), [0; 4]);
    // The driver's toggle restarts at 1 after a reset: a fresh driver's
    // first command, and this driver's own bring-up (mlx4_reset first)
    // on the device it had up before.
    let mut d2 = driver(MODEL);
    assert_eq!(cmd_out(&mut d2, op::QUERY_FW, 0, 0).0, Status::Ok);
    let _ = d.tear_down();
    d.bring_up()
        .unwrap_or_else(|e| panic!("bring-up after a reset: {e}"));
}

#[test]
fn narrow_hcr_writes_are_ignored() {
    let mut d = driver(MODEL);
    {
        let (pci, mem) = d.pci_and_memory();
        pci.mmio_write(0, bar0::HCR_BASE + 24, &[0x80, 0, 0x04], mem.host());
        pci.mmio_write(0, bar0::HCR_BASE + 26, &[0x80, 0x04], mem.host());
    }
    assert!(trace(&mut d).is_empty());
    assert_eq!(fw(&mut d).hcr_status(), 0);
    assert_eq!(
        cmd_out(&mut d, op::QUERY_FW, 0, 0).0,
        Status::Ok,
        "and the HCR still works"
    );
}

#[test]
fn special_qps_and_ports() {
    use hca_firmware::port::SetPortIbIn;
    let mut d = driver(MODEL);
    refused(&mut d, Status::BadSysState, |d| {
        cmd(d, op::CONF_SPECIAL_QP, 0, 0, 0x40)
    });
    d.bring_up().expect("bring-up");
    let qps = 1u32 << layout(&d).log_num_qps;
    assert_eq!(cmd(&mut d, op::CONF_SPECIAL_QP, 0, 0, 0x40), Status::Ok);
    assert_eq!(fw(&mut d).special_qp_base(), 0x40);
    refused(&mut d, Status::BadParam, |d| {
        cmd(d, op::CONF_SPECIAL_QP, 0, 0, 0x41)
    });
    refused(&mut d, Status::BadParam, |d| {
        cmd(d, op::CONF_SPECIAL_QP, 0, 0, qps - 4)
    });
    assert_eq!(
        cmd(&mut d, op::CONF_SPECIAL_QP, 0, 0, 0),
        Status::Ok,
        "0 turns them off"
    );

    // SET_PORT as mlx4_SET_PORT sends it: MTU 4096, VLs 8, 4, 2, 1 until
    // the port takes them; it has 8 (VL0-7), so more are refused and 8
    // are taken at once.
    let set = |vl: u8| SetPortIbIn {
        change_mtu: true,
        change_vl: true,
        mtu_cap: 5,
        vl_cap: vl,
        capability_mask: 0x0251_0868,
        ..Default::default()
    };
    for vl in [9, 15] {
        refused(&mut d, Status::ExceedLim, |d| {
            cmd_in(d, op::SET_PORT, 0, &set(vl).encode(), 1)
        });
    }
    assert_eq!(
        cmd_in(&mut d, op::SET_PORT, 0, &set(8).encode(), 1),
        Status::Ok
    );
    let pc = fw(&mut d).port_config(1).unwrap();
    assert_eq!(
        (pc.configured, pc.mtu_cap, pc.vl_cap, pc.capability_mask),
        (true, 5, 8, 0x0251_0868)
    );
    let mut bad = set(1);
    bad.mtu_cap = 6;
    refused(&mut d, Status::BadParam, |d| {
        cmd_in(d, op::SET_PORT, 0, &bad.encode(), 1)
    });
    let mut bad = set(1);
    bad.change_pkey_tbl = true;
    bad.pkey_tbl_sz = 1 << 10;
    refused(&mut d, Status::BadParam, |d| {
        cmd_in(d, op::SET_PORT, 0, &bad.encode(), 1)
    });
    refused(&mut d, Status::BadParam, |d| {
        cmd_in(d, op::SET_PORT, 0, &set(1).encode(), 2)
    });
    refused(&mut d, Status::BadOp, |d| {
        cmd_in(d, op::SET_PORT, 1, &set(1).encode(), 1)
    });
    refused(&mut d, Status::InternalErr, |d| {
        cmd(d, op::SET_PORT, 0, OUTSIDE, 1)
    });

    // The driver's bring-up left port 1 up: down first, so that INIT_PORT
    // has something to do.
    assert!(fw(&mut d).port_config(1).unwrap().up);
    assert_eq!(cmd(&mut d, op::CLOSE_PORT, 0, 0, 1), Status::Ok);
    assert!(!fw(&mut d).port_config(1).unwrap().up);
    assert_eq!(cmd(&mut d, op::INIT_PORT, 0, 0, 1), Status::Ok);
    assert!(fw(&mut d).port_config(1).unwrap().up);
    refused(&mut d, Status::BadParam, |d| cmd(d, op::INIT_PORT, 0, 0, 2));
    assert_eq!(cmd(&mut d, op::CLOSE_PORT, 0, 0, 1), Status::Ok);
    assert_eq!(
        cmd(&mut d, op::CLOSE_PORT, 0, 0, 1),
        Status::Ok,
        "closing a closed port is fine"
    );
    assert!(!fw(&mut d).port_config(1).unwrap().up);
}

#[test]
fn mad_ifc_answers_as_the_subnet_management_agent() {
    use hca_firmware::mad::*;
    let mut d = up(MODEL);
    let get = |attr: u16, attr_mod: u32| {
        let mut m = vec![0u8; MAD_BYTES];
        m[..64].copy_from_slice(
            &MadHeader {
                base_version: 1,
                mgmt_class: CLASS_SUBN_LID_ROUTED,
                class_version: 1,
                method: METHOD_GET,
                tid: 7,
                attr_id: attr,
                attr_mod,
                ..Default::default()
            }
            .encode(),
        );
        m
    };
    // As mlx4_get_port_ib_caps asks: op modifier 3 (ignore keys), port 1,
    // the MAD in, the agent's answer out.
    let (st, out) = cmd_in_out(&mut d, op::MAD_IFC, 3, &get(ATTR_PORT_INFO, 1), 1);
    assert_eq!(st, Status::Ok);
    assert_eq!(out[3], METHOD_GET_RESP);
    assert_eq!(
        u32::from_be_bytes(out[84..88].try_into().unwrap()),
        hca_firmware::mad::DEFAULT_CAP_MASK
    );
    // After SET_PORT, PortInfo reports its capability mask.
    let set = hca_firmware::port::SetPortIbIn {
        change_vl: true,
        vl_cap: 1,
        capability_mask: 0x0201_0800,
        ..Default::default()
    };
    assert_eq!(
        cmd_in(&mut d, op::SET_PORT, 0, &set.encode(), 1),
        Status::Ok
    );
    let (st, out) = cmd_in_out(&mut d, op::MAD_IFC, 3, &get(ATTR_PORT_INFO, 1), 1);
    assert_eq!(st, Status::Ok);
    assert_eq!(
        u32::from_be_bytes(out[84..88].try_into().unwrap()),
        0x0201_0800
    );
    // Bad input: a port the HCA lacks, an op modifier past the three
    // flags, a mailbox outside host memory.
    let page = alloc(&mut d, 4096, 4096);
    refused(&mut d, Status::BadParam, |d| {
        cmd(d, op::MAD_IFC, 3, page, 2)
    });
    refused(&mut d, Status::BadOp, |d| cmd(d, op::MAD_IFC, 8, page, 1));
    refused(&mut d, Status::InternalErr, |d| {
        cmd(d, op::MAD_IFC, 3, OUTSIDE, 1)
    });
}

#[test]
fn diag_rprt_gives_the_transport_error_counters() {
    let mut d = up(MODEL);
    for port in [0, 1] {
        let (s, out) = cmd_out(&mut d, op::DIAG_RPRT, 2, port);
        assert_eq!(s, Status::Ok);
        let e = hca_firmware::hca::TransportErrors::decode(&out);
        assert_eq!(e, Default::default(), "no traffic, no errors");
    }
    refused(&mut d, Status::BadParam, |d| {
        cmd_out(d, op::DIAG_RPRT, 2, 2).0
    });
    refused(&mut d, Status::BadOp, |d| cmd_out(d, op::DIAG_RPRT, 0, 0).0);
}

#[test]
fn every_mailbox_outside_host_memory_is_a_bus_error_and_changes_nothing() {
    let mut d = up(MODEL);
    // Output mailboxes.
    for (opcode, op_modifier, in_modifier) in [
        (op::QUERY_FW, 0, 0),
        (op::QUERY_DEV_CAP, 0, 0),
        (op::QUERY_PORT, 0, 1),
        (op::QUERY_HCA, 0, 0),
        (op::QUERY_ADAPTER, 0, 0),
        (op::MOD_STAT_CFG, 2, 1 << 8),
        (op::DIAG_RPRT, 2, 0),
    ] {
        refused(&mut d, Status::InternalErr, |d| {
            post(
                d,
                Cmd {
                    opcode,
                    op_modifier,
                    in_modifier,
                    out_param: OUTSIDE,
                    ..Default::default()
                },
            )
        });
    }
    // Input mailboxes (MAP_FA's is tested before RUN_FW, the only time it
    // is taken). EQ 6 is one the driver does not use.
    for (opcode, op_modifier, in_modifier) in [
        (op::MAP_ICM_AUX, 0, 1),
        (op::MAP_ICM, 0, 1),
        (op::MOD_STAT_CFG, 0, 0),
        (op::SW2HW_EQ, 0, 6),
        (op::SET_PORT, 0, 1),
        (op::MAD_IFC, 3, 1),
    ] {
        refused(&mut d, Status::InternalErr, |d| {
            cmd(d, opcode, op_modifier, OUTSIDE, in_modifier)
        });
    }
    // MAD_IFC with a good inbox and an outbox outside.
    let inbox = alloc(&mut d, 4096, 4096);
    refused(&mut d, Status::InternalErr, |d| {
        post(
            d,
            Cmd {
                opcode: op::MAD_IFC,
                op_modifier: 3,
                in_param: inbox,
                in_modifier: 1,
                out_param: OUTSIDE,
            },
        )
    });
    d.use_polling();
    assert_eq!(cmd(&mut d, op::CLOSE_HCA, 0, 0, 0), Status::Ok);
    refused(&mut d, Status::InternalErr, |d| {
        cmd(d, op::INIT_HCA, 0, OUTSIDE, 0)
    });
}

/// The DMA region mlx4_ib's get_dma_mr registers: MPT `index`, physical,
/// start 0, length 2^64 - 1.
fn dma_mr(index: u32, tag: u8) -> hca_firmware::mr::MlxMpt {
    use hca_firmware::mr::*;
    MlxMpt {
        owner: OWNER_SW,
        mio: true,
        region: true,
        physical: true,
        access: 0x03,
        key: (tag as u32) << 24 | index,
        en_inv: 3,
        pd: 7,
        start: 0,
        length: u64::MAX,
        entity_size: 12,
        ..Default::default()
    }
}

#[test]
fn memory_regions_on_the_tpt() {
    use hca_firmware::mr::MlxMpt;
    let mut d = up(MODEL);
    // MPTs 1 to 3, which the driver has not handed out: their dMPT chunk
    // mapped as the driver maps it for its own.
    for i in 1..=3 {
        map_object(&mut d, "dMPT", i);
    }
    let m = dma_mr(1, 0x5a);
    assert_eq!(cmd_in(&mut d, op::SW2HW_MPT, 0, &m.encode(), 1), Status::Ok);
    let e = with_fw(&mut d, |f, mem| f.mpt(1, mem)).expect("the TPT holds it");
    assert_eq!(
        (e.kind, e.tag, e.pd, e.len),
        (hca_rtl::tpt::MptKind::Physical as u8, 0x5a, 7, u64::MAX)
    );
    let (s, out) = cmd_out(&mut d, op::QUERY_MPT, 0, 1);
    assert_eq!(s, Status::Ok);
    let q = MlxMpt::decode(&out);
    assert_eq!(
        (q.key, q.physical, q.length, q.pd),
        (m.key, true, u64::MAX, 7)
    );

    // Bad input: nothing changes.
    let limit = 1u32 << layout(&d).log_mpt_sz;
    refused(&mut d, Status::BadIndex, |d| {
        cmd_in(d, op::SW2HW_MPT, 0, &dma_mr(limit, 0).encode(), limit)
    });
    refused(&mut d, Status::BadResState, |d| {
        cmd_in(d, op::SW2HW_MPT, 0, &m.encode(), 1)
    });
    refused(&mut d, Status::BadParam, |d| {
        cmd_in(d, op::SW2HW_MPT, 0, &dma_mr(3, 0).encode(), 2)
    });
    let window = MlxMpt {
        region: false,
        ..dma_mr(2, 0)
    };
    refused(&mut d, Status::BadParam, |d| {
        cmd_in(d, op::SW2HW_MPT, 0, &window.encode(), 2)
    });
    let page = MlxMpt {
        entity_size: 40,
        ..dma_mr(2, 0)
    };
    refused(&mut d, Status::BadParam, |d| {
        cmd_in(d, op::SW2HW_MPT, 0, &page.encode(), 2)
    });
    refused(&mut d, Status::BadResState, |d| {
        cmd_out(d, op::QUERY_MPT, 0, 2).0
    });
    refused(&mut d, Status::InternalErr, |d| {
        post(
            d,
            Cmd {
                opcode: op::HW2SW_MPT,
                in_modifier: 1,
                out_param: OUTSIDE,
                ..Default::default()
            },
        )
    });
    refused(&mut d, Status::BadOp, |d| cmd(d, op::HW2SW_MPT, 2, 0, 1));

    // HW2SW_MPT with a mailbox gives the entry back; without, just takes it.
    let (s, out) = cmd_out(&mut d, op::HW2SW_MPT, 0, 1);
    assert_eq!(s, Status::Ok);
    assert_eq!(MlxMpt::decode(&out).key, m.key);
    assert!(with_fw(&mut d, |f, mem| f.mpt(1, mem)).is_none());
    refused(&mut d, Status::BadResState, |d| {
        cmd(d, op::HW2SW_MPT, 1, 0, 1)
    });
    assert_eq!(cmd_in(&mut d, op::SW2HW_MPT, 0, &m.encode(), 1), Status::Ok);
    assert_eq!(cmd(&mut d, op::HW2SW_MPT, 1, 0, 1), Status::Ok);
    // CLOSE_HCA hands every region back.
    assert_eq!(cmd_in(&mut d, op::SW2HW_MPT, 0, &m.encode(), 1), Status::Ok);
    d.use_polling();
    assert_eq!(cmd(&mut d, op::CLOSE_HCA, 0, 0, 0), Status::Ok);
    assert!(with_fw(&mut d, |f, mem| f.mpt(1, mem)).is_none());
}
