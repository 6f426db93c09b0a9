//! The host's side of the command interface, as the mlx4 driver plays it:
//! host memory, the HCR protocol (GO, toggle, event bit), mailboxes, and
//! the bring-up sequence up to INIT_HCA and the first EQs. Tests and tools
//! drive the firmware through it exactly as a driver would, over BAR0.

use crate::bar0::{self, hcr};
use crate::hostmem::{FlatMemory, HostMemory};
use crate::icm::ICM_PAGE;
use crate::opcode as op;
use crate::status::Status;
use crate::{eq::EqContext, hca::InitHca};
use crate::{Command, Firmware};

/// Where the test host's memory starts, and how much there is.
pub const MEM_BASE: u64 = 0x10_0000;
pub const MEM_SIZE: usize = 32 << 20;

/// The ICM layout [`Host::bring_up`] gives INIT_HCA: small tables, packed
/// and page aligned, as mlx4's profile packs its own.
pub const ICM_SIZE: u64 = 1 << 32;

pub struct Host {
    pub fw: Firmware,
    pub mem: FlatMemory,
    toggle: bool,
    brk: u64,
    /// Where commands' mailboxes go.
    pub inbox: u64,
    pub outbox: u64,
    /// INIT_HCA's parameters, after [`Host::bring_up`].
    pub init: Option<InitHca>,
}

fn status_of(word: u32) -> Status {
    Status::from_code((word >> hcr::STATUS_SHIFT) as u8).unwrap_or(Status::InternalErr)
}

/// What the HCR showed after a post.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    pub status: Status,
    /// The raw status code (a code outside [`Status::ALL`] is a bug).
    pub code: u8,
    pub out_param: u64,
}

impl Default for Host {
    fn default() -> Self {
        Self::new(Firmware::new())
    }
}

impl Host {
    pub fn new(fw: Firmware) -> Host {
        let mut h = Host {
            fw,
            mem: FlatMemory::new(MEM_BASE, MEM_SIZE),
            // mlx4 starts with toggle 1 and the HCR showing T = 0.
            toggle: true,
            brk: MEM_BASE,
            inbox: 0,
            outbox: 0,
            init: None,
        };
        h.inbox = h.alloc(4096, 4096);
        h.outbox = h.alloc(4096, 4096);
        h
    }

    /// Bump-allocate host memory (zeroed).
    pub fn alloc(&mut self, bytes: u64, align: u64) -> u64 {
        let at = self.brk.next_multiple_of(align);
        self.brk = at + bytes;
        assert!(
            self.brk <= MEM_BASE + MEM_SIZE as u64,
            "test host out of memory"
        );
        at
    }

    fn write_hcr(&mut self, word: u64, v: u32) {
        self.fw
            .mmio_write(bar0::HCR_BASE + 4 * word, &v.to_be_bytes(), &mut self.mem);
    }

    fn read_hcr(&mut self, word: u64) -> u32 {
        let mut b = [0u8; 4];
        self.fw.mmio_read(bar0::HCR_BASE + 4 * word, &mut b);
        u32::from_be_bytes(b)
    }

    /// Post one command the way mlx4_cmd_post does, and read back the
    /// completion. Panics if the HCR protocol breaks (GO still set, or the
    /// toggle not echoed): that is a firmware bug every test should see.
    pub fn post(&mut self, c: Command) -> Completion {
        let st = self.read_hcr(6);
        assert!(
            st & hcr::GO == 0 && (st & hcr::TOGGLE != 0) != self.toggle,
            "HCR busy before a post: {st:#010x}"
        );
        self.write_hcr(0, (c.in_param >> 32) as u32);
        self.write_hcr(1, c.in_param as u32);
        self.write_hcr(2, c.in_modifier);
        self.write_hcr(3, (c.out_param >> 32) as u32);
        self.write_hcr(4, c.out_param as u32);
        self.write_hcr(5, (c.token as u32) << 16);
        let word = hcr::GO
            | if c.event { hcr::EVENT } else { 0 }
            | if self.toggle { hcr::TOGGLE } else { 0 }
            | ((c.op_modifier as u32 & 0xf) << hcr::OPMOD_SHIFT)
            | (c.opcode as u32 & 0xfff);
        self.write_hcr(6, word);
        let posted_t = self.toggle;
        self.toggle = !self.toggle;
        let st = self.read_hcr(6);
        assert!(st & hcr::GO == 0, "GO still set after a post: {st:#010x}");
        assert_eq!(st & hcr::TOGGLE != 0, posted_t, "T not echoed: {st:#010x}");
        let out = (self.read_hcr(3) as u64) << 32 | self.read_hcr(4) as u64;
        Completion {
            status: status_of(st),
            code: (st >> hcr::STATUS_SHIFT) as u8,
            out_param: out,
        }
    }

    /// Run `f`, which must be refused with `want`, and check it left the
    /// firmware's state as it was.
    pub fn refused(&mut self, want: Status, f: impl FnOnce(&mut Host) -> Status) {
        let before = self.fw.state_digest();
        assert_eq!(f(self), want);
        assert_eq!(
            self.fw.state_digest(),
            before,
            "a refused command changed state"
        );
    }

    /// Post a command with no mailboxes.
    pub fn cmd(&mut self, opcode: u16, op_modifier: u8, in_param: u64, in_modifier: u32) -> Status {
        self.post(Command {
            opcode,
            op_modifier,
            in_param,
            in_modifier,
            token: 0xffff,
            ..Default::default()
        })
        .status
    }

    /// Post a command whose input is `bytes` in the inbox.
    pub fn cmd_in(
        &mut self,
        opcode: u16,
        op_modifier: u8,
        bytes: &[u8],
        in_modifier: u32,
    ) -> Status {
        let mut page = vec![0u8; 4096];
        page[..bytes.len()].copy_from_slice(bytes);
        self.mem.write(self.inbox, &page).unwrap();
        self.cmd(opcode, op_modifier, self.inbox, in_modifier)
    }

    /// Post a command with an outbox; returns the status and the outbox.
    pub fn cmd_out(&mut self, opcode: u16, op_modifier: u8, in_modifier: u32) -> (Status, Vec<u8>) {
        self.mem.write(self.outbox, &[0u8; 4096]).unwrap();
        let s = self
            .post(Command {
                opcode,
                op_modifier,
                in_modifier,
                out_param: self.outbox,
                token: 0xffff,
                ..Default::default()
            })
            .status;
        let mut b = vec![0u8; 4096];
        self.mem.read(self.outbox, &mut b).unwrap();
        (s, b)
    }

    /// MAD_IFC as mlx4 posts it (op modifier 3: ignore the keys): the MAD
    /// in, the agent's answer out.
    pub fn mad_ifc(&mut self, mad: &[u8], port: u32) -> (Status, Vec<u8>) {
        let mut page = vec![0u8; 4096];
        page[..mad.len()].copy_from_slice(mad);
        self.mem.write(self.inbox, &page).unwrap();
        let s = self
            .post(Command {
                opcode: op::MAD_IFC,
                op_modifier: 3,
                in_param: self.inbox,
                in_modifier: port,
                out_param: self.outbox,
                token: 0xffff,
                ..Default::default()
            })
            .status;
        let mut out = vec![0u8; crate::mad::MAD_BYTES];
        self.mem.read(self.outbox, &mut out).unwrap();
        (s, out)
    }

    /// A map mailbox (MAP_FA, MAP_ICM_AUX, MAP_ICM): `(virt, dma, log2
    /// pages)` per entry.
    pub fn map_cmd(&mut self, opcode: u16, entries: &[(u64, u64, u32)]) -> Status {
        let mut b = Vec::new();
        for (v, pa, lg) in entries {
            b.extend_from_slice(&v.to_be_bytes());
            b.extend_from_slice(&(pa | *lg as u64).to_be_bytes());
        }
        self.cmd_in(opcode, 0, &b, entries.len() as u32)
    }

    /// Map `pages` fresh host pages at ICM address `virt`, one entry each.
    pub fn map_icm(&mut self, virt: u64, pages: u64) -> Status {
        let e: Vec<_> = (0..pages)
            .map(|i| (virt + i * ICM_PAGE, self.alloc(ICM_PAGE, ICM_PAGE), 0))
            .collect();
        self.map_cmd(op::MAP_ICM, &e)
    }

    /// The INIT_HCA parameters bring-up uses.
    pub fn init_hca_params() -> InitHca {
        InitHca {
            version: crate::hca::INIT_HCA_VERSION,
            cacheline_sz: (2 << 5) | (1 << 4),
            flags: 1,
            // 1024 QPs of 512 bytes: above the other tables.
            qpc_base: 0x4000_0000,
            log_num_qps: 10,
            srqc_base: 0x1_0000,
            log_num_srqs: 6,
            cqc_base: 0x1_1000,
            log_num_cqs: 7,
            altc_base: 0x2_0000,
            auxc_base: 0x3_0000,
            eqc_base: 0x4_0000,
            log_num_eqs: 3,
            rdmarc_base: 0x8_0000,
            log_rd_per_qp: 2,
            mc_base: 0x10_0000,
            log_mc_entry_sz: 6,
            log_mc_hash_sz: 5,
            log_mc_table_sz: 6,
            dmpt_base: 0x20_0000,
            log_mpt_sz: 10,
            mtt_base: 0x30_0000,
            cmpt_base: 0x8000_0000,
            log_uar_sz: 11,
            uar_page_sz: 0,
            ..Default::default()
        }
    }

    /// The driver's bring-up up to INIT_HCA: QUERY_FW, MAP_FA, RUN_FW,
    /// QUERY_DEV_CAP, SET_ICM_SIZE, MAP_ICM_AUX, MAP_ICM for the EQ
    /// contexts, the first MTT pages and the tables the blocks keep their
    /// contexts in (the QPC, CQC and dMPT tables whole: mlx4 maps a table's
    /// chunks as it allocates objects in them), INIT_HCA. Panics on any
    /// failure.
    pub fn bring_up(&mut self) {
        let (s, fw) = self.cmd_out(op::QUERY_FW, 0, 0);
        assert_eq!(s, Status::Ok);
        let fw = crate::fw::QueryFwOut::decode(&fw);
        let fa_pages = (fw.fw_pages as u64).next_power_of_two();
        let fa = self.alloc(fa_pages * ICM_PAGE, fa_pages * ICM_PAGE);
        assert_eq!(
            self.map_cmd(op::MAP_FA, &[(0, fa, fa_pages.trailing_zeros())]),
            Status::Ok
        );
        assert_eq!(self.cmd(op::RUN_FW, 0, 0, 0), Status::Ok);
        assert_eq!(self.cmd_out(op::QUERY_DEV_CAP, 0, 0).0, Status::Ok);
        let aux = self.post(Command {
            opcode: op::SET_ICM_SIZE,
            in_param: ICM_SIZE,
            token: 0xffff,
            ..Default::default()
        });
        assert_eq!(aux.status, Status::Ok);
        let n = aux.out_param.next_power_of_two();
        let a = self.alloc(n * ICM_PAGE, n * ICM_PAGE);
        assert_eq!(
            self.map_cmd(op::MAP_ICM_AUX, &[(0, a, n.trailing_zeros())]),
            Status::Ok
        );
        let p = Self::init_hca_params();
        assert_eq!(self.map_icm(p.eqc_base, 1), Status::Ok);
        assert_eq!(self.map_icm(p.mtt_base, 4), Status::Ok);
        let caps = crate::caps::device_caps();
        for (base, log, entry) in [
            (p.qpc_base, p.log_num_qps, caps.qpc_entry_sz),
            (p.cqc_base, p.log_num_cqs, caps.cqc_entry_sz),
            (p.dmpt_base, p.log_mpt_sz, caps.dmpt_entry_sz),
        ] {
            let pages = ((entry as u64) << log).div_ceil(ICM_PAGE);
            assert_eq!(self.map_icm(base, pages), Status::Ok);
        }
        assert_eq!(self.cmd_in(op::INIT_HCA, 0, &p.encode(), 0), Status::Ok);
        self.init = Some(p);
    }

    /// Write MTT entries (as mlx4_write_mtt does, straight into ICM) for
    /// `pages` at MTT index `first`.
    pub fn write_mtt(&mut self, first: u64, pages: &[u64]) {
        let base = self.init.expect("bring_up first").mtt_base;
        for (i, p) in pages.iter().enumerate() {
            let at = base + (first + i as u64) * 8;
            let host = self.fw.icm_translate(at).expect("MTT page mapped");
            self.mem.write(host, &(p | 1).to_be_bytes()).unwrap();
        }
    }

    /// Create EQ `eqn` of 2^log EQEs on `vector`, armed, its buffer one
    /// page per 4 KiB found through MTT entries from index `mtt`. Returns
    /// the buffer's pages and the status.
    pub fn create_eq(&mut self, eqn: u32, log: u8, vector: u8, mtt: u64) -> (Status, Vec<u64>) {
        let npages = ((32u64 << log) / ICM_PAGE).max(1);
        let pages: Vec<u64> = (0..npages)
            .map(|_| self.alloc(ICM_PAGE, ICM_PAGE))
            .collect();
        self.write_mtt(mtt, &pages);
        let ctx = EqContext {
            flags: hca_abi::cmd::eq::STATE_ARMED << 8,
            log_eq_size: log,
            intr: vector,
            mtt_base_addr_l: (mtt * 8) as u32,
            ..Default::default()
        };
        (self.cmd_in(op::SW2HW_EQ, 0, &ctx.encode(), eqn), pages)
    }

    /// Create CQ `cqn` of 2^log CQEs on EQ `eqn`, its buffer found through
    /// MTT entries from index `mtt`. Returns the status and the buffer's
    /// pages.
    pub fn create_cq(&mut self, cqn: u32, log: u8, eqn: u8, mtt: u64) -> (Status, Vec<u64>) {
        let npages = ((32u64 << log) / ICM_PAGE).max(1);
        let pages: Vec<u64> = (0..npages)
            .map(|_| self.alloc(ICM_PAGE, ICM_PAGE))
            .collect();
        self.write_mtt(mtt, &pages);
        let ctx = crate::cq::CqContext {
            log_size: log,
            comp_eqn: eqn,
            mtt_base_addr_l: (mtt * 8) as u32,
            db_rec_addr: self.alloc(8, 8),
            ..Default::default()
        };
        (self.cmd_in(op::SW2HW_CQ, 0, &ctx.encode(), cqn), pages)
    }

    /// Ring CQ `cqn`'s arm doorbell (`cmd` 1: solicited, 2: next).
    pub fn cq_arm(&mut self, cqn: u32, cmd: u8, sn: u8, ci: u32) {
        let mut d = [0u8; 8];
        d[..4].copy_from_slice(&((sn as u32 & 3) << 28 | (cmd as u32) << 24 | cqn).to_be_bytes());
        d[4..].copy_from_slice(&(ci & 0xff_ffff).to_be_bytes());
        self.fw
            .uar_write(crate::cq::ARM_DOORBELL, &d, &mut self.mem);
    }

    /// Ring EQ `eqn`'s doorbell in UAR page `eqn / 4`.
    pub fn eq_doorbell(&mut self, eqn: u32, ci: u32, arm: bool) {
        let off = (eqn as u64 / 4) * bar0::UAR_PAGE + 0x800 + 8 * (eqn as u64 % 4);
        let v = (ci & 0xff_ffff) | (arm as u32) << 31;
        self.fw.uar_write(off, &v.to_be_bytes(), &mut self.mem);
    }

    /// EQE `k` of an EQ whose pages are `pages`: its 32 bytes.
    pub fn eqe(&self, pages: &[u64], k: u64) -> [u8; 32] {
        let off = k * 32;
        let mut b = [0u8; 32];
        self.mem
            .read(pages[(off / ICM_PAGE) as usize] + off % ICM_PAGE, &mut b)
            .unwrap();
        b
    }
}
