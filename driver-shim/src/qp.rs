//! Queue pairs (mlx4's qp.c, mlx4_ib's qp.c): QPNs, the ICM a QP's
//! contexts take, its work-queue buffer (the queue with the larger stride
//! first) and doorbell record; every modify checked against the IBTA's
//! transition table before the command goes, and the context filled as
//! mlx4_ib fills it; work requests written as real mlx4 WQEs and the send
//! doorbell rung. What the device does with them is the transport
//! engine's.

use crate::cq::Cq;
use crate::device::Device;
use crate::dma::{DmaBuf, DmaMemory};
use crate::error::{Error, Result};
use crate::mr::Mtt;
use crate::pd::Pd;
use crate::srq::Srq;
use hca_abi::cmd::qp::{log_depth, optpar, st, MlxQpMailbox};
use hca_abi::opcode as op;
use hca_abi::pci::PciFunction;
use hca_abi::qp_state::{attr, rule, QpState, QpType};
use hca_abi::wqe::{self, AtomicSeg, CtrlSeg, DataSeg, DatagramSeg, MaskedAtomicSeg, RaddrSeg};

pub use hca_abi::wqe::INVALID_LKEY;

/// P_Key index, port and the rest of a QP's creation.
#[derive(Clone, Copy, Debug)]
pub struct QpInit {
    pub qp_type: QpType,
    pub send_cq: Cq,
    pub recv_cq: Cq,
    pub srq: Option<Srq>,
    pub max_send_wr: u32,
    pub max_recv_wr: u32,
    pub max_send_sge: u32,
    pub max_recv_sge: u32,
}

/// A queue pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Qp {
    pub qpn: u32,
    pub qp_type: QpType,
}

/// The attributes of a modify; `mask` (verbs `IB_QP_*` bits, `attr::*`)
/// says which are meant.
#[derive(Clone, Copy, Debug, Default)]
pub struct QpAttr {
    pub state: Option<QpState>,
    pub port: u8,
    pub pkey_index: u8,
    pub qkey: u32,
    /// Remote read (bit 0), write (bit 1), atomic (bit 2).
    pub access: u8,
    /// 1 = 256 bytes .. 5 = 4096.
    pub path_mtu: u8,
    pub dest_qpn: u32,
    pub rq_psn: u32,
    pub sq_psn: u32,
    pub dlid: u16,
    pub sl: u8,
    pub timeout: u8,
    pub retry_cnt: u8,
    pub rnr_retry: u8,
    pub min_rnr_timer: u8,
    pub max_rd_atomic: u8,
    pub max_dest_rd_atomic: u8,
}

/// The other end of a connection, for [`Device::connect_qp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer {
    pub qpn: u32,
    pub lid: u16,
    /// The PSN the peer sends from (our receive PSN).
    pub psn: u32,
}

/// Remote access bits of [`QpAttr::access`].
pub mod qp_access {
    pub const REMOTE_READ: u8 = 1 << 0;
    pub const REMOTE_WRITE: u8 = 1 << 1;
    pub const REMOTE_ATOMIC: u8 = 1 << 2;
}

/// A gather or scatter entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sge {
    pub addr: u64,
    pub len: u32,
    pub lkey: u32,
}

/// Where a UD send goes (an address handle with the remote QP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdDest {
    pub ah: Ah,
    pub dqpn: u32,
    pub qkey: u32,
}

/// An address handle (mlx4_ib's ah.c: software only, copied into each UD
/// WQE's address vector).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ah {
    pub pd: u32,
    pub port: u8,
    pub dlid: u16,
    pub sl: u8,
    /// A global route: the destination GID (a multicast group's MGID).
    pub dgid: Option<[u8; 16]>,
}

/// An atomic's operands (mlx4's atomic and masked-atomic segments):
/// compare-and-swap takes `compare` and `swap_add`; fetch-and-add adds
/// `swap_add`; the masked forms take the masks (masked fetch-and-add its
/// no-carry mask in `compare_mask`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AtomicArgs {
    pub swap_add: u64,
    pub compare: u64,
    pub swap_mask: u64,
    pub compare_mask: u64,
}

/// A send work request.
#[derive(Clone, Debug, Default)]
pub struct SendWr {
    /// A `hca_abi::wqe::opcode`.
    pub opcode: u8,
    pub sges: Vec<Sge>,
    pub signaled: bool,
    pub solicited: bool,
    pub imm: u32,
    /// RDMA and atomics: remote address and key.
    pub remote: Option<(u64, u32)>,
    /// UD: the destination.
    pub ud: Option<UdDest>,
    /// Atomics: the operands.
    pub atomic: Option<AtomicArgs>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct WorkQueue {
    pub offset: u64,
    pub wqe_cnt: u32,
    pub shift: u32,
    pub max_gs: u32,
    /// WQEs posted, and completed (moved on by polled CQEs), free-running.
    pub head: u32,
    pub tail: u32,
    /// WQEs that may be outstanding (the send queue keeps mlx4's spare
    /// WQEs back for the prefetcher).
    pub max_post: u32,
}

pub(crate) struct QpObj {
    pub qp_type: QpType,
    pub state: QpState,
    pub pd: u32,
    pub send_cqn: u32,
    pub recv_cqn: u32,
    pub srqn: Option<u32>,
    pub buf: DmaBuf,
    pub mtt: Mtt,
    pub db: DmaBuf,
    pub sq: WorkQueue,
    pub rq: WorkQueue,
    pub port: u8,
    /// QP0 or QP1 of a port (MLX service, headers written by the driver).
    pub special: bool,
}

/// Write one data segment.
pub(crate) fn write_data_seg(m: &mut DmaMemory, at: u64, s: &Sge) -> Result<()> {
    let d = DataSeg {
        byte_count: s.len,
        lkey: s.lkey,
        addr: s.addr,
    };
    m.write(at, &d.encode())
}

fn service(t: QpType) -> u8 {
    match t {
        QpType::Rc => st::RC,
        QpType::Uc => st::UC,
        QpType::Ud => st::UD,
    }
}

/// The command that moves a QP from `from` to `to`.
fn transition_opcode(from: QpState, to: QpState) -> Option<u16> {
    use QpState::*;
    Some(match (from, to) {
        (_, Reset) => op::TO_RST_QP,
        (Reset, Err) => return None,
        (_, Err) => op::TO_ERR_QP,
        (Reset, Init) => op::RST2INIT_QP,
        (Init, Init) => op::INIT2INIT_QP,
        (Init, Rtr) => op::INIT2RTR_QP,
        (Rtr, Rts) => op::RTR2RTS_QP,
        (Rts, Rts) => op::RTS2RTS_QP,
        (Rts, Sqd) => op::RTS2SQD_QP,
        (Sqd, Sqd) => op::SQD2SQD_QP,
        (Sqd, Rts) => op::SQD2RTS_QP,
        (Sqe, Rts) => op::SQERR2RTS_QP,
        _ => return None,
    })
}

fn attr_names(mask: u32) -> String {
    (0..attr::BITS)
        .filter(|b| mask & (1 << b) != 0)
        .map(|b| attr::NAMES[b])
        .collect::<Vec<_>>()
        .join(", ")
}

impl<P: PciFunction> Device<P> {
    /// A QP in RESET: its number, its ICM, its buffer and doorbell record.
    pub fn create_qp(&mut self, pd: &Pd, init: &QpInit) -> Result<Qp> {
        self.create_qp_with(pd, init, None)
    }

    /// A QP in RESET, numbered `special` when it is QP0 or QP1 of a port
    /// (`crate::special`), from the QPN allocator otherwise.
    pub(crate) fn create_qp_with(
        &mut self,
        pd: &Pd,
        init: &QpInit,
        special: Option<u32>,
    ) -> Result<Qp> {
        self.check_pd(pd)?;
        let caps = self
            .caps
            .ok_or_else(|| Error::Device("no capabilities".into()))?;
        for cq in [&init.send_cq, &init.recv_cq] {
            if !self.hca()?.cqs.contains_key(&cq.cqn) {
                return Err(Error::NoSuchObject {
                    what: "CQ",
                    id: cq.cqn,
                });
            }
        }
        if let Some(s) = &init.srq {
            if !self.hca()?.srqs.contains_key(&s.srqn) {
                return Err(Error::NoSuchObject {
                    what: "SRQ",
                    id: s.srqn,
                });
            }
        }
        let max_wr = 1u32 << caps.log_max_qp_sz;
        if init.max_send_wr == 0
            || init.max_send_wr >= max_wr
            || init.max_recv_wr >= max_wr
            || init.max_send_sge == 0
            || init.max_send_sge > caps.max_sg_sq as u32
            || init.max_recv_sge > caps.max_sg_rq as u32
            || (init.srq.is_none() && (init.max_recv_wr == 0 || init.max_recv_sge == 0))
        {
            return Err(Error::InvalidArgument(format!(
                "QP of {} send WRs x {} gathers, {} receive WRs x {} scatters (WRs below {max_wr}, at most {} and {} gathers)",
                init.max_send_wr, init.max_send_sge, init.max_recv_wr, init.max_recv_sge, caps.max_sg_sq, caps.max_sg_rq
            )));
        }
        // Receive queue: none with an SRQ.
        let (rq_cnt, rq_gs) = if init.srq.is_some() {
            (0, 0)
        } else {
            (
                init.max_recv_wr.next_power_of_two(),
                init.max_recv_sge.next_power_of_two(),
            )
        };
        let rq_shift = if rq_cnt == 0 {
            4
        } else {
            (16 * rq_gs).trailing_zeros()
        };
        // Send queue: the largest WQE, at least 64 bytes, with mlx4's spare
        // WQEs for the prefetcher's headroom.
        // (mlx4's send_wqe_overhead: UD the datagram segment, UC the
        // remote address, RC the remote address and the masked atomic.)
        let overhead = match init.qp_type {
            // MLX: the MLX segment, the headers inline (at most 72 bytes in
            // two inline segments), the ICRC placeholder.
            _ if special.is_some() => 16 + 80 + 16,
            QpType::Ud => 16 + 48,
            QpType::Uc => 16 + 16,
            QpType::Rc => 16 + 16 + 32,
        };
        let sq_shift = ((overhead + 16 * init.max_send_sge)
            .next_power_of_two()
            .trailing_zeros())
        .max(6);
        let spare = (2048 >> sq_shift) + 1;
        let sq_cnt = (init.max_send_wr + spare).next_power_of_two();
        let (rq_bytes, sq_bytes) = ((rq_cnt as u64) << rq_shift, (sq_cnt as u64) << sq_shift);
        let (rq_off, sq_off) = if rq_shift > sq_shift {
            (0, rq_bytes)
        } else {
            (sq_bytes, 0)
        };
        let qpn = match special {
            Some(q) => q,
            None => self
                .hca()?
                .alloc
                .qp
                .alloc()
                .ok_or(Error::NoResources("QPNs"))?,
        };
        let r = self
            .qp_icm_get(qpn)
            .and_then(|_| self.buf_alloc(rq_bytes + sq_bytes))
            .and_then(|(buf, mtt)| match self.bus.mem.alloc(8, 8) {
                Ok(db) => Ok((buf, mtt, db)),
                Err(e) => {
                    let _ = self.buf_free(buf, mtt);
                    Err(e)
                }
            });
        let (buf, mtt, db) = match r {
            Ok(x) => x,
            Err(e) => {
                let _ = self.qp_icm_put(qpn);
                if special.is_none() {
                    self.hca()?.alloc.qp.free(qpn);
                }
                return Err(e);
            }
        };
        // Every send WQE starts the hardware's: owner set, as mlx4 presets
        // them at RST2INIT (here at creation, the buffer being new).
        for i in 0..sq_cnt {
            let at = buf.addr + sq_off + ((i as u64) << sq_shift);
            self.bus.mem.write_u32(at, 1 << 31)?;
        }
        self.hca()?.qps.insert(
            qpn,
            QpObj {
                qp_type: init.qp_type,
                state: QpState::Reset,
                pd: pd.pdn,
                send_cqn: init.send_cq.cqn,
                recv_cqn: init.recv_cq.cqn,
                srqn: init.srq.map(|s| s.srqn),
                buf,
                mtt,
                db,
                sq: WorkQueue {
                    offset: sq_off,
                    wqe_cnt: sq_cnt,
                    shift: sq_shift,
                    max_gs: init.max_send_sge,
                    head: 0,
                    tail: 0,
                    max_post: sq_cnt - spare,
                },
                rq: WorkQueue {
                    offset: rq_off,
                    wqe_cnt: rq_cnt,
                    shift: rq_shift,
                    max_gs: rq_gs,
                    head: 0,
                    tail: 0,
                    max_post: rq_cnt,
                },
                port: 1,
                special: special.is_some(),
            },
        );
        Ok(Qp {
            qpn,
            qp_type: init.qp_type,
        })
    }

    fn qp_icm_get(&mut self, qpn: u32) -> Result<()> {
        let rd = 1u64 << self.hca()?.init.log_rd_per_qp;
        let mut done: Vec<(&str, u64, u64)> = Vec::new();
        for (t, first, n) in [
            ("QPC", qpn as u64, 1),
            ("AUXC", qpn as u64, 1),
            ("ALTC", qpn as u64, 1),
            ("RDMARC", qpn as u64 * rd, rd),
        ] {
            if let Err(e) = self.icm_get_range(t, first, n) {
                for (t, f, n) in done {
                    let _ = self.icm_put_range(t, f, n);
                }
                return Err(e);
            }
            done.push((t, first, n));
        }
        Ok(())
    }

    fn qp_icm_put(&mut self, qpn: u32) -> Result<()> {
        let rd = 1u64 << self.hca()?.init.log_rd_per_qp;
        let mut r = Ok(());
        for (t, first, n) in [
            ("QPC", qpn as u64, 1),
            ("AUXC", qpn as u64, 1),
            ("ALTC", qpn as u64, 1),
            ("RDMARC", qpn as u64 * rd, rd),
        ] {
            r = r.and(self.icm_put_range(t, first, n));
        }
        r
    }

    pub(crate) fn qp_obj(&mut self, qp: &Qp) -> Result<&mut QpObj> {
        self.hca()?.qps.get_mut(&qp.qpn).ok_or(Error::NoSuchObject {
            what: "QP",
            id: qp.qpn,
        })
    }

    /// The state the driver holds the QP in.
    pub fn qp_state(&mut self, qp: &Qp) -> Result<QpState> {
        Ok(self.qp_obj(qp)?.state)
    }

    /// QUERY_QP: the context as the device holds it.
    pub fn query_qp(&mut self, qp: &Qp) -> Result<MlxQpMailbox> {
        self.qp_obj(qp)?;
        Ok(MlxQpMailbox::decode(&self.cmd_box(
            op::QUERY_QP,
            0,
            qp.qpn,
            None,
        )?))
    }

    /// Modify the QP: `mask` names the attributes meant (it must include
    /// `attr::STATE` for a transition). The IBTA's table is checked first:
    /// an illegal transition, a missing required attribute or one the
    /// transition does not take is refused with the QP unchanged.
    pub fn modify_qp(&mut self, qp: &Qp, a: &QpAttr, mask: u32) -> Result<()> {
        let o = self.qp_obj(qp)?;
        let cur = o.state;
        let next = if mask & attr::STATE != 0 {
            a.state
                .ok_or_else(|| Error::InvalidArgument("STATE in the mask but no state".into()))?
        } else {
            cur
        };
        let refuse = |what: String| Error::QpTransition { qpn: qp.qpn, what };
        let r = rule(cur, next, o.qp_type).ok_or_else(|| {
            refuse(format!(
                "{} QP: {} to {} is not a transition",
                o.qp_type.name(),
                cur.name(),
                next.name()
            ))
        })?;
        let given = mask & !(attr::STATE | attr::CUR_STATE);
        let missing = r.required & !given;
        if missing != 0 {
            return Err(refuse(format!(
                "{} to {} needs {}",
                cur.name(),
                next.name(),
                attr_names(missing)
            )));
        }
        let extra = given & !(r.required | r.optional);
        if extra != 0 {
            return Err(refuse(format!(
                "{} to {} does not take {}",
                cur.name(),
                next.name(),
                attr_names(extra)
            )));
        }
        if mask & attr::PORT != 0 && !(1..=2).contains(&a.port) {
            return Err(Error::InvalidArgument(format!("port {}", a.port)));
        }
        if mask & attr::PATH_MTU != 0 && !(1..=5).contains(&a.path_mtu) {
            return Err(Error::InvalidArgument(format!(
                "path MTU code {}",
                a.path_mtu
            )));
        }
        let opcode = transition_opcode(cur, next)
            .ok_or_else(|| refuse(format!("{} to {} has no command", cur.name(), next.name())))?;
        if opcode == op::TO_RST_QP {
            self.cmd_none(op::TO_RST_QP, 2, 0, qp.qpn)?;
            let o = self.qp_obj(qp)?;
            o.state = QpState::Reset;
            (o.sq.head, o.sq.tail, o.rq.head, o.rq.tail) = (0, 0, 0, 0);
            return Ok(());
        }
        let m = self.qp_context(qp, a, mask, next)?;
        let in_mod = qp.qpn
            | if opcode == op::RTS2SQD_QP && mask & attr::EN_SQD_ASYNC_NOTIFY != 0 {
                1 << 31
            } else {
                0
            };
        self.cmd_in(opcode, 0, in_mod, &m.encode())?;
        let o = self.qp_obj(qp)?;
        o.state = next;
        if mask & attr::PORT != 0 {
            o.port = a.port;
        }
        Ok(())
    }

    /// The context mlx4_ib sends for a modify.
    fn qp_context(
        &mut self,
        qp: &Qp,
        a: &QpAttr,
        mask: u32,
        next: QpState,
    ) -> Result<MlxQpMailbox> {
        let uar = self.hca()?.uar;
        let log_max_msg = self.caps.map_or(31, |c| c.log_max_msg);
        let o = self.qp_obj(qp)?;
        let ud = o.qp_type == QpType::Ud;
        let port = if mask & attr::PORT != 0 {
            a.port
        } else {
            o.port
        };
        let mut m = MlxQpMailbox {
            state: next as u8,
            st: if o.special {
                st::MLX
            } else {
                service(o.qp_type)
            },
            pm_state: 3,
            pd: o.pd,
            mtu: if ud {
                5
            } else if mask & attr::PATH_MTU != 0 {
                a.path_mtu
            } else {
                0
            },
            msg_max: if ud { 11 } else { log_max_msg },
            rq_log_size: if o.rq.wqe_cnt > 0 {
                o.rq.wqe_cnt.trailing_zeros() as u8
            } else {
                0
            },
            rq_log_stride: if o.rq.wqe_cnt > 0 {
                (o.rq.shift - 4) as u8
            } else {
                0
            },
            sq_log_size: o.sq.wqe_cnt.trailing_zeros() as u8,
            sq_log_stride: (o.sq.shift - 4) as u8,
            usr_page: uar,
            local_qpn: qp.qpn,
            sched_queue: 0x83 | (port - 1) << 6,
            ack_req_freq: 8,
            fre: true,
            cqn_send: o.send_cqn,
            cqn_recv: o.recv_cqn,
            srq: o.srqn.is_some(),
            srqn: o.srqn.unwrap_or(0),
            db_rec_addr: o.db.addr,
            mtt_base_h: (o.mtt.offset() >> 32) as u8,
            mtt_base_l: o.mtt.offset() as u32,
            ..Default::default()
        };
        let mut opt = 0;
        if mask & attr::PKEY_INDEX != 0 {
            m.pkey_index = a.pkey_index;
            opt |= optpar::PKEY_INDEX;
        }
        if mask & attr::PORT != 0 {
            opt |= optpar::SCHED_QUEUE;
        }
        if mask & attr::QKEY != 0 {
            m.qkey = a.qkey;
            opt |= optpar::Q_KEY;
        }
        if mask & attr::ACCESS_FLAGS != 0 {
            m.rre = a.access & qp_access::REMOTE_READ != 0;
            m.rwe = a.access & qp_access::REMOTE_WRITE != 0;
            m.rae = a.access & qp_access::REMOTE_ATOMIC != 0;
            opt |= optpar::RRE | optpar::RWE | optpar::RAE;
        }
        if mask & attr::AV != 0 {
            m.rlid = a.dlid;
            m.sched_queue |= (a.sl & 0xf) << 2;
            opt |= optpar::PRIMARY_ADDR_PATH;
        }
        if mask & attr::DEST_QPN != 0 {
            m.remote_qpn = a.dest_qpn;
        }
        if mask & attr::RQ_PSN != 0 {
            m.next_recv_psn = a.rq_psn;
        }
        if mask & attr::SQ_PSN != 0 {
            m.next_send_psn = a.sq_psn;
        }
        if mask & attr::TIMEOUT != 0 {
            m.ack_timeout = a.timeout;
            opt |= optpar::ACK_TIMEOUT;
        }
        if mask & attr::RETRY_CNT != 0 {
            m.retry_count = a.retry_cnt;
            opt |= optpar::RETRY_COUNT;
        }
        if mask & attr::RNR_RETRY != 0 {
            m.rnr_retry = a.rnr_retry;
            opt |= optpar::RNR_RETRY;
        }
        if mask & attr::MIN_RNR_TIMER != 0 {
            m.min_rnr_timer = a.min_rnr_timer;
            opt |= optpar::RNR_TIMEOUT;
        }
        if mask & attr::MAX_QP_RD_ATOMIC != 0 {
            m.sra = log_depth(a.max_rd_atomic);
            opt |= optpar::SRA_MAX;
        }
        if mask & attr::MAX_DEST_RD_ATOMIC != 0 {
            m.rra = log_depth(a.max_dest_rd_atomic);
            opt |= optpar::RRA_MAX;
        }
        m.opt_param_mask = opt;
        Ok(m)
    }

    /// Walk a QP in RESET to RTS on `port`, with the attributes the IBTA
    /// requires of each step and the values ibverbs examples use (P_Key
    /// index 0, 4096-byte MTU, remote read, write and atomics, 4 outstanding reads,
    /// 7 retries); UD QPs take `qkey` and need no peer.
    pub fn connect_qp(
        &mut self,
        qp: &Qp,
        port: u8,
        qkey: u32,
        peer: Option<Peer>,
        sq_psn: u32,
    ) -> Result<()> {
        self.connect_qp_mtu(qp, port, qkey, peer, sq_psn, 5)
    }

    /// [`Device::connect_qp`] at path MTU code `path_mtu` (1: 256 ..
    /// 5: 4096).
    pub fn connect_qp_mtu(
        &mut self,
        qp: &Qp,
        port: u8,
        qkey: u32,
        peer: Option<Peer>,
        sq_psn: u32,
        path_mtu: u8,
    ) -> Result<()> {
        if !(1..=5).contains(&path_mtu) {
            return Err(Error::InvalidArgument(format!("path MTU code {path_mtu}")));
        }
        let p = peer.unwrap_or(Peer {
            qpn: 0,
            lid: 0,
            psn: 0,
        });
        let mut a = QpAttr {
            state: Some(QpState::Init),
            port,
            qkey,
            access: qp_access::REMOTE_READ | qp_access::REMOTE_WRITE | qp_access::REMOTE_ATOMIC,
            path_mtu,
            dest_qpn: p.qpn,
            rq_psn: p.psn,
            sq_psn,
            dlid: p.lid,
            timeout: 14,
            retry_cnt: 7,
            rnr_retry: 7,
            min_rnr_timer: 12,
            max_rd_atomic: 4,
            max_dest_rd_atomic: 4,
            ..Default::default()
        };
        for to in [QpState::Init, QpState::Rtr, QpState::Rts] {
            let from = self.qp_state(qp)?;
            let r = rule(from, to, qp.qp_type).ok_or_else(|| Error::QpTransition {
                qpn: qp.qpn,
                what: format!("connect from {}", from.name()),
            })?;
            if qp.qp_type != QpType::Ud && to == QpState::Rtr && peer.is_none() {
                return Err(Error::InvalidArgument(format!(
                    "a connected {} QP needs a peer",
                    qp.qp_type.name()
                )));
            }
            a.state = Some(to);
            self.modify_qp(qp, &a, attr::STATE | r.required)?;
        }
        Ok(())
    }

    /// Destroy a QP: detached from its multicast groups, to RESET if it is
    /// not there, its memory and number freed.
    pub fn destroy_qp(&mut self, qp: &Qp) -> Result<()> {
        self.qp_obj(qp)?;
        // Its multicast groups first, as mlx4_ib's destroy does.
        for gid in self.mcast_groups(qp)? {
            self.detach_mcast(qp, &gid)?;
        }
        if self.qp_obj(qp)?.state != QpState::Reset {
            self.cmd_none(op::TO_RST_QP, 2, 0, qp.qpn)?;
        }
        let o = self.hca()?.qps.remove(&qp.qpn).expect("checked");
        if !o.special {
            self.hca()?.alloc.qp.free(qp.qpn);
        }
        self.bus.mem.free(o.db);
        let r = self.buf_free(o.buf, o.mtt);
        r.and(self.qp_icm_put(qp.qpn))
    }

    /// An address handle (no command: mlx4_ib keeps AHs in software).
    pub fn create_ah(&mut self, pd: &Pd, port: u8, dlid: u16, sl: u8) -> Result<Ah> {
        self.check_pd(pd)?;
        if !(1..=2).contains(&port) || sl > 15 {
            return Err(Error::InvalidArgument(format!("port {port}, SL {sl}")));
        }
        Ok(Ah {
            pd: pd.pdn,
            port,
            dlid,
            sl,
            dgid: None,
        })
    }

    /// An address handle with a global route to `dgid`: a multicast
    /// group (its MLID as `dlid`) or a GID beyond the subnet.
    pub fn create_ah_grh(
        &mut self,
        pd: &Pd,
        port: u8,
        dlid: u16,
        sl: u8,
        dgid: [u8; 16],
    ) -> Result<Ah> {
        let mut ah = self.create_ah(pd, port, dlid, sl)?;
        ah.dgid = Some(dgid);
        Ok(ah)
    }

    /// A polled completion retires work requests: a send CQE every WQE up
    /// to the one it names (unsignalled ones before it included, as mlx4's
    /// `wq->tail += wqe_ctr - tail`), a receive CQE the oldest receive.
    pub(crate) fn retire(&mut self, wc: &crate::cq::Wc) {
        let Some(o) = self.hca.as_mut().and_then(|h| h.qps.get_mut(&wc.qpn)) else {
            return;
        };
        if wc.is_send {
            let done = (wc.wqe_index as u32).wrapping_sub(o.sq.tail as u16 as u32) & 0xffff;
            if done < o.sq.head.wrapping_sub(o.sq.tail) {
                o.sq.tail = o.sq.tail.wrapping_add(done + 1);
            }
        } else if o.srqn.is_none() && o.rq.head != o.rq.tail {
            o.rq.tail = o.rq.tail.wrapping_add(1);
        }
    }

    /// Post one send WR: the WQE (control, then the remote-address or
    /// datagram segment, then the gathers) with its owner bit last, then
    /// the send doorbell.
    pub fn post_send(&mut self, qp: &Qp, wr: &SendWr) -> Result<()> {
        let uar = self.hca()?.uar as u64;
        let o = self.qp_obj(qp)?;
        if o.special {
            return Err(Error::InvalidArgument(format!(
                "QP {:#x} is a special QP: its sends are post_mlx's",
                qp.qpn
            )));
        }
        if !matches!(
            o.state,
            QpState::Rts | QpState::Sqd | QpState::Sqe | QpState::Err
        ) {
            return Err(Error::QpTransition {
                qpn: qp.qpn,
                what: format!("post_send in {}", o.state.name()),
            });
        }
        if wr.sges.len() > o.sq.max_gs as usize {
            return Err(Error::InvalidArgument(format!(
                "{} gathers (the QP takes {})",
                wr.sges.len(),
                o.sq.max_gs
            )));
        }
        let ud = o.qp_type == QpType::Ud;
        let atomic = matches!(
            wr.opcode,
            wqe::opcode::ATOMIC_CS
                | wqe::opcode::ATOMIC_FA
                | wqe::opcode::MASKED_ATOMIC_CS
                | wqe::opcode::MASKED_ATOMIC_FA
        );
        let needs_remote = atomic
            || matches!(
                wr.opcode,
                wqe::opcode::RDMA_WRITE | wqe::opcode::RDMA_WRITE_IMM | wqe::opcode::RDMA_READ
            );
        let allowed = match o.qp_type {
            QpType::Ud => matches!(wr.opcode, wqe::opcode::SEND | wqe::opcode::SEND_IMM),
            QpType::Uc => matches!(
                wr.opcode,
                wqe::opcode::SEND
                    | wqe::opcode::SEND_IMM
                    | wqe::opcode::RDMA_WRITE
                    | wqe::opcode::RDMA_WRITE_IMM
            ),
            QpType::Rc => {
                matches!(
                    wr.opcode,
                    wqe::opcode::SEND
                        | wqe::opcode::SEND_IMM
                        | wqe::opcode::SEND_INVAL
                        | wqe::opcode::RDMA_WRITE
                        | wqe::opcode::RDMA_WRITE_IMM
                        | wqe::opcode::RDMA_READ
                ) || atomic
            }
        };
        let atomic_ok = atomic == wr.atomic.is_some()
            && (!atomic || (wr.sges.len() == 1 && wr.sges[0].len == 8));
        if !allowed || needs_remote != wr.remote.is_some() || ud != wr.ud.is_some() || !atomic_ok {
            return Err(Error::InvalidArgument(format!(
                "opcode {:#x} on a {} QP (remote address {}, UD destination {})",
                wr.opcode,
                o.qp_type.name(),
                wr.remote.is_some(),
                wr.ud.is_some()
            )));
        }
        let sq = o.sq;
        if sq.head.wrapping_sub(sq.tail) >= sq.max_post {
            return Err(Error::NoResources("send queue entries (poll the send CQ)"));
        }
        let at = o.buf.addr + sq.offset + (((sq.head % sq.wqe_cnt) as u64) << sq.shift);
        let owner = sq.head & sq.wqe_cnt != 0;
        let mut off = 16u64;
        if let Some((raddr, rkey)) = wr.remote {
            self.bus
                .mem
                .write(at + off, &RaddrSeg { raddr, rkey }.encode())?;
            off += 16;
        }
        if let Some(a) = &wr.atomic {
            let seg = match wr.opcode {
                wqe::opcode::MASKED_ATOMIC_CS => MaskedAtomicSeg {
                    swap_add: a.swap_add,
                    compare: a.compare,
                    swap_add_mask: a.swap_mask,
                    compare_mask: a.compare_mask,
                }
                .encode(),
                // Masked fetch-and-add: the no-carry mask where compare is.
                wqe::opcode::MASKED_ATOMIC_FA => AtomicSeg {
                    swap_add: a.swap_add,
                    compare: a.compare_mask,
                }
                .encode(),
                _ => AtomicSeg {
                    swap_add: a.swap_add,
                    compare: a.compare,
                }
                .encode(),
            };
            self.bus.mem.write(at + off, &seg)?;
            off += seg.len() as u64;
        }
        if let Some(d) = &wr.ud {
            let g = d.ah.dgid.unwrap_or_default();
            let dg = DatagramSeg {
                port: d.ah.port,
                pd: d.ah.pd,
                grh: d.ah.dgid.is_some(),
                dlid: d.ah.dlid,
                sl_tclass_flowlabel: (d.ah.sl as u32) << 28,
                dgid_hi: u64::from_be_bytes(g[..8].try_into().expect("8 bytes")),
                dgid_lo: u64::from_be_bytes(g[8..].try_into().expect("8 bytes")),
                dqpn: d.dqpn,
                qkey: d.qkey,
                ..Default::default()
            };
            self.bus.mem.write(at + off, &dg.encode())?;
            off += 48;
        }
        for s in &wr.sges {
            write_data_seg(&mut self.bus.mem, at + off, s)?;
            off += 16;
        }
        let ctrl = CtrlSeg {
            owner,
            opcode: wr.opcode,
            ds: (off / 16) as u8,
            cq_update: if wr.signaled { 3 } else { 0 },
            solicited: wr.solicited,
            imm: wr.imm,
            ..Default::default()
        };
        self.bus.mem.write(at, &ctrl.encode())?;
        self.qp_obj(qp)?.sq.head = sq.head.wrapping_add(1);
        self.bus.uar_write(
            uar * hca_abi::bar0::UAR_PAGE + wqe::SEND_DOORBELL,
            &(qp.qpn << 8).to_be_bytes(),
        );
        Ok(())
    }

    /// Post one receive WR: its scatters and the terminator, then the
    /// doorbell record's receive counter.
    pub fn post_recv(&mut self, qp: &Qp, sges: &[Sge]) -> Result<()> {
        let o = self.qp_obj(qp)?;
        if o.srqn.is_some() {
            return Err(Error::InvalidArgument("the QP receives from an SRQ".into()));
        }
        if o.state == QpState::Reset {
            return Err(Error::QpTransition {
                qpn: qp.qpn,
                what: "post_recv in reset".into(),
            });
        }
        if sges.len() > o.rq.max_gs as usize {
            return Err(Error::InvalidArgument(format!(
                "{} scatters (the QP takes {})",
                sges.len(),
                o.rq.max_gs
            )));
        }
        let rq = o.rq;
        if rq.head.wrapping_sub(rq.tail) >= rq.max_post {
            return Err(Error::NoResources(
                "receive queue entries (poll the receive CQ)",
            ));
        }
        let (buf, db) = (o.buf, o.db);
        let at = buf.addr + rq.offset + (((rq.head % rq.wqe_cnt) as u64) << rq.shift);
        let end = Sge {
            addr: 0,
            len: 0,
            lkey: INVALID_LKEY,
        };
        for (i, s) in sges
            .iter()
            .chain(std::iter::once(&end))
            .take(rq.max_gs as usize)
            .enumerate()
        {
            write_data_seg(&mut self.bus.mem, at + 16 * i as u64, s)?;
        }
        let head = rq.head.wrapping_add(1);
        self.qp_obj(qp)?.rq.head = head;
        self.bus.mem.write_u32(db.addr, head & 0xffff)
    }
}
