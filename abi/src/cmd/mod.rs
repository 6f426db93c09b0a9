//! Command mailboxes and their constants both sides read the same way,
//! each defined once with [`crate::mailbox_layout!`]: the EQ and CQ
//! contexts, SET_PORT's InfiniBand form, DIAG_RPRT's counters, and the MAD
//! header and SMP attributes MAD_IFC carries. The mailboxes whose values are
//! the firmware's own (QUERY_FW, QUERY_DEV_CAP, INIT_HCA, the MPT entry)
//! stay in `hca-firmware`'s `cmd` for now, beside the values.

pub mod cq;
pub mod diag;
pub mod eq;
pub mod mad;
pub mod port;
