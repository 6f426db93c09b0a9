//! The HCA's transport engine (IBTA vol. 1, ch. 9 and 10; mlx4's WQE and
//! CQE formats): the requester walks a QP's send queue when its doorbell
//! rings and turns each WQE into packets on the native IB wire; the
//! responder checks each arriving packet and delivers it into a receive
//! queue; completions go through the CQ/EQ engine. It reaches the RTL
//! blocks only through their request ports and host memory only by DMA
//! ([`ports::Ports`]); headers, opcodes and CRCs are `hca_abi::ib`'s.
//!
//! Carried today: UD sends (with immediate) and their delivery; RC and UC
//! SEND (with immediate, with invalidate), RDMA WRITE (with immediate)
//! and, on RC, RDMA READ, cut at the path MTU; RC's acknowledgements,
//! NAKs, go-back-N, the transport and RNR timers and duplicate handling;
//! flushes of a QP in error; atomics, plain and masked, on the atomic
//! unit; UD multicast; the special QPs' MLX service (the driver's
//! headers, the HCA's CRCs). SRQ receives are the transport issue's next
//! step. See `docs/transport.md`.

pub mod completion;
pub mod connected;
pub mod counters;
pub mod dma;
pub mod engine;
pub mod message;
pub mod mlx;
pub mod ports;
pub mod psn;
pub mod queue;
pub mod reliability;
pub mod requester;
pub mod responder;
pub mod ud;
pub mod wqe;

pub use counters::Counters;
pub use engine::Transport;
pub use ports::{PortResult, PortView, Ports};
pub use responder::Outcome;
