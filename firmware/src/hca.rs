//! The HCA as a whole (mlx4's fw.c, its second half): INIT_HCA's ICM
//! layout as the firmware reads it from the mailbox
//! (`hca_abi::cmd::init_hca`; fw.c: `INIT_HCA_*`) and the checks it makes
//! before taking it, QUERY_HCA (the same layout back), CLOSE_HCA,
//! QUERY_ADAPTER (`hca_abi::cmd::adapter`) and DIAG_RPRT's counters
//! (`hca_abi::cmd::diag`).

pub use hca_abi::cmd::adapter::QueryAdapterOut;
pub use hca_abi::cmd::diag::{TransportErrors, TRANSPORT_ERRORS};
pub use hca_abi::cmd::init_hca::{InitHca, INIT_HCA_VERSION, NUM_CMPTS};

use crate::caps::QueryDevCapOut;
use crate::cmd::{mailbox, Command, CommandSpec, OpMods, ZERO};
use crate::hostmem::HostMemory;
use crate::icm::ICM_PAGE;
use crate::opcode as op;
use crate::port::NUM_PORTS;
use crate::status::{refuse, CmdResult, Status};
use crate::Firmware;

/// Where a table's base sits in its field: the low byte may carry the log.
pub const BASE_MASK: u64 = !0xff;

/// The board id mlx4 prints: 16 characters at most.
pub const BOARD_ID: &str = "OPENHCA-CX3-SIM";

pub fn query_adapter() -> QueryAdapterOut {
    let mut id = [0u8; 16];
    id[..BOARD_ID.len()].copy_from_slice(BOARD_ID.as_bytes());
    let w = |i: usize| u32::from_le_bytes(id[4 * i..4 * i + 4].try_into().unwrap());
    QueryAdapterOut {
        inta_pin: 0,
        board_id0: w(0),
        board_id1: w(1),
        board_id2: w(2),
        board_id3: w(3),
    }
}

/// One ICM table of the layout: name, base, bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Table {
    pub name: &'static str,
    pub base: u64,
    pub bytes: u64,
}

/// The ICM layout INIT_HCA established.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Layout {
    pub tables: Vec<Table>,
    pub mtt_base: u64,
    pub log_num_eqs: u8,
    pub eqc_base: u64,
    pub dmpt_base: u64,
    pub cqc_base: u64,
    pub qpc_base: u64,
}

impl Layout {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

fn log_ok(name: &str, log: u8, max: u8) -> CmdResult<()> {
    if log > max {
        return refuse(
            Status::BadParam,
            format!("{name}: 2^{log} entries, the device has 2^{max}"),
        );
    }
    Ok(())
}

/// Check an INIT_HCA mailbox against the device's capabilities and the ICM
/// size SET_ICM_SIZE gave, and return its layout. Nothing is kept on error.
pub fn validate(p: &InitHca, caps: &QueryDevCapOut, icm_size: u64) -> CmdResult<Layout> {
    if p.version != INIT_HCA_VERSION {
        return refuse(
            Status::BadParam,
            format!(
                "mailbox version {} (this firmware takes {INIT_HCA_VERSION})",
                p.version
            ),
        );
    }
    log_ok("QPs", p.log_num_qps, caps.log_max_qps)?;
    log_ok("SRQs", p.log_num_srqs, caps.log_max_srqs)?;
    log_ok("CQs", p.log_num_cqs, caps.log_max_cqs)?;
    log_ok("EQs", p.log_num_eqs, caps.log_max_eqs)?;
    log_ok("MPTs", p.log_mpt_sz, caps.log_max_mpts)?;
    log_ok("multicast groups", p.log_mc_table_sz, caps.log_max_mcgs)?;
    log_ok(
        "responder resources per QP",
        p.log_rd_per_qp,
        caps.log_max_res_qp,
    )?;
    if p.eqe_cqe_sizes & (3 << 29) != 0 || p.eqe_cqe_stride != 0 {
        return refuse(
            Status::BadParam,
            "64-byte or strided EQEs/CQEs: not supported",
        );
    }
    if p.mw_enabled & 0x80 != 0 {
        return refuse(Status::BadParam, "memory windows: not supported");
    }
    if p.num_sys_eqs != 0 {
        return refuse(Status::BadParam, "system EQs: not supported");
    }
    let uar_bytes = (ICM_PAGE << p.uar_page_sz.min(20)) << p.log_uar_sz.min(40);
    if p.uar_page_sz > 20 || p.log_uar_sz > 40 || uar_bytes > crate::bar0::BAR2_SIZE {
        return refuse(
            Status::BadParam,
            format!(
                "UAR area 2^{} pages of 2^{} bytes is larger than BAR2",
                p.log_uar_sz,
                p.uar_page_sz as u32 + 12
            ),
        );
    }
    let qps = 1u64 << p.log_num_qps;
    let tables = [
        ("QPC", p.qpc_base, qps * caps.qpc_entry_sz as u64),
        ("AUXC", p.auxc_base, qps * caps.aux_entry_sz as u64),
        ("ALTC", p.altc_base, qps * caps.altc_entry_sz as u64),
        (
            "RDMARC",
            p.rdmarc_base,
            (qps << p.log_rd_per_qp) * caps.rdmarc_entry_sz as u64,
        ),
        (
            "SRQC",
            p.srqc_base,
            (1u64 << p.log_num_srqs) * caps.srq_entry_sz as u64,
        ),
        (
            "CQC",
            p.cqc_base,
            (1u64 << p.log_num_cqs) * caps.cqc_entry_sz as u64,
        ),
        (
            "EQC",
            p.eqc_base,
            (1u64 << p.log_num_eqs) * caps.eqc_entry_sz as u64,
        ),
        (
            "dMPT",
            p.dmpt_base,
            (1u64 << p.log_mpt_sz) * caps.dmpt_entry_sz as u64,
        ),
        ("cMPT", p.cmpt_base, NUM_CMPTS * caps.cmpt_entry_sz as u64),
        (
            "MCG",
            p.mc_base,
            (1u64 << p.log_mc_table_sz) << p.log_mc_entry_sz,
        ),
    ];
    let mut out: Vec<Table> = Vec::new();
    for (name, raw, bytes) in tables {
        let base = raw & BASE_MASK;
        let bytes = bytes.max(ICM_PAGE);
        if base & (ICM_PAGE - 1) != 0 {
            return refuse(
                Status::BadParam,
                format!("{name} base {base:#x} is not 4 KiB aligned"),
            );
        }
        if base.checked_add(bytes).is_none_or(|e| e > icm_size) {
            return refuse(
                Status::BadParam,
                format!("{name} ({base:#x}+{bytes:#x}) ends past the ICM size {icm_size:#x}"),
            );
        }
        if let Some(o) = out
            .iter()
            .find(|o| base < o.base + o.bytes && o.base < base + bytes)
        {
            return refuse(
                Status::BadParam,
                format!(
                    "{name} ({base:#x}+{bytes:#x}) overlaps {} ({:#x}+{:#x})",
                    o.name, o.base, o.bytes
                ),
            );
        }
        out.push(Table { name, base, bytes });
    }
    let mtt = p.mtt_base & BASE_MASK;
    if mtt & (ICM_PAGE - 1) != 0 || mtt >= icm_size {
        return refuse(Status::BadParam, format!("MTT base {mtt:#x}"));
    }
    if let Some(o) = out.iter().find(|o| mtt >= o.base && mtt < o.base + o.bytes) {
        return refuse(
            Status::BadParam,
            format!("MTT base {mtt:#x} lies inside {}", o.name),
        );
    }
    Ok(Layout {
        mtt_base: mtt,
        log_num_eqs: p.log_num_eqs,
        eqc_base: p.eqc_base & BASE_MASK,
        dmpt_base: p.dmpt_base & BASE_MASK,
        cqc_base: p.cqc_base & BASE_MASK,
        qpc_base: p.qpc_base & BASE_MASK,
        tables: out.to_vec(),
    })
}

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        opcode: op::INIT_HCA,
        op_mods: ZERO,
        boot: false,
        inbox: mailbox!(InitHca),
        outbox: None,
        what: "parse and check the ICM layout (below); keep it",
        run: |f, c, mem| f.init_hca(c, mem),
    },
    CommandSpec {
        opcode: op::QUERY_HCA,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: mailbox!(InitHca),
        what: "the INIT_HCA mailbox back",
        run: |f, c, mem| f.query_hca(c, mem),
    },
    CommandSpec {
        opcode: op::QUERY_ADAPTER,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: mailbox!(QueryAdapterOut),
        what: "INTx pin 0 and the board id `OPENHCA-CX3-SIM`",
        run: |f, c, mem| {
            f.require_hca()
                .and_then(|_| f.out(mem, c, &query_adapter().encode()))
        },
    },
    CommandSpec {
        opcode: op::CLOSE_HCA,
        // 1: the driver is panicking.
        op_mods: OpMods::OneOf(&[0, 1]),
        boot: false,
        inbox: None,
        outbox: None,
        what: "drop the layout and every EQ (op modifier 1: the driver is panicking)",
        run: |f, _, _| f.close_hca(),
    },
    CommandSpec {
        opcode: op::DIAG_RPRT,
        op_mods: OpMods::OneOf(&[TRANSPORT_ERRORS]),
        boot: false,
        inbox: None,
        outbox: mailbox!(TransportErrors),
        what: "op modifier 2: the transport error counters of the device (in_modifier 0) or a port; all zero until the transport engine counts them",
        run: |f, c, mem| f.diag_rprt(c, mem),
    },
];

impl Firmware {
    fn init_hca(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        if self.state.hca.is_some() {
            return refuse(Status::BadSysState, "the HCA is already initialised");
        }
        let Some(icm_size) = self.state.icm_size else {
            return refuse(Status::BadSysState, "SET_ICM_SIZE first");
        };
        if self.state.icm.is_empty() {
            return refuse(Status::IcmError, "no ICM is mapped (MAP_ICM)");
        }
        let p = InitHca::decode(&self.inbox(mem, c, InitHca::SIZE)?);
        let layout = validate(&p, &self.caps, icm_size)?;
        self.state.hca = Some((p, layout));
        Ok(None)
    }

    fn query_hca(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let (p, _) = self.state.hca.as_ref().unwrap();
        let bytes = p.encode();
        self.out(mem, c, &bytes)
    }

    fn close_hca(&mut self) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        self.cq_block.clear()?;
        self.tpt_block.clear()?;
        self.qpc_block.clear()?;
        self.state.hca = None;
        self.state.special_qp_base = 0;
        self.state.hw_srqs.clear();
        self.state.ports = Default::default();
        for n in 1..=crate::port::NUM_PORTS {
            self.retrain(n);
        }
        self.qp_changes.push(crate::datapath::ALL_QPS);
        Ok(None)
    }

    /// DIAG_RPRT, op modifier 2: the transport error counters of the
    /// device (in_modifier 0) or a port.
    fn diag_rprt(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let n = c.in_modifier;
        if n > NUM_PORTS as u32 {
            return refuse(
                Status::BadParam,
                format!("port {n} (the HCA has {})", NUM_PORTS),
            );
        }
        let bytes = self.state.transport_errors[n as usize].encode();
        self.out(mem, c, &bytes)
    }
}
