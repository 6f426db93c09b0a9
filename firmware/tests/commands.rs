//! Each implemented command, driven over BAR0 as mlx4 drives it: the
//! bring-up sequence works, and bad input is answered with mlx4's status
//! and changes nothing.

use hca_firmware::bar0;
use hca_firmware::hca::{self as adapter, InitHca};
use hca_firmware::host::{Host, MEM_BASE, MEM_SIZE};
use hca_firmware::icm::ICM_PAGE;
use hca_firmware::opcode as op;
use hca_firmware::{caps, fw};
use hca_firmware::{Command, Status};

const OUTSIDE: u64 = MEM_BASE + MEM_SIZE as u64 + 0x10_0000;

fn running() -> Host {
    let mut h = Host::default();
    let fa = h.alloc(16 * ICM_PAGE, 16 * ICM_PAGE);
    assert_eq!(h.map_cmd(op::MAP_FA, &[(0, fa, 4)]), Status::Ok);
    assert_eq!(h.cmd(op::RUN_FW, 0, 0, 0), Status::Ok);
    h
}

#[test]
fn bring_up_reaches_init_hca_and_query_adapter() {
    let mut h = Host::default();
    h.bring_up();
    let (s, out) = h.cmd_out(op::QUERY_ADAPTER, 0, 0);
    assert_eq!(s, Status::Ok);
    // mlx4 byte-swaps each word of the board id back.
    let id: Vec<u8> = out[0xf0..0x100]
        .chunks(4)
        .flat_map(|w| [w[3], w[2], w[1], w[0]])
        .take_while(|b| *b != 0)
        .collect();
    assert_eq!(String::from_utf8(id).unwrap(), adapter::BOARD_ID);
    let (s, out) = h.cmd_out(op::QUERY_HCA, 0, 0);
    assert_eq!(s, Status::Ok);
    assert_eq!(
        InitHca::decode(&out).dmpt_base,
        Host::init_hca_params().dmpt_base
    );
    assert!(h.fw.layout().is_some());
    assert_eq!(h.cmd(op::CLOSE_HCA, 0, 0, 0), Status::Ok);
    assert!(h.fw.layout().is_none());
}

#[test]
fn query_fw_and_dev_cap_say_what_the_device_is() {
    let mut h = Host::default();
    let (s, out) = h.cmd_out(op::QUERY_FW, 0, 0);
    assert_eq!(s, Status::Ok);
    let q = fw::QueryFwOut::decode(&out);
    assert_eq!(q.cmd_if_rev, 3);
    assert_eq!(
        (q.fw_major, q.fw_minor, q.fw_subminor),
        (fw::FW_MAJOR, fw::FW_MINOR, fw::FW_SUBMINOR)
    );
    assert_eq!(q.catas_offset, bar0::CATAS_BASE);
    let mut h = running();
    let (s, out) = h.cmd_out(op::QUERY_DEV_CAP, 0, 0);
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
    let (s, out) = h.cmd_out(op::QUERY_PORT, 0, 1);
    assert_eq!(s, Status::Ok);
    assert_eq!(hca_firmware::port::QueryPortOut::decode(&out).ib_mtu, 5);
}

#[test]
fn mailbox_outside_host_memory_is_a_bus_error() {
    let mut h = Host::default();
    let c = h.post(Command {
        opcode: op::QUERY_FW,
        out_param: OUTSIDE,
        ..Default::default()
    });
    assert_eq!(c.status, Status::InternalErr);
    h.refused(Status::InternalErr, |h| h.cmd(op::MAP_FA, 0, OUTSIDE, 1));
    let mut h = running();
    h.refused(Status::InternalErr, |h| {
        h.cmd(op::MOD_STAT_CFG, 0, OUTSIDE, 0)
    });
    assert_eq!(
        h.post(Command {
            opcode: op::QUERY_DEV_CAP,
            out_param: OUTSIDE,
            ..Default::default()
        })
        .status,
        Status::InternalErr
    );
    let mut h = Host::default();
    h.bring_up();
    assert_eq!(h.cmd(op::CLOSE_HCA, 0, 0, 0), Status::Ok);
    h.refused(Status::InternalErr, |h| h.cmd(op::INIT_HCA, 0, OUTSIDE, 0));
    // A chunk the mailbox names outside host memory: refused as a parameter.
    h.refused(Status::BadParam, |h| {
        h.map_cmd(op::MAP_ICM, &[(0x7000_0000, OUTSIDE & !0xfff, 0)])
    });
}

#[test]
fn unaligned_and_overlapping_icm_is_refused_whole() {
    let mut h = Host::default();
    h.bring_up();
    let a = h.alloc(8 * ICM_PAGE, 8 * ICM_PAGE);
    // Chunk of 2 pages at an address aligned to one.
    h.refused(Status::BadParam, |h| {
        h.map_cmd(op::MAP_ICM, &[(0x50_0000, a + ICM_PAGE, 1)])
    });
    // ICM address not aligned to the chunk.
    h.refused(Status::BadParam, |h| {
        h.map_cmd(op::MAP_ICM, &[(0x50_1000, a, 1)])
    });
    // The EQC page is mapped already.
    let eqc = Host::init_hca_params().eqc_base;
    h.refused(Status::BadParam, |h| h.map_cmd(op::MAP_ICM, &[(eqc, a, 0)]));
    // Two entries of one batch on the same page: neither is mapped.
    h.refused(Status::BadParam, |h| {
        h.map_cmd(
            op::MAP_ICM,
            &[(0x60_0000, a, 0), (0x60_0000, a + ICM_PAGE, 0)],
        )
    });
    // No entries, or more than a mailbox holds.
    h.refused(Status::BadParam, |h| h.cmd(op::MAP_ICM, 0, h.inbox, 0));
    h.refused(Status::BadParam, |h| h.cmd(op::MAP_ICM, 0, h.inbox, 257));
    // Unmap of an unaligned address.
    h.refused(Status::BadParam, |h| h.cmd(op::UNMAP_ICM, 0, eqc + 8, 1));
    // A good map still works, and translates.
    assert_eq!(h.map_cmd(op::MAP_ICM, &[(0x60_0000, a, 1)]), Status::Ok);
    assert_eq!(h.fw.icm_translate(0x60_1008), Some(a + ICM_PAGE + 8));
}

#[test]
fn init_hca_before_map_icm_and_bad_layouts() {
    let mut h = running();
    let p = Host::init_hca_params();
    h.refused(Status::BadSysState, |h| {
        h.cmd_in(op::INIT_HCA, 0, &p.encode(), 0)
    });
    let aux = h.post(Command {
        opcode: op::SET_ICM_SIZE,
        in_param: hca_firmware::host::ICM_SIZE,
        ..Default::default()
    });
    assert_eq!(aux.status, Status::Ok);
    // MAP_ICM before the auxiliary ICM is there.
    h.refused(Status::IcmError, |h| h.map_icm(p.eqc_base, 1));
    let n = aux.out_param.next_power_of_two();
    let a = h.alloc(n * ICM_PAGE, n * ICM_PAGE);
    assert_eq!(
        h.map_cmd(op::MAP_ICM_AUX, &[(0, a, n.trailing_zeros())]),
        Status::Ok
    );
    // INIT_HCA with no ICM mapped.
    h.refused(Status::IcmError, |h| {
        h.cmd_in(op::INIT_HCA, 0, &p.encode(), 0)
    });
    assert_eq!(h.map_icm(p.eqc_base, 1), Status::Ok);
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
        bad(&|q| q.cmpt_base = hca_firmware::host::ICM_SIZE),
        bad(&|q| q.mtt_base = q.dmpt_base + 0x1000),
        bad(&|q| q.eqe_cqe_sizes = 1 << 29),
        bad(&|q| q.log_uar_sz = 12),
        bad(&|q| q.mw_enabled = 0x80),
    ] {
        h.refused(Status::BadParam, |h| h.cmd_in(op::INIT_HCA, 0, &mbox, 0));
    }
    assert_eq!(h.cmd_in(op::INIT_HCA, 0, &p.encode(), 0), Status::Ok);
    h.refused(Status::BadSysState, |h| {
        h.cmd_in(op::INIT_HCA, 0, &p.encode(), 0)
    });
    h.refused(Status::BadSysState, |h| h.cmd(op::UNMAP_FA, 0, 0, 0));
    h.refused(Status::BadSysState, |h| {
        h.cmd(op::SET_ICM_SIZE, 0, 1 << 30, 0)
    });
}

#[test]
fn run_fw_twice_or_without_its_area() {
    let mut h = Host::default();
    h.refused(Status::BadSysState, |h| h.cmd(op::RUN_FW, 0, 0, 0));
    let fa = h.alloc(8 * ICM_PAGE, 8 * ICM_PAGE);
    assert_eq!(h.map_cmd(op::MAP_FA, &[(0, fa, 3)]), Status::Ok);
    h.refused(Status::BadSysState, |h| h.cmd(op::RUN_FW, 0, 0, 0));
    let fa = h.alloc(8 * ICM_PAGE, 8 * ICM_PAGE);
    assert_eq!(h.map_cmd(op::MAP_FA, &[(0, fa, 3)]), Status::Ok);
    assert_eq!(h.cmd(op::RUN_FW, 0, 0, 0), Status::Ok);
    h.refused(Status::BadSysState, |h| h.cmd(op::RUN_FW, 0, 0, 0));
    h.refused(Status::BadSysState, |h| {
        h.map_cmd(op::MAP_FA, &[(0, fa, 0)])
    });
    // UNMAP_FA stops the firmware; it may run again once given its area.
    assert_eq!(h.cmd(op::UNMAP_FA, 0, 0, 0), Status::Ok);
    assert!(!h.fw.running());
}

#[test]
fn commands_need_the_firmware_running_and_the_hca_initialised() {
    let mut h = Host::default();
    for opcode in [
        op::QUERY_DEV_CAP,
        op::QUERY_PORT,
        op::SET_ICM_SIZE,
        op::INIT_HCA,
        op::NOP,
    ] {
        h.refused(Status::BadSysState, |h| h.cmd(opcode, 0, h.inbox, 1));
    }
    let mut h = running();
    for opcode in [
        op::QUERY_ADAPTER,
        op::QUERY_HCA,
        op::CLOSE_HCA,
        op::SW2HW_EQ,
        op::MAP_EQ,
    ] {
        h.refused(Status::BadSysState, |h| h.cmd(opcode, 0, h.inbox, 0));
    }
    h.refused(Status::BadParam, |h| h.cmd(op::QUERY_PORT, 0, h.outbox, 2));
    h.refused(Status::BadParam, |h| h.cmd(op::QUERY_PORT, 0, h.outbox, 0));
    h.refused(Status::BadParam, |h| {
        h.cmd_in(
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
    let mut h = Host::default();
    h.bring_up();
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
        h.refused(Status::BadOp, |h| h.cmd(opcode, 3, h.inbox, 1));
    }
    h.refused(Status::BadOp, |h| h.cmd(op::CLOSE_HCA, 2, 0, 0));
    h.refused(Status::BadOp, |h| h.cmd(op::MOD_STAT_CFG, 1, h.inbox, 0));
    // Implemented elsewhere in mlx4, not here (yet), and never defined.
    for opcode in [0x032, 0x039, 0x061, 0x0aa, 0xfff - 0x10] {
        h.refused(Status::BadOp, |h| h.cmd(opcode, 0, h.inbox, 0));
    }
}

#[test]
fn reset_returns_to_power_on() {
    let mut h = Host::default();
    h.bring_up();
    // mlx4_reset: take the semaphore, hit reset.
    let mut sem = [0u8; 4];
    h.fw.mmio_read(bar0::SEMAPHORE, &mut sem);
    assert_eq!(sem, [0; 4], "the semaphore is free");
    h.fw.mmio_read(bar0::SEMAPHORE, &mut sem);
    assert_ne!(sem, [0; 4], "and now taken");
    h.fw.mmio_write(bar0::RESET, &1u32.to_be_bytes(), &mut h.mem);
    assert!(!h.fw.running() && h.fw.layout().is_none() && h.fw.icm_pages() == 0);
    assert_eq!(h.fw.hcr_status(), 0, "T = 0 after reset");
    // The owner register: the first read owns the device.
    let mut own = [0u8; 4];
    h.fw.mmio_read(bar0::OWNER, &mut own);
    assert_eq!(own, [0; 4]);
    h.fw.mmio_read(bar0::OWNER, &mut own);
    assert_ne!(own, [0; 4]);
    // The driver's toggle restarts at 1 after a reset.
    let mut h2 = Host::default();
    assert_eq!(h2.cmd_out(op::QUERY_FW, 0, 0).0, Status::Ok);
}

#[test]
fn narrow_hcr_writes_are_ignored() {
    let mut h = Host::default();
    h.fw.mmio_write(bar0::HCR_BASE + 24, &[0x80, 0, 0x04], &mut h.mem);
    h.fw.mmio_write(bar0::HCR_BASE + 26, &[0x80, 0x04], &mut h.mem);
    assert!(h.fw.take_trace().is_empty());
    assert_eq!(h.fw.hcr_status(), 0);
    assert_eq!(
        h.cmd_out(op::QUERY_FW, 0, 0).0,
        Status::Ok,
        "and the HCR still works"
    );
}

#[test]
fn special_qps_and_ports() {
    use hca_firmware::port::SetPortIbIn;
    let mut h = Host::default();
    h.refused(Status::BadSysState, |h| {
        h.cmd(op::CONF_SPECIAL_QP, 0, 0, 0x40)
    });
    h.bring_up();
    let qps = 1u32 << Host::init_hca_params().log_num_qps;
    assert_eq!(h.cmd(op::CONF_SPECIAL_QP, 0, 0, 0x40), Status::Ok);
    assert_eq!(h.fw.special_qp_base(), 0x40);
    h.refused(Status::BadParam, |h| h.cmd(op::CONF_SPECIAL_QP, 0, 0, 0x41));
    h.refused(Status::BadParam, |h| {
        h.cmd(op::CONF_SPECIAL_QP, 0, 0, qps - 4)
    });
    assert_eq!(
        h.cmd(op::CONF_SPECIAL_QP, 0, 0, 0),
        Status::Ok,
        "0 turns them off"
    );

    // SET_PORT as mlx4_SET_PORT sends it: MTU 4096, VLs 8, 4, 2, 1 until
    // the port takes them.
    let set = |vl: u8| SetPortIbIn {
        change_mtu: true,
        change_vl: true,
        mtu_cap: 5,
        vl_cap: vl,
        capability_mask: 0x0251_0868,
        ..Default::default()
    };
    for vl in [8, 4, 2] {
        h.refused(Status::ExceedLim, |h| {
            h.cmd_in(op::SET_PORT, 0, &set(vl).encode(), 1)
        });
    }
    assert_eq!(h.cmd_in(op::SET_PORT, 0, &set(1).encode(), 1), Status::Ok);
    let pc = h.fw.port_config(1).unwrap();
    assert_eq!(
        (pc.configured, pc.mtu_cap, pc.vl_cap, pc.capability_mask),
        (true, 5, 1, 0x0251_0868)
    );
    let mut bad = set(1);
    bad.mtu_cap = 6;
    h.refused(Status::BadParam, |h| {
        h.cmd_in(op::SET_PORT, 0, &bad.encode(), 1)
    });
    let mut bad = set(1);
    bad.change_pkey_tbl = true;
    bad.pkey_tbl_sz = 1 << 10;
    h.refused(Status::BadParam, |h| {
        h.cmd_in(op::SET_PORT, 0, &bad.encode(), 1)
    });
    h.refused(Status::BadParam, |h| {
        h.cmd_in(op::SET_PORT, 0, &set(1).encode(), 2)
    });
    h.refused(Status::BadOp, |h| {
        h.cmd_in(op::SET_PORT, 1, &set(1).encode(), 1)
    });
    h.refused(Status::InternalErr, |h| h.cmd(op::SET_PORT, 0, OUTSIDE, 1));

    assert_eq!(h.cmd(op::INIT_PORT, 0, 0, 1), Status::Ok);
    assert!(h.fw.port_config(1).unwrap().up);
    h.refused(Status::BadParam, |h| h.cmd(op::INIT_PORT, 0, 0, 2));
    assert_eq!(h.cmd(op::CLOSE_PORT, 0, 0, 1), Status::Ok);
    assert_eq!(
        h.cmd(op::CLOSE_PORT, 0, 0, 1),
        Status::Ok,
        "closing a closed port is fine"
    );
    assert!(!h.fw.port_config(1).unwrap().up);
}

#[test]
fn mad_ifc_answers_as_the_subnet_management_agent() {
    use hca_firmware::mad::*;
    let mut h = Host::default();
    h.bring_up();
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
    // As mlx4_get_port_ib_caps asks: op modifier 3 (ignore keys), port 1.
    let (st, out) = h.mad_ifc(&get(ATTR_PORT_INFO, 1), 1);
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
    assert_eq!(h.cmd_in(op::SET_PORT, 0, &set.encode(), 1), Status::Ok);
    let (st, out) = h.mad_ifc(&get(ATTR_PORT_INFO, 1), 1);
    assert_eq!(st, Status::Ok);
    assert_eq!(
        u32::from_be_bytes(out[84..88].try_into().unwrap()),
        0x0201_0800
    );
    // Bad input: a port the HCA lacks, an op modifier past the three
    // flags, a mailbox outside host memory.
    h.refused(Status::BadParam, |h| h.cmd(op::MAD_IFC, 3, h.inbox, 2));
    h.refused(Status::BadOp, |h| h.cmd(op::MAD_IFC, 8, h.inbox, 1));
    h.refused(Status::InternalErr, |h| h.cmd(op::MAD_IFC, 3, OUTSIDE, 1));
}

#[test]
fn diag_rprt_gives_the_transport_error_counters() {
    let mut h = Host::default();
    h.bring_up();
    for port in [0, 1] {
        let (s, out) = h.cmd_out(op::DIAG_RPRT, 2, port);
        assert_eq!(s, Status::Ok);
        let e = hca_firmware::hca::TransportErrors::decode(&out);
        assert_eq!(e, Default::default(), "no traffic, no errors");
    }
    h.refused(Status::BadParam, |h| h.cmd_out(op::DIAG_RPRT, 2, 2).0);
    h.refused(Status::BadOp, |h| h.cmd_out(op::DIAG_RPRT, 0, 0).0);
}

#[test]
fn every_mailbox_outside_host_memory_is_a_bus_error_and_changes_nothing() {
    let mut h = Host::default();
    h.bring_up();
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
        h.refused(Status::InternalErr, |h| {
            h.post(Command {
                opcode,
                op_modifier,
                in_modifier,
                out_param: OUTSIDE,
                ..Default::default()
            })
            .status
        });
    }
    // Input mailboxes (MAP_FA's is tested before RUN_FW, the only time it
    // is taken).
    for (opcode, op_modifier, in_modifier) in [
        (op::MAP_ICM_AUX, 0, 1),
        (op::MAP_ICM, 0, 1),
        (op::MOD_STAT_CFG, 0, 0),
        (op::SW2HW_EQ, 0, 6),
        (op::SET_PORT, 0, 1),
        (op::MAD_IFC, 3, 1),
    ] {
        h.refused(Status::InternalErr, |h| {
            h.cmd(opcode, op_modifier, OUTSIDE, in_modifier)
        });
    }
    // MAD_IFC with a good inbox and an outbox outside.
    h.refused(Status::InternalErr, |h| {
        h.post(Command {
            opcode: op::MAD_IFC,
            op_modifier: 3,
            in_param: h.inbox,
            in_modifier: 1,
            out_param: OUTSIDE,
            ..Default::default()
        })
        .status
    });
    assert_eq!(h.cmd(op::CLOSE_HCA, 0, 0, 0), Status::Ok);
    h.refused(Status::InternalErr, |h| h.cmd(op::INIT_HCA, 0, OUTSIDE, 0));
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
    let mut h = Host::default();
    h.bring_up();
    let m = dma_mr(1, 0x5a);
    assert_eq!(h.cmd_in(op::SW2HW_MPT, 0, &m.encode(), 1), Status::Ok);
    let e = h.fw.mpt(1, &mut h.mem).expect("the TPT holds it");
    assert_eq!(
        (e.kind, e.tag, e.pd, e.len),
        (hca_rtl::tpt::MptKind::Physical as u8, 0x5a, 7, u64::MAX)
    );
    let (s, out) = h.cmd_out(op::QUERY_MPT, 0, 1);
    assert_eq!(s, Status::Ok);
    let q = MlxMpt::decode(&out);
    assert_eq!(
        (q.key, q.physical, q.length, q.pd),
        (m.key, true, u64::MAX, 7)
    );

    // Bad input: nothing changes.
    let limit = 1u32 << Host::init_hca_params().log_mpt_sz;
    h.refused(Status::BadIndex, |h| {
        h.cmd_in(op::SW2HW_MPT, 0, &dma_mr(limit, 0).encode(), limit)
    });
    h.refused(Status::BadResState, |h| {
        h.cmd_in(op::SW2HW_MPT, 0, &m.encode(), 1)
    });
    h.refused(Status::BadParam, |h| {
        h.cmd_in(op::SW2HW_MPT, 0, &dma_mr(3, 0).encode(), 2)
    });
    let window = MlxMpt {
        region: false,
        ..dma_mr(2, 0)
    };
    h.refused(Status::BadParam, |h| {
        h.cmd_in(op::SW2HW_MPT, 0, &window.encode(), 2)
    });
    let page = MlxMpt {
        entity_size: 40,
        ..dma_mr(2, 0)
    };
    h.refused(Status::BadParam, |h| {
        h.cmd_in(op::SW2HW_MPT, 0, &page.encode(), 2)
    });
    h.refused(Status::BadResState, |h| h.cmd_out(op::QUERY_MPT, 0, 2).0);
    h.refused(Status::InternalErr, |h| {
        h.post(Command {
            opcode: op::HW2SW_MPT,
            in_modifier: 1,
            out_param: OUTSIDE,
            ..Default::default()
        })
        .status
    });
    h.refused(Status::BadOp, |h| h.cmd(op::HW2SW_MPT, 2, 0, 1));

    // HW2SW_MPT with a mailbox gives the entry back; without, just takes it.
    let (s, out) = h.cmd_out(op::HW2SW_MPT, 0, 1);
    assert_eq!(s, Status::Ok);
    assert_eq!(MlxMpt::decode(&out).key, m.key);
    assert!(h.fw.mpt(1, &mut h.mem).is_none());
    h.refused(Status::BadResState, |h| h.cmd(op::HW2SW_MPT, 1, 0, 1));
    assert_eq!(h.cmd_in(op::SW2HW_MPT, 0, &m.encode(), 1), Status::Ok);
    assert_eq!(h.cmd(op::HW2SW_MPT, 1, 0, 1), Status::Ok);
    // CLOSE_HCA hands every region back.
    assert_eq!(h.cmd_in(op::SW2HW_MPT, 0, &m.encode(), 1), Status::Ok);
    assert_eq!(h.cmd(op::CLOSE_HCA, 0, 0, 0), Status::Ok);
    assert!(h.fw.mpt(1, &mut h.mem).is_none());
}
