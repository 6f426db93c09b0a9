//! The commands, grouped by what they touch. Each module defines its
//! mailboxes once with [`crate::mailbox_layout!`].

pub mod adapter;
pub mod caps;
pub mod fw;
pub mod init_hca;
pub mod mpt;

// The mailboxes the driver reads the same way live in the ABI crate.
pub use hca_abi::cmd::{cq, diag, eq, mad, port};

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
        check(mpt::MlxMpt::FIELDS, mpt::MlxMpt::SIZE, &[]).unwrap();
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
