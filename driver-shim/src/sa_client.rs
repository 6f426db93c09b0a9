//! The subnet administrator's client (ib_sa's role): PathRecord and
//! MCMemberRecord queries sent from QP1 to the master SM's LID (PortInfo's
//! MasterSMLID), their answers matched by transaction id, retried when
//! none comes. A query that runs out of attempts is a timeout; an answer
//! with a MAD status other than 0 is that status.

use crate::device::Device;
use crate::error::{Error, Result};
use crate::mad_agent::MadAgent;
use hca_abi::cmd::mad::{ATTR_GUID_INFO, STATUS_DIRECTION};
use hca_abi::ib::headers::Gid;
use hca_abi::ib::sa::{
    self, attr, join, mc_comp, method, path_comp, McMemberRecord, PathRecord, SaHeader,
};
use hca_abi::pci::PciFunction;

/// Polls of the device an attempt waits for its answer.
pub const POLLS_PER_ATTEMPT: u32 = 2000;
/// Attempts before a query times out (opensm's clients try 3 times).
pub const ATTEMPTS: u32 = 4;

/// One multicast group as the SA answered a join.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct McGroup {
    pub mgid: Gid,
    pub record: McMemberRecord,
}

/// A path as the SA answered it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Path {
    pub dgid: Gid,
    pub sgid: Gid,
    pub record: PathRecord,
}

impl<P: PciFunction> Device<P> {
    /// Port `port`'s GID 0: the subnet prefix the SM set, the port GUID.
    pub fn port_gid(&mut self, port: u8) -> Result<Gid> {
        let pi = self.port_info(port)?;
        let guids = self.local_smp(port, hca_abi::cmd::mad::METHOD_GET, ATTR_GUID_INFO, 0, &[])?;
        let mut g = [0u8; 16];
        g[..8].copy_from_slice(&pi.gid_prefix.to_be_bytes());
        g[8..].copy_from_slice(&guids[..8]);
        Ok(g)
    }

    /// One SA request; the answer's record bytes (from the SA MAD's data).
    pub fn sa_request(
        &mut self,
        a: &mut MadAgent,
        m: u8,
        attr_id: u16,
        component_mask: u64,
        record: &[u8],
    ) -> Result<Vec<u8>> {
        let pi = self.port_info(a.port)?;
        if pi.port_state != 4 || pi.master_sm_lid == 0 {
            return Err(Error::Device(format!(
                "port {} is not ACTIVE with a subnet manager (state {}, SM LID {})",
                a.port, pi.port_state, pi.master_sm_lid
            )));
        }
        a.tid += 1;
        let tid = (a.port as u64) << 56 | a.tid;
        let h = SaHeader {
            base_version: 1,
            mgmt_class: sa::CLASS_SUBN_ADM,
            class_version: sa::CLASS_VERSION,
            method: m,
            tid,
            attr_id,
            component_mask,
            ..Default::default()
        };
        let mad = sa::mad(&h, record);
        for _ in 0..ATTEMPTS {
            self.agent_send_gmp(a, pi.master_sm_lid, pi.master_sm_sl, &mad)?;
            for _ in 0..POLLS_PER_ATTEMPT {
                self.serve(a)?;
                let answer = a.take_gmp(|g| {
                    let r = SaHeader::decode(&g.mad);
                    r.tid == tid && r.mgmt_class == sa::CLASS_SUBN_ADM && r.method & 0x80 != 0
                });
                if let Some(g) = answer {
                    let r = SaHeader::decode(&g.mad);
                    let status = r.status & !STATUS_DIRECTION;
                    if status != 0 {
                        return Err(Error::Mad {
                            attr: attr_id,
                            status,
                        });
                    }
                    return Ok(g.mad[sa::DATA..].to_vec());
                }
            }
            a.count("sa_retry");
        }
        Err(Error::Timeout {
            name: "SA query",
            what: format!(
                "attribute {attr_id:#06x} to SM LID {} after {ATTEMPTS} attempts",
                pi.master_sm_lid
            ),
        })
    }

    /// PathRecord Get: the path from this port to `dgid`.
    pub fn path_record(&mut self, a: &mut MadAgent, dgid: &Gid) -> Result<Path> {
        let sgid = self.port_gid(a.port)?;
        let mut rec = PathRecord {
            numb_path: 1,
            reversible: true,
            ..Default::default()
        }
        .encode();
        sa::set_gid(&mut rec, sa::PATH_DGID, dgid);
        sa::set_gid(&mut rec, sa::PATH_SGID, &sgid);
        let mask = path_comp::DGID | path_comp::SGID;
        let r = self.sa_request(a, method::GET, attr::PATH_RECORD, mask, &rec)?;
        Ok(Path {
            dgid: sa::gid_at(&r, sa::PATH_DGID),
            sgid: sa::gid_at(&r, sa::PATH_SGID),
            record: PathRecord::decode(&r),
        })
    }

    /// MCMemberRecord Set: join `mgid` as a full member (the group exists,
    /// or is created with `qkey` and the default partition).
    pub fn mc_join(&mut self, a: &mut MadAgent, mgid: &Gid, qkey: u32) -> Result<McGroup> {
        let port_gid = self.port_gid(a.port)?;
        let mut rec = McMemberRecord {
            qkey,
            pkey: hca_abi::ib::headers::DEFAULT_PKEY,
            join_state: join::FULL,
            ..Default::default()
        }
        .encode();
        sa::set_gid(&mut rec, sa::MC_MGID, mgid);
        sa::set_gid(&mut rec, sa::MC_PORT_GID, &port_gid);
        let r = self.sa_request(
            a,
            method::SET,
            attr::MC_MEMBER_RECORD,
            mc_comp::CREATE,
            &rec,
        )?;
        Ok(McGroup {
            mgid: sa::gid_at(&r, sa::MC_MGID),
            record: McMemberRecord::decode(&r),
        })
    }

    /// MCMemberRecord Delete: leave `mgid`.
    pub fn mc_leave(&mut self, a: &mut MadAgent, mgid: &Gid) -> Result<()> {
        let port_gid = self.port_gid(a.port)?;
        let mut rec = McMemberRecord {
            join_state: join::FULL,
            ..Default::default()
        }
        .encode();
        sa::set_gid(&mut rec, sa::MC_MGID, mgid);
        sa::set_gid(&mut rec, sa::MC_PORT_GID, &port_gid);
        let mask = mc_comp::MGID | mc_comp::PORT_GID | mc_comp::JOIN_STATE;
        self.sa_request(a, method::DELETE, attr::MC_MEMBER_RECORD, mask, &rec)?;
        Ok(())
    }
}
