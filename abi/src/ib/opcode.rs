//! BTH opcodes (IBTA vol. 1, 9.2 table 38): the transport service in the
//! top three bits, the operation in the low five, and for each the
//! extended headers that follow the BTH, in the order the wire has them.

/// The transport service of an opcode (its bits 7..5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    Rc,
    Uc,
    Rd,
    Ud,
    /// Congestion notification (0x80).
    Cnp,
    /// 0xe0..0xff: manufacturer specific (the project's masked atomics).
    Vendor,
}

/// Service prefixes.
pub const RC: u8 = 0x00;
pub const UC: u8 = 0x20;
pub const UD: u8 = 0x60;

/// Operations (the low five bits) shared by RC and UC.
pub const SEND_FIRST: u8 = 0x00;
pub const SEND_MIDDLE: u8 = 0x01;
pub const SEND_LAST: u8 = 0x02;
pub const SEND_LAST_IMM: u8 = 0x03;
pub const SEND_ONLY: u8 = 0x04;
pub const SEND_ONLY_IMM: u8 = 0x05;
pub const WRITE_FIRST: u8 = 0x06;
pub const WRITE_MIDDLE: u8 = 0x07;
pub const WRITE_LAST: u8 = 0x08;
pub const WRITE_LAST_IMM: u8 = 0x09;
pub const WRITE_ONLY: u8 = 0x0a;
pub const WRITE_ONLY_IMM: u8 = 0x0b;
/// RC only.
pub const READ_REQUEST: u8 = 0x0c;
pub const READ_RESP_FIRST: u8 = 0x0d;
pub const READ_RESP_MIDDLE: u8 = 0x0e;
pub const READ_RESP_LAST: u8 = 0x0f;
pub const READ_RESP_ONLY: u8 = 0x10;
pub const ACK: u8 = 0x11;
pub const ATOMIC_ACK: u8 = 0x12;
pub const CMP_SWAP: u8 = 0x13;
pub const FETCH_ADD: u8 = 0x14;
pub const SEND_LAST_INV: u8 = 0x16;
pub const SEND_ONLY_INV: u8 = 0x17;

/// UD's two opcodes, whole.
pub const UD_SEND_ONLY: u8 = UD | SEND_ONLY;
pub const UD_SEND_ONLY_IMM: u8 = UD | SEND_ONLY_IMM;

/// The project's masked atomics on RC (manufacturer-specific range):
/// masked compare-and-swap carries a [`super::eth::MaskedAtomicEth`],
/// masked fetch-and-add an [`super::eth::AtomicEth`] whose `compare` is
/// the no-carry mask. Both are answered with ATOMIC ACKNOWLEDGE.
pub const MASKED_CMP_SWAP: u8 = 0xe0;
pub const MASKED_FETCH_ADD: u8 = 0xe1;

/// Extended headers, as bits of [`Info::eths`], in wire order.
pub mod eth {
    pub const DETH: u8 = 1 << 0;
    pub const RETH: u8 = 1 << 1;
    pub const ATOMIC: u8 = 1 << 2;
    pub const MASKED_ATOMIC: u8 = 1 << 3;
    pub const AETH: u8 = 1 << 4;
    pub const ATOMIC_ACK: u8 = 1 << 5;
    pub const IMM: u8 = 1 << 6;
    pub const IETH: u8 = 1 << 7;
}

/// Where a packet falls in its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Position {
    First,
    Middle,
    Last,
    Only,
}

/// The operation an opcode belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Send,
    Write,
    ReadRequest,
    ReadResponse,
    Ack,
    AtomicAck,
    CmpSwap,
    FetchAdd,
    MaskedCmpSwap,
    MaskedFetchAdd,
}

/// What an opcode means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    pub name: &'static str,
    pub service: Service,
    pub kind: Kind,
    pub position: Position,
    /// Extended headers after the BTH ([`eth`] bits).
    pub eths: u8,
    /// Whether a payload may follow the headers.
    pub payload: bool,
}

impl Info {
    /// Bytes of the extended headers.
    pub fn eth_bytes(&self) -> usize {
        use super::eth as h;
        [
            (eth::DETH, h::Deth::SIZE),
            (eth::RETH, h::Reth::SIZE),
            (eth::ATOMIC, h::AtomicEth::SIZE),
            (eth::MASKED_ATOMIC, h::MaskedAtomicEth::SIZE),
            (eth::AETH, h::Aeth::SIZE),
            (eth::ATOMIC_ACK, h::AtomicAckEth::SIZE),
            (eth::IMM, h::ImmDt::SIZE),
            (eth::IETH, h::Ieth::SIZE),
        ]
        .iter()
        .filter(|(b, _)| self.eths & b != 0)
        .map(|(_, n)| n)
        .sum()
    }

    /// A request (as opposed to a response a requester receives).
    pub fn is_request(&self) -> bool {
        !matches!(self.kind, Kind::ReadResponse | Kind::Ack | Kind::AtomicAck)
    }
}

/// What `opcode` means, or `None` for one this HCA does not speak (RD,
/// CNP, reserved codes, vendor codes other than ours).
pub fn info(opcode: u8) -> Option<Info> {
    use Kind::*;
    use Position::*;
    let service = match opcode >> 5 {
        0 => Service::Rc,
        1 => Service::Uc,
        3 => Service::Ud,
        7 => Service::Vendor,
        _ => return None,
    };
    let op = opcode & 0x1f;
    let i = |name, kind, position, eths, payload| {
        Some(Info {
            name,
            service,
            kind,
            position,
            eths,
            payload,
        })
    };
    match service {
        Service::Ud => match op {
            SEND_ONLY => i("UD SEND_ONLY", Send, Only, eth::DETH, true),
            SEND_ONLY_IMM => i(
                "UD SEND_ONLY_WITH_IMMEDIATE",
                Send,
                Only,
                eth::DETH | eth::IMM,
                true,
            ),
            _ => None,
        },
        Service::Vendor => match opcode {
            MASKED_CMP_SWAP => i(
                "RC MASKED_CMP_SWAP",
                MaskedCmpSwap,
                Only,
                eth::MASKED_ATOMIC,
                false,
            ),
            MASKED_FETCH_ADD => i(
                "RC MASKED_FETCH_ADD",
                MaskedFetchAdd,
                Only,
                eth::ATOMIC,
                false,
            ),
            _ => None,
        },
        Service::Rc | Service::Uc => {
            let rc_only = op >= READ_REQUEST;
            if rc_only && service == Service::Uc {
                return None;
            }
            let rc = service == Service::Rc;
            let name = |r: &'static str, u: &'static str| if rc { r } else { u };
            match op {
                SEND_FIRST => i(name("RC SEND_FIRST", "UC SEND_FIRST"), Send, First, 0, true),
                SEND_MIDDLE => i(
                    name("RC SEND_MIDDLE", "UC SEND_MIDDLE"),
                    Send,
                    Middle,
                    0,
                    true,
                ),
                SEND_LAST => i(name("RC SEND_LAST", "UC SEND_LAST"), Send, Last, 0, true),
                SEND_LAST_IMM => i(
                    name("RC SEND_LAST_WITH_IMMEDIATE", "UC SEND_LAST_WITH_IMMEDIATE"),
                    Send,
                    Last,
                    eth::IMM,
                    true,
                ),
                SEND_ONLY => i(name("RC SEND_ONLY", "UC SEND_ONLY"), Send, Only, 0, true),
                SEND_ONLY_IMM => i(
                    name("RC SEND_ONLY_WITH_IMMEDIATE", "UC SEND_ONLY_WITH_IMMEDIATE"),
                    Send,
                    Only,
                    eth::IMM,
                    true,
                ),
                WRITE_FIRST => i(
                    name("RC RDMA_WRITE_FIRST", "UC RDMA_WRITE_FIRST"),
                    Write,
                    First,
                    eth::RETH,
                    true,
                ),
                WRITE_MIDDLE => i(
                    name("RC RDMA_WRITE_MIDDLE", "UC RDMA_WRITE_MIDDLE"),
                    Write,
                    Middle,
                    0,
                    true,
                ),
                WRITE_LAST => i(
                    name("RC RDMA_WRITE_LAST", "UC RDMA_WRITE_LAST"),
                    Write,
                    Last,
                    0,
                    true,
                ),
                WRITE_LAST_IMM => i(
                    name(
                        "RC RDMA_WRITE_LAST_WITH_IMMEDIATE",
                        "UC RDMA_WRITE_LAST_WITH_IMMEDIATE",
                    ),
                    Write,
                    Last,
                    eth::IMM,
                    true,
                ),
                WRITE_ONLY => i(
                    name("RC RDMA_WRITE_ONLY", "UC RDMA_WRITE_ONLY"),
                    Write,
                    Only,
                    eth::RETH,
                    true,
                ),
                WRITE_ONLY_IMM => i(
                    name(
                        "RC RDMA_WRITE_ONLY_WITH_IMMEDIATE",
                        "UC RDMA_WRITE_ONLY_WITH_IMMEDIATE",
                    ),
                    Write,
                    Only,
                    eth::RETH | eth::IMM,
                    true,
                ),
                READ_REQUEST => i("RC RDMA_READ_REQUEST", ReadRequest, Only, eth::RETH, false),
                READ_RESP_FIRST => i(
                    "RC RDMA_READ_RESPONSE_FIRST",
                    ReadResponse,
                    First,
                    eth::AETH,
                    true,
                ),
                READ_RESP_MIDDLE => i(
                    "RC RDMA_READ_RESPONSE_MIDDLE",
                    ReadResponse,
                    Middle,
                    0,
                    true,
                ),
                READ_RESP_LAST => i(
                    "RC RDMA_READ_RESPONSE_LAST",
                    ReadResponse,
                    Last,
                    eth::AETH,
                    true,
                ),
                READ_RESP_ONLY => i(
                    "RC RDMA_READ_RESPONSE_ONLY",
                    ReadResponse,
                    Only,
                    eth::AETH,
                    true,
                ),
                ACK => i("RC ACKNOWLEDGE", Ack, Only, eth::AETH, false),
                ATOMIC_ACK => i(
                    "RC ATOMIC_ACKNOWLEDGE",
                    AtomicAck,
                    Only,
                    eth::AETH | eth::ATOMIC_ACK,
                    false,
                ),
                CMP_SWAP => i("RC CMP_SWAP", CmpSwap, Only, eth::ATOMIC, false),
                FETCH_ADD => i("RC FETCH_ADD", FetchAdd, Only, eth::ATOMIC, false),
                SEND_LAST_INV => i("RC SEND_LAST_WITH_INVALIDATE", Send, Last, eth::IETH, true),
                SEND_ONLY_INV => i("RC SEND_ONLY_WITH_INVALIDATE", Send, Only, eth::IETH, true),
                _ => None,
            }
        }
        Service::Rd | Service::Cnp => None,
    }
}

/// Every opcode this HCA speaks.
pub fn all() -> impl Iterator<Item = (u8, Info)> {
    (0..=255u8).filter_map(|o| info(o).map(|i| (o, i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_what_the_ibta_lists() {
        // RC 23 opcodes (0x00..0x14, 0x16, 0x17), UC 12, UD 2,
        // and our two masked atomics.
        let n = |s| all().filter(|(_, i)| i.service == s).count();
        assert_eq!(n(Service::Rc), 23);
        assert_eq!(n(Service::Uc), 12);
        assert_eq!(n(Service::Ud), 2);
        assert_eq!(n(Service::Vendor), 2);
        assert!(info(RC | 0x15).is_none() && info(0x40).is_none() && info(0x80).is_none());
        assert_eq!(info(RC | WRITE_ONLY_IMM).unwrap().eth_bytes(), 20);
        assert_eq!(info(UD_SEND_ONLY_IMM).unwrap().eth_bytes(), 12);
        assert_eq!(info(RC | ATOMIC_ACK).unwrap().eth_bytes(), 12);
        assert_eq!(info(MASKED_CMP_SWAP).unwrap().eth_bytes(), 44);
        assert!(!info(RC | READ_RESP_MIDDLE).unwrap().is_request());
        assert!(info(UC | READ_REQUEST).is_none());
    }
}
