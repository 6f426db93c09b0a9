//! Command mailboxes and their constants both sides read the same way,
//! each defined once with [`crate::mailbox_layout!`]: the EQ and CQ
//! contexts, SET_PORT's InfiniBand form, DIAG_RPRT's counters, and the MAD
//! header and SMP attributes MAD_IFC carries, QUERY_FW, MOD_STAT_CFG,
//! QUERY_DEV_CAP, QUERY_PORT, QUERY_ADAPTER, INIT_HCA, the MPT entry
//! (`mr`), the QP context (`qp`), the SRQ context (`srq`) and the
//! multicast group entry (`mcg`). The values the firmware answers with stay in `hca-firmware`,
//! each in the file of its object (`fw.rs`, `caps.rs`, `hca.rs`, ...), and
//! so does the MPT entry's translation to the TPT's (`mr.rs`).

pub mod adapter;
pub mod caps;
pub mod cq;
pub mod diag;
pub mod eq;
pub mod fw;
pub mod init_hca;
pub mod mad;
pub mod mcg;
pub mod mr;
pub mod port;
pub mod qp;
pub mod srq;

#[cfg(test)]
mod tests {
    use crate::mailbox::check;

    #[test]
    fn every_mailbox_layout_is_sound() {
        use super::*;
        check(fw::QueryFwOut::FIELDS, fw::QueryFwOut::SIZE, &[]).unwrap();
        check(fw::ModStatCfgIn::FIELDS, fw::ModStatCfgIn::SIZE, &[]).unwrap();
        check(
            fw::ModStatCfgQueryOut::FIELDS,
            fw::ModStatCfgQueryOut::SIZE,
            &[],
        )
        .unwrap();
        check(
            adapter::QueryAdapterOut::FIELDS,
            adapter::QueryAdapterOut::SIZE,
            &[],
        )
        .unwrap();
        check(
            caps::QueryDevCapOut::FIELDS,
            caps::QueryDevCapOut::SIZE,
            &[],
        )
        .unwrap();
        check(caps::QueryPortOut::FIELDS, caps::QueryPortOut::SIZE, &[]).unwrap();
        check(eq::EqContext::FIELDS, eq::EqContext::SIZE, &[]).unwrap();
        check(port::SetPortIbIn::FIELDS, port::SetPortIbIn::SIZE, &[]).unwrap();
        check(
            diag::TransportErrors::FIELDS,
            diag::TransportErrors::SIZE,
            &[],
        )
        .unwrap();
        // The log size sits in the top byte of the word whose low 24 bits
        // name the UAR page.
        check(cq::CqContext::FIELDS, cq::CqContext::SIZE, &[]).unwrap();
        check(mr::MlxMpt::FIELDS, mr::MlxMpt::SIZE, &[]).unwrap();
        check(qp::MlxQpMailbox::FIELDS, qp::MlxQpMailbox::SIZE, &[]).unwrap();
        check(mcg::MgmHead::FIELDS, mcg::MgmHead::SIZE, &[]).unwrap();
        check(mad::MadHeader::FIELDS, mad::MadHeader::SIZE, &[]).unwrap();
        check(mad::PortInfo::FIELDS, mad::PortInfo::SIZE, &[]).unwrap();
        check(mad::NodeInfo::FIELDS, mad::NodeInfo::SIZE, &[]).unwrap();
        // mlx4 packs each table's log size into the low byte of its base.
        check(
            init_hca::InitHca::FIELDS,
            init_hca::InitHca::SIZE,
            &[
                ("qpc_base", "log_num_qps"),
                ("srqc_base", "log_num_srqs"),
                ("cqc_base", "log_num_cqs"),
                ("eqc_base", "log_num_eqs"),
                ("rdmarc_base", "log_rd_per_qp"),
                ("eqe_cqe_sizes", "eqe_cqe_stride"),
            ],
        )
        .unwrap();
    }
}
