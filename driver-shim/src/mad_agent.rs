//! A port's management agent, as ib_mad and mlx4_ib run it: QP0 and QP1
//! created and taken to RTS, receive buffers posted on both, and each
//! management datagram that arrives dispatched. A subnet management
//! request on QP0 (directed-route or LID-routed) goes to the firmware's
//! SMA through MAD_IFC and its answer back the way the request came; a
//! GMP on QP1 waits for the client that asked for it (the SA client,
//! `crate::sa_client`). This is how a subnet manager elsewhere on the
//! fabric reaches the port: the driver must be polled ([`MadAgent::serve`])
//! for the port to answer, as Linux's MAD layer must run.

use crate::cq::{Cq, Wc};
use crate::device::Device;
use crate::dma::DmaBuf;
use crate::error::{Error, Result};
use crate::mr::{access, Mr};
use crate::pd::Pd;
use crate::qp::{Qp, Sge};
use crate::special::{MlxSend, Special, GSI_QKEY};
use hca_abi::cmd::mad::{
    CLASS_SUBN_DIRECTED_ROUTE, CLASS_SUBN_LID_ROUTED, MAD_BYTES, METHOD_GET, METHOD_SET,
};
use hca_abi::ib::headers::PERMISSIVE_LID;
use hca_abi::ib::smp::{Route, Smp};
use hca_abi::pci::PciFunction;
use std::collections::{BTreeMap, VecDeque};

/// A receive buffer: the 40-byte GRH area, then the MAD.
const GRH: u64 = 40;
const SLOT: u64 = GRH + MAD_BYTES as u64;
/// Receives posted on each special QP.
pub const DEPTH: u32 = 32;
/// GMPs kept for clients before the oldest is dropped.
const GMP_BACKLOG: usize = 256;
/// Methods a subnet management agent answers (Get, Set); the rest
/// (GetResp, Trap...) are an SM's to read.
const SMA_METHODS: [u8; 2] = [METHOD_GET, METHOD_SET];

/// A GMP that arrived on QP1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gmp {
    pub slid: u16,
    pub src_qp: u32,
    pub sl: u8,
    pub mad: Vec<u8>,
}

/// What the agent did, by reason.
pub type AgentCounters = BTreeMap<&'static str, u64>;

/// Port `port`'s QP0 and QP1 and their buffers.
pub struct MadAgent {
    pub port: u8,
    pub pd: Pd,
    pub mr: Mr,
    pub cq: Cq,
    pub qp0: Qp,
    pub qp1: Qp,
    rx: DmaBuf,
    tx: DmaBuf,
    tx_next: u64,
    /// Posted receive slots per QP, oldest first (UD completes in order).
    posted: BTreeMap<u32, VecDeque<u64>>,
    gmps: VecDeque<Gmp>,
    /// The SA client's last transaction id.
    pub(crate) tid: u64,
    pub counters: AgentCounters,
}

impl MadAgent {
    pub(crate) fn count(&mut self, what: &'static str) {
        *self.counters.entry(what).or_default() += 1;
    }

    /// The GMPs that arrived since the last call, oldest first.
    pub fn take_gmps(&mut self) -> Vec<Gmp> {
        self.gmps.drain(..).collect()
    }

    /// Take the first waiting GMP `f` accepts.
    pub fn take_gmp(&mut self, mut f: impl FnMut(&Gmp) -> bool) -> Option<Gmp> {
        let i = self.gmps.iter().position(&mut f)?;
        self.gmps.remove(i)
    }
}

impl<P: PciFunction> Device<P> {
    /// Start port `port`'s agent: a PD, a DMA MR, one CQ for both QPs,
    /// QP0 and QP1 at RTS, every receive posted.
    pub fn start_mad_agent(&mut self, port: u8) -> Result<MadAgent> {
        let pd = self.alloc_pd()?;
        let mr = self.get_dma_mr(&pd, access::LOCAL_WRITE)?;
        let cq = self.create_cq(4 * DEPTH, 0)?;
        let qp0 = self.create_special_qp(&pd, port, Special::Smi, &cq, DEPTH)?;
        let qp1 = self.create_special_qp(&pd, port, Special::Gsi, &cq, DEPTH)?;
        let rx = self.memory().alloc(2 * DEPTH as u64 * SLOT, 64)?;
        let tx = self.memory().alloc(DEPTH as u64 * MAD_BYTES as u64, 64)?;
        let mut a = MadAgent {
            port,
            pd,
            mr,
            cq,
            qp0,
            qp1,
            rx,
            tx,
            tx_next: 0,
            posted: BTreeMap::new(),
            gmps: VecDeque::new(),
            tid: 0,
            counters: AgentCounters::new(),
        };
        for k in 0..2 * DEPTH as u64 {
            let qp = if k < DEPTH as u64 { a.qp0 } else { a.qp1 };
            self.agent_post_recv(&mut a, qp, rx.addr + k * SLOT)?;
        }
        Ok(a)
    }

    /// Stop the agent: both QPs destroyed, the CQ, MR, PD and buffers
    /// freed.
    pub fn stop_mad_agent(&mut self, a: MadAgent) -> Result<()> {
        let r = self
            .destroy_qp(&a.qp0)
            .and(self.destroy_qp(&a.qp1))
            .and(self.destroy_cq(&a.cq))
            .and(self.dereg_mr(&a.mr))
            .and(self.dealloc_pd(&a.pd));
        self.memory().free(a.rx);
        self.memory().free(a.tx);
        r
    }

    fn agent_post_recv(&mut self, a: &mut MadAgent, qp: Qp, at: u64) -> Result<()> {
        let sge = Sge {
            addr: at,
            len: SLOT as u32,
            lkey: a.mr.lkey,
        };
        self.post_recv(&qp, &[sge])?;
        a.posted.entry(qp.qpn).or_default().push_back(at);
        Ok(())
    }

    /// Send one MAD from port `a.port`'s QP0 (`smi`) or QP1. The MAD is
    /// copied into the agent's send ring; a ring slot is reused once
    /// `DEPTH` later sends have been posted, so the send CQ must be kept
    /// drained (`serve` does).
    pub fn agent_send(
        &mut self,
        a: &mut MadAgent,
        smi: bool,
        m: &MlxSend,
        mad: &[u8],
    ) -> Result<()> {
        if mad.len() != MAD_BYTES {
            return Err(Error::InvalidArgument(format!(
                "a MAD is {MAD_BYTES} bytes, not {}",
                mad.len()
            )));
        }
        let at = a.tx.addr + (a.tx_next % DEPTH as u64) * MAD_BYTES as u64;
        a.tx_next += 1;
        self.memory().write(at, mad)?;
        let mut m = m.clone();
        m.payload = vec![Sge {
            addr: at,
            len: MAD_BYTES as u32,
            lkey: a.mr.lkey,
        }];
        let qp = if smi { a.qp0 } else { a.qp1 };
        self.post_mlx(&qp, &m)?;
        a.count(if smi { "smp_sent" } else { "gmp_sent" });
        Ok(())
    }

    /// Send a GMP from QP1 to `dlid`'s QP1 (P_Key index 0, QP1's Q_Key).
    pub fn agent_send_gmp(
        &mut self,
        a: &mut MadAgent,
        dlid: u16,
        sl: u8,
        mad: &[u8],
    ) -> Result<()> {
        let m = MlxSend {
            dlid,
            path_bits: 0,
            sl,
            dest_qp: 1,
            qkey: GSI_QKEY,
            pkey: 0,
            psn: 0,
            payload: Vec::new(),
            signaled: true,
        };
        self.agent_send(a, false, &m, mad)
    }

    /// Dispatch every management datagram that arrived: SMA requests
    /// answered, GMPs kept for clients, receives reposted. Returns the
    /// datagrams taken.
    pub fn serve(&mut self, a: &mut MadAgent) -> Result<usize> {
        let mut taken = 0;
        loop {
            let wcs = self.poll_cq(&a.cq, 16)?;
            if wcs.is_empty() {
                return Ok(taken);
            }
            for wc in wcs {
                if wc.is_send {
                    if wc.status != 0 {
                        a.count("send_error");
                    }
                    continue;
                }
                taken += 1;
                self.agent_receive(a, &wc)?;
            }
        }
    }

    fn agent_receive(&mut self, a: &mut MadAgent, wc: &Wc) -> Result<()> {
        let Some(at) = a.posted.get_mut(&wc.qpn).and_then(|q| q.pop_front()) else {
            a.count("receive_unknown_slot");
            return Ok(());
        };
        let qp = if wc.qpn == a.qp0.qpn { a.qp0 } else { a.qp1 };
        if wc.status != 0 {
            // Flushed: the QP went to ERR; the slot is not reposted.
            a.count("receive_error");
            return Ok(());
        }
        let mut mad = vec![0u8; MAD_BYTES];
        self.memory().read(at + GRH, &mut mad)?;
        let short = (wc.byte_len as u64) < SLOT;
        self.agent_post_recv(a, qp, at)?;
        if short {
            a.count("mad_short");
            return Ok(());
        }
        if qp.qpn == a.qp0.qpn {
            self.answer_smp(a, wc, mad)
        } else {
            a.count("gmp_received");
            if a.gmps.len() >= GMP_BACKLOG {
                a.gmps.pop_front();
                a.count("gmp_backlog_dropped");
            }
            a.gmps.push_back(Gmp {
                slid: wc.slid,
                src_qp: wc.src_qp,
                sl: wc.sl,
                mad,
            });
            Ok(())
        }
    }

    /// An SMP on QP0: a request for this port's SMA goes through MAD_IFC
    /// and the answer back along its path (directed route) or to its
    /// sender's LID.
    fn answer_smp(&mut self, a: &mut MadAgent, wc: &Wc, mad: Vec<u8>) -> Result<()> {
        let class = mad[1];
        let directed = class == CLASS_SUBN_DIRECTED_ROUTE;
        if !directed && class != CLASS_SUBN_LID_ROUTED {
            a.count("smp_bad_class");
            return Ok(());
        }
        if !SMA_METHODS.contains(&mad[3]) {
            // An answer or a trap: for a subnet manager, and none runs here.
            a.count("smp_not_for_sma");
            return Ok(());
        }
        let mut smp = Smp::new(mad);
        if directed && smp.arrive(false, a.port, 2) != Route::Local {
            a.count("smp_dr_discarded");
            return Ok(());
        }
        let reply = self.mad_ifc(a.port, &smp.0)?;
        let mut r = Smp::new(reply);
        let dlid = if directed {
            match r.send() {
                Route::Out(p) if p == a.port => {}
                _ => {
                    a.count("smp_dr_reply_discarded");
                    return Ok(());
                }
            }
            // The directed part reaches back to the requester: the
            // permissive LID, unless its route began LID-routed.
            if r.dr_slid() == PERMISSIVE_LID {
                PERMISSIVE_LID
            } else {
                r.dr_slid()
            }
        } else {
            wc.slid
        };
        let m = MlxSend {
            dlid,
            path_bits: 0,
            sl: 0,
            dest_qp: 0,
            qkey: 0,
            pkey: 0,
            psn: 0,
            payload: Vec::new(),
            signaled: true,
        };
        self.agent_send(a, true, &m, &r.0)?;
        a.count("smp_answered");
        Ok(())
    }
}
