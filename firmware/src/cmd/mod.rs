//! The commands, grouped by what they touch. Each module defines its
//! mailboxes once with [`crate::mailbox_layout!`].

pub mod adapter;
pub mod caps;
pub mod fw;
pub mod init_hca;
