//! The HCA's transport engine (IBTA vol. 1, ch. 9 and 10; mlx4's WQE and
//! CQE formats): the requester walks a QP's send queue when its doorbell
//! rings and turns each WQE into packets on the native IB wire; the
//! responder checks each arriving packet and delivers it into a receive
//! queue; completions go through the CQ/EQ engine. It reaches the RTL
//! blocks only through their request ports and host memory only by DMA
//! ([`ports::Ports`]); headers, opcodes and CRCs are `hca_abi::ib`'s.
//!
//! Carried today: UD sends (with immediate) and their delivery, Q_Key
//! and P_Key checks, the GRH area, flush of a QP in error. RC and UC
//! (segmentation, acknowledgements, RDMA, atomics, reliability) and the
//! special QPs' MLX service are the transport issue's next steps. See
//! `docs/transport.md`.

pub mod completion;
pub mod counters;
pub mod dma;
pub mod engine;
pub mod ports;
pub mod queue;
pub mod requester;
pub mod responder;
pub mod ud;
pub mod wqe;

pub use counters::Counters;
pub use engine::Transport;
pub use ports::{PortResult, PortView, Ports};
pub use responder::Outcome;
