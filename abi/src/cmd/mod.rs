//! Command mailboxes and their constants both sides read the same way,
//! each defined once with [`crate::mailbox_layout!`]: the EQ and CQ
//! contexts, SET_PORT's InfiniBand form, DIAG_RPRT's counters, and the MAD
//! header and SMP attributes MAD_IFC carries, QUERY_FW, MOD_STAT_CFG,
//! QUERY_DEV_CAP, QUERY_PORT, QUERY_ADAPTER, INIT_HCA and the MPT entry
//! (`mr`). The values the firmware answers with stay in `hca-firmware`'s
//! `cmd`, and so does the MPT entry's translation to the TPT's.

pub mod adapter;
pub mod caps;
pub mod cq;
pub mod diag;
pub mod eq;
pub mod fw;
pub mod init_hca;
pub mod mad;
pub mod mr;
pub mod port;
