//! Queue pairs (mlx4's qp.c): CONF_SPECIAL_QP, which places the special
//! QPs (QP0 and QP1 of each port), and the QP state commands on the QPC
//! block: RST2INIT_QP .. SQD2RTS_QP, 2ERR_QP, 2RST_QP and QUERY_QP.
//!
//! mlx4 sends its whole QP context (`hca_abi::cmd::qp::MlxQpMailbox`) with
//! every transition and says in the optional-parameter mask which optional
//! fields it means. The firmware takes the fields the IBTA requires of the
//! transition (`hca_rtl::qpc::table::rule`) from the context, the optional
//! ones only when their mask bit is set, and hands them to the QPC block
//! as a modify; the block checks the transition and the values. What the
//! block does not keep (queue sizes, the doorbell record, the MTT, the
//! UAR page, the path beyond the DLID and SL) the firmware keeps with it:
//! the context of RST2INIT_QP, updated as later transitions change the
//! path, in the same ICM entry after the block's words ([`COPY_WORD`]).
//! QUERY_QP answers with that copy, the block's fields laid over it.

use crate::cmd::{mailbox, Command, CommandSpec, OpMods, ZERO};
use crate::hostmem::HostMemory;
use crate::icm::window::IcmWindow;
use crate::opcode as op;
use crate::status::{refuse, CmdResult, Status};
use crate::Firmware;
use hca_abi::cmd::qp::{log_depth, optpar, st, MlxQpMailbox};
use hca_abi::memory::BlockMemory;
use hca_rtl::qpc::layout::QpContext;
use hca_rtl::qpc::table::rule;
use hca_rtl::qpc::{attr, QpAttrs, QpState, QpType, MASK24, QPC_TABLE};

/// The first word of a QP's ICM entry that holds mlx4's context (the
/// mailbox, 32 words) as the firmware keeps it; the block's words come
/// before it.
pub const COPY_WORD: u8 = 32;

/// A state command's row: opcode, the state it starts from (`None`: any),
/// the state it ends in.
macro_rules! transition {
    ($opcode:expr, $from:expr, $to:expr, $what:literal) => {
        CommandSpec {
            opcode: $opcode,
            op_mods: ZERO,
            boot: false,
            inbox: mailbox!(MlxQpMailbox),
            outbox: None,
            what: $what,
            run: |f, c, mem| f.modify_qp(c, mem, $from, $to),
        }
    };
}

use QpState::*;

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        opcode: op::CONF_SPECIAL_QP,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: None,
        what: "QPs base..base+8 become the special QPs (QP0/QP1 per port; 8-aligned, inside the QP table); 0 turns them off",
        run: |f, c, _| f.conf_special_qp(c),
    },
    transition!(op::RST2INIT_QP, Some(Reset), Init, "RESET to INIT: the QP's type (RC, UC, UD; MLX for the special QPs, run as UD), PD, CQs, SRQ, P_Key index, Q_Key (UD), access (RC, UC) and port (sched_queue, or the special QP's own) go to the QPC block; the rest of the context is kept beside it"),
    transition!(op::INIT2INIT_QP, Some(Init), Init, "INIT to INIT: the optional fields the mask names"),
    transition!(op::INIT2RTR_QP, Some(Init), Rtr, "INIT to RTR: for RC and UC the path (DLID, SL), MTU, remote QPN, receive PSN, and for RC responder resources and RNR timer; the path is kept"),
    transition!(op::RTR2RTS_QP, Some(Rtr), Rts, "RTR to RTS: the send PSN, and for RC the ACK timeout, retry counts and initiator depth"),
    transition!(op::RTS2RTS_QP, Some(Rts), Rts, "RTS to RTS: the optional fields the mask names (IPoIB's Q_Key)"),
    transition!(op::SQERR2RTS_QP, Some(Sqe), Rts, "SQER to RTS (UC, UD)"),
    transition!(op::RTS2SQD_QP, Some(Rts), Sqd, "RTS to SQD; in_modifier bit 31 asks for the SQ-drained event"),
    transition!(op::SQD2SQD_QP, Some(Sqd), Sqd, "SQD to SQD: the optional fields the mask names"),
    transition!(op::SQD2RTS_QP, Some(Sqd), Rts, "SQD to RTS"),
    transition!(op::TO_ERR_QP, None, Err, "any state but RESET to ERR"),
    CommandSpec {
        opcode: op::TO_RST_QP,
        op_mods: OpMods::OneOf(&[2]),
        boot: false,
        inbox: None,
        outbox: None,
        what: "any state to RESET (op modifier 2, no mailbox): the context is zeroed in ICM before the command completes, and nothing of it is cached",
        run: |f, c, mem| f.reset_qp(c, mem),
    },
    CommandSpec {
        opcode: op::QUERY_QP,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: mailbox!(MlxQpMailbox),
        what: "the context: mlx4's as the firmware keeps it, with the QPC block's state, PSNs, keys, counts and path laid over it",
        run: |f, c, mem| f.query_qp(c, mem),
    },
];

/// The verbs attributes an optional-parameter mask names (and, for
/// RTS2SQD_QP, in_modifier bit 31).
fn given(mask: u32, sqd_event: bool) -> u32 {
    let pairs = [
        (optpar::RRE | optpar::RWE | optpar::RAE, attr::ACCESS_FLAGS),
        (optpar::PKEY_INDEX, attr::PKEY_INDEX),
        (optpar::Q_KEY, attr::QKEY),
        (optpar::RNR_TIMEOUT, attr::MIN_RNR_TIMER),
        (optpar::PRIMARY_ADDR_PATH, attr::AV),
        (optpar::SRA_MAX, attr::MAX_QP_RD_ATOMIC),
        (optpar::RRA_MAX, attr::MAX_DEST_RD_ATOMIC),
        (optpar::RETRY_COUNT, attr::RETRY_CNT),
        (optpar::RNR_RETRY, attr::RNR_RETRY),
        (optpar::ACK_TIMEOUT, attr::TIMEOUT),
        (optpar::SCHED_QUEUE, attr::PORT),
        (optpar::ALT_ADDR_PATH, attr::ALT_PATH),
        (optpar::PM_STATE, attr::PATH_MIG_STATE),
    ];
    let mut a = pairs
        .iter()
        .filter(|(bits, _)| mask & bits != 0)
        .fold(0, |a, (_, attr)| a | attr);
    if sqd_event {
        a |= attr::EN_SQD_ASYNC_NOTIFY;
    }
    a
}

/// The attribute values of a mailbox, as the QPC block takes them.
fn attrs_of(m: &MlxQpMailbox, qp_type: QpType, port: u8, sqd_event: bool) -> QpAttrs {
    QpAttrs {
        qp_type: qp_type as u8,
        pd: m.pd,
        send_cqn: m.cqn_send,
        recv_cqn: m.cqn_recv,
        srqn: m.srqn,
        srq: m.srq,
        access: m.rre as u8 | (m.rwe as u8) << 1 | (m.rae as u8) << 2,
        pkey_index: m.pkey_index as u16,
        port,
        qkey: m.qkey,
        dlid: m.rlid,
        sl: m.sl(),
        path_mtu: m.mtu,
        timeout: m.ack_timeout,
        retry_cnt: m.retry_count,
        rnr_retry: m.rnr_retry,
        rq_psn: m.next_recv_psn,
        max_rd_atomic: 1 << m.sra,
        min_rnr_timer: m.min_rnr_timer,
        sq_psn: m.next_send_psn,
        max_dest_rd_atomic: 1 << m.rra,
        dest_qpn: m.remote_qpn,
        sqd_notify: sqd_event,
    }
}

/// QUERY_QP's answer: the kept context with the block's fields over it.
fn with_block_fields(mut m: MlxQpMailbox, c: &QpContext) -> MlxQpMailbox {
    m.opt_param_mask = 0;
    m.state = c.state;
    m.pd = c.pd;
    m.cqn_send = c.send_cqn;
    m.cqn_recv = c.recv_cqn;
    m.srq = c.srq;
    m.srqn = c.srqn;
    m.ric = c.srq;
    m.pkey_index = c.pkey_index as u8;
    m.qkey = c.qkey;
    m.remote_qpn = c.dest_qpn;
    m.next_send_psn = c.next_send_psn;
    m.next_recv_psn = c.expected_psn;
    m.msn = c.msn;
    m.min_rnr_timer = c.min_rnr_timer;
    m.retry_count = c.retry_cnt;
    m.rnr_retry = c.rnr_retry;
    m.ack_timeout = c.timeout;
    m.rlid = c.dlid;
    // The port stays the kept sched_queue's: mlx4 names an ordinary QP's
    // port first at INIT2RTR_QP, which the block's RESET-to-INIT port
    // cannot follow. The SL is the block's where it keeps a path.
    if c.qp_type != QpType::Ud as u8 {
        m.sched_queue = (m.sched_queue & !0x3c) | (c.sl & 0xf) << 2;
    }
    m.rre = c.access & 1 != 0;
    m.rwe = c.access & 2 != 0;
    m.rae = c.access & 4 != 0;
    if c.path_mtu != 0 {
        m.mtu = c.path_mtu;
    }
    if c.max_rd_atomic != 0 {
        m.sra = log_depth(c.max_rd_atomic);
    }
    if c.max_dest_rd_atomic != 0 {
        m.rra = log_depth(c.max_dest_rd_atomic);
    }
    m
}

/// The kept context of QP `qpn`, from its ICM entry.
pub(crate) fn read_copy(w: &mut dyn BlockMemory, qpn: u32) -> MlxQpMailbox {
    let words = MlxQpMailbox::SIZE / 8;
    let bytes: Vec<u8> = (0..words)
        .flat_map(|k| {
            w.icm_read(QPC_TABLE, qpn, COPY_WORD + k as u8)
                .to_be_bytes()
        })
        .collect();
    MlxQpMailbox::decode(&bytes)
}

/// Keep `m` as QP `qpn`'s context (all zero: nothing kept).
pub(crate) fn write_copy(w: &mut dyn BlockMemory, qpn: u32, m: &MlxQpMailbox) {
    for (k, chunk) in m.encode().chunks(8).enumerate() {
        let word = u64::from_be_bytes(chunk.try_into().expect("8 bytes"));
        w.icm_write(QPC_TABLE, qpn, COPY_WORD + k as u8, word);
    }
}

impl Firmware {
    /// CONF_SPECIAL_QP: QPs in_modifier .. +8 become the special QPs (0
    /// turns them off).
    fn conf_special_qp(&mut self, c: &Command) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let base = c.in_modifier;
        let (p, _) = self.state.hca.as_ref().unwrap();
        let qps = 1u64 << p.log_num_qps;
        if base != 0 && (!base.is_multiple_of(8) || base as u64 + 8 > qps) {
            return refuse(
                Status::BadParam,
                format!("special QPs at {base:#x} (8-aligned, inside the {qps} QPs)"),
            );
        }
        self.state.special_qp_base = base;
        Ok(None)
    }

    /// The special QPs' base (CONF_SPECIAL_QP), 0 when none.
    pub fn special_qp_base(&self) -> u32 {
        self.state.special_qp_base
    }

    /// The port of special QP `qpn` (QP0 of port 1, of port 2, QP1 of
    /// port 1, of port 2), if it is one.
    fn special_port(&self, qpn: u32) -> Option<u8> {
        let base = self.state.special_qp_base;
        (base != 0 && (base..base + 4).contains(&qpn)).then(|| ((qpn - base) % 2) as u8 + 1)
    }

    /// The QPN of a command, checked against INIT_HCA's QP table.
    fn qpn(&self, in_modifier: u32) -> CmdResult<u32> {
        self.require_hca()?;
        let qpn = in_modifier & MASK24;
        let (p, _) = self.state.hca.as_ref().unwrap();
        let limit = 1u64 << p.log_num_qps;
        if qpn as u64 >= limit {
            return refuse(
                Status::BadIndex,
                format!("QP {qpn:#x} (the table holds {limit:#x})"),
            );
        }
        // Whatever the block may have cached, a QP whose ICM the driver
        // has not mapped (or has unmapped) has no context.
        let entry = self.qpc_tables()[0].address(qpn, 0);
        if entry.and_then(|a| self.state.icm.translate(a)).is_none() {
            return refuse(
                Status::IcmError,
                format!("QP {qpn:#x}: its context is in no mapped ICM"),
            );
        }
        Ok(qpn)
    }

    /// The block's context of QP `qpn`.
    fn qp_context(&mut self, qpn: u32, mem: &mut dyn HostMemory) -> CmdResult<QpContext> {
        let mut w = IcmWindow::new(&self.state.icm, &self.qpc_tables(), mem);
        Ok(self.qpc_block.query(qpn, &mut w)?.ctx)
    }

    /// A state command from `from` (any state but RESET, for `None`) to
    /// `to`, with mlx4's context in the inbox.
    fn modify_qp(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
        from: Option<QpState>,
        to: QpState,
    ) -> CmdResult<Option<u64>> {
        let qpn = self.qpn(c.in_modifier)?;
        let sqd_event = c.in_modifier & 1 << 31 != 0;
        let m = MlxQpMailbox::decode(&self.inbox(mem, c, MlxQpMailbox::SIZE)?);
        let cur = self.qp_context(qpn, mem)?;
        let state = QpState::from_code(cur.state).unwrap_or(Err);
        let name = crate::opcode::name(c.opcode);
        let legal_from = match from {
            Some(f) => state == f,
            None => state != Reset,
        };
        if !legal_from {
            return refuse(
                Status::BadQpState,
                format!("{name}: QP {qpn:#x} is in {}", state.name()),
            );
        }
        if m.local_qpn != qpn {
            return refuse(
                Status::BadParam,
                format!(
                    "{name}: the context names QP {:#x}, not {qpn:#x}",
                    m.local_qpn
                ),
            );
        }
        let special = self.special_port(qpn);
        let creating = state == Reset;
        let qp_type = if creating {
            match (m.st, special) {
                (st::MLX, Some(_)) => QpType::Ud,
                (st::MLX, None) => {
                    return refuse(
                        Status::BadParam,
                        format!("{name}: QP {qpn:#x} is not a special QP (MLX)"),
                    )
                }
                (t, Some(_)) => {
                    return refuse(
                        Status::BadParam,
                        format!("{name}: special QP {qpn:#x} with service type {t}"),
                    )
                }
                (st::RC, None) => QpType::Rc,
                (st::UC, None) => QpType::Uc,
                (st::UD, None) => QpType::Ud,
                (t, None) => {
                    return refuse(
                        Status::BadParam,
                        format!("{name}: service type {t} (RD and XRC are not supported)"),
                    )
                }
            }
        } else {
            QpType::from_code(cur.qp_type).unwrap_or(QpType::Rc)
        };
        // The port: the special QP's own, else sched_queue's.
        let port = special.unwrap_or_else(|| m.port());
        let wanted = given(m.opt_param_mask, sqd_event);
        let mask = match rule(state, to, qp_type) {
            // Alternate paths and migration stay in, for the block to refuse.
            Some(r) => {
                attr::STATE
                    | r.required
                    | (r.optional & wanted)
                    | (wanted & (attr::ALT_PATH | attr::PATH_MIG_STATE))
            }
            None => attr::STATE,
        };
        let attrs = attrs_of(&m, qp_type, port, sqd_event);
        let tables = self.qpc_tables();
        let mut w = IcmWindow::new(&self.state.icm, &tables, mem);
        self.qpc_block.modify(qpn, to, mask, attrs, name, &mut w)?;
        // What the block does not keep.
        let mut kept = if creating { m } else { read_copy(&mut w, qpn) };
        if !creating {
            if mask & attr::AV != 0 || (state == Init && to == Rtr) {
                kept.sched_queue = m.sched_queue;
                kept.grh = m.grh;
                kept.mylmc = m.mylmc;
                kept.mgid_index = m.mgid_index;
                kept.static_rate = m.static_rate;
                kept.hop_limit = m.hop_limit;
                kept.tclass_flowlabel = m.tclass_flowlabel;
                kept.rgid_hi = m.rgid_hi;
                kept.rgid_lo = m.rgid_lo;
            }
            if m.opt_param_mask & optpar::COUNTER_INDEX != 0 || (state == Init && to == Rtr) {
                kept.counter_index = m.counter_index;
            }
            if mask & attr::PORT != 0 {
                kept.sched_queue = (kept.sched_queue & !0x40) | (m.sched_queue & 0x40);
            }
        }
        write_copy(&mut w, qpn, &kept);
        crate::icm::window::check(&mut w, "QPC")?;
        self.qp_changes.push(qpn);
        Ok(None)
    }

    /// 2RST_QP: the QP back to RESET, its context and the kept one zeroed
    /// in ICM.
    fn reset_qp(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let qpn = self.qpn(c.in_modifier)?;
        let tables = self.qpc_tables();
        let mut w = IcmWindow::new(&self.state.icm, &tables, mem);
        self.qpc_block.modify(
            qpn,
            Reset,
            attr::STATE,
            QpAttrs::default(),
            "2RST_QP",
            &mut w,
        )?;
        write_copy(&mut w, qpn, &MlxQpMailbox::default());
        crate::icm::window::check(&mut w, "QPC")?;
        self.qp_changes.push(qpn);
        Ok(None)
    }

    /// QUERY_QP.
    fn query_qp(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let qpn = self.qpn(c.in_modifier)?;
        let ctx = self.qp_context(qpn, mem)?;
        let tables = self.qpc_tables();
        let mut w = IcmWindow::new(&self.state.icm, &tables, mem);
        let kept = read_copy(&mut w, qpn);
        crate::icm::window::check(&mut w, "QPC")?;
        let out = with_block_fields(kept, &ctx);
        self.out(mem, c, &out.encode())
    }

    /// The QPC block's context of QP `qpn` (tests, tools).
    pub fn qp(&mut self, qpn: u32, mem: &mut dyn HostMemory) -> Option<QpContext> {
        self.qp_context(qpn, mem).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depths_round_up_to_powers_of_two_as_mlx4_writes_them() {
        // mlx4: fls(n - 1) for n > 0.
        let fls = |x: u32| 32 - x.leading_zeros();
        for n in 1..=16u8 {
            assert_eq!(log_depth(n) as u32, fls(n as u32 - 1), "{n}");
        }
    }

    #[test]
    fn the_mask_names_each_optional_attribute_once() {
        assert_eq!(given(optpar::Q_KEY, false), attr::QKEY);
        assert_eq!(given(optpar::RRE, false), attr::ACCESS_FLAGS);
        assert_eq!(
            given(optpar::COUNTER_INDEX | optpar::VLAN_STRIPPING, false),
            0
        );
        assert_eq!(given(0, true), attr::EN_SQD_ASYNC_NOTIFY);
    }
}
