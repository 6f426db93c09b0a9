//! The InfiniBand wire (IBTA vol. 1, ch. 7 and 9): the route and transport
//! headers and the extended transport headers, each defined once; the
//! opcodes with the headers each carries; the ICRC and VCRC; and whole
//! packets, built and parsed with the framing rules between them. The
//! transport engine, the fabric, the captures and the driver's special QPs
//! (which write their own headers) all use these.

pub mod crc;
pub mod eth;
pub mod headers;
pub mod opcode;
pub mod packet;
pub mod sa;
pub mod smp;

pub use headers::{Bth, Gid, Grh, Lrh};
pub use packet::{Headers, Malformed, Packet};
