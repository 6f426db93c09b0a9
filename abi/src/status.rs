//! Command statuses, as mlx4 firmware returns them in HCR bits 31..24
//! (drivers/net/ethernet/mellanox/mlx4/cmd.c, `CMD_STAT_*`).

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[repr(u8)]
pub enum Status {
    Ok = 0x00,
    /// Internal error, e.g. a bus error on a mailbox DMA.
    InternalErr = 0x01,
    /// Opcode or op modifier not supported.
    BadOp = 0x02,
    /// A parameter not supported or out of range.
    BadParam = 0x03,
    /// The device is not in a state to take the command.
    BadSysState = 0x04,
    BadResource = 0x05,
    ResourceBusy = 0x06,
    ExceedLim = 0x08,
    BadResState = 0x09,
    BadIndex = 0x0a,
    BadNvmem = 0x0b,
    /// ICM mapping error, e.g. not enough auxiliary ICM.
    IcmError = 0x0c,
    BadQpState = 0x10,
    BadSegParam = 0x20,
    RegBound = 0x21,
    LamNotPre = 0x22,
    BadPkt = 0x30,
    BadSize = 0x40,
    MultiFuncReq = 0x50,
}

/// A command's outcome: a value, or the status it is refused with and why.
pub type CmdResult<T> = Result<T, (Status, String)>;

pub fn refuse<T>(s: Status, why: impl Into<String>) -> CmdResult<T> {
    Err((s, why.into()))
}

impl Status {
    /// Every status, in code order.
    pub const ALL: [Status; 19] = [
        Status::Ok,
        Status::InternalErr,
        Status::BadOp,
        Status::BadParam,
        Status::BadSysState,
        Status::BadResource,
        Status::ResourceBusy,
        Status::ExceedLim,
        Status::BadResState,
        Status::BadIndex,
        Status::BadNvmem,
        Status::IcmError,
        Status::BadQpState,
        Status::BadSegParam,
        Status::RegBound,
        Status::LamNotPre,
        Status::BadPkt,
        Status::BadSize,
        Status::MultiFuncReq,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    /// The status with this code, if mlx4 has one.
    pub fn from_code(code: u8) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// A block's answer to a command as firmware reports it: the blocks
    /// answer commands with mlx4's codes; any other code (a data-path
    /// status) would be the firmware's own mistake, an internal error.
    pub fn check_block(code: u8, block: &str, code_name: &str, what: &str) -> CmdResult<()> {
        match Status::from_code(code) {
            Some(Status::Ok) => Ok(()),
            st => refuse(
                st.unwrap_or(Status::InternalErr),
                format!("{what}: the {block} answered {code_name}"),
            ),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::InternalErr => "INTERNAL_ERR",
            Status::BadOp => "BAD_OP",
            Status::BadParam => "BAD_PARAM",
            Status::BadSysState => "BAD_SYS_STATE",
            Status::BadResource => "BAD_RESOURCE",
            Status::ResourceBusy => "RESOURCE_BUSY",
            Status::ExceedLim => "EXCEED_LIM",
            Status::BadResState => "BAD_RES_STATE",
            Status::BadIndex => "BAD_INDEX",
            Status::BadNvmem => "BAD_NVMEM",
            Status::IcmError => "ICM_ERROR",
            Status::BadQpState => "BAD_QP_STATE",
            Status::BadSegParam => "BAD_SEG_PARAM",
            Status::RegBound => "REG_BOUND",
            Status::LamNotPre => "LAM_NOT_PRE",
            Status::BadPkt => "BAD_PKT",
            Status::BadSize => "BAD_SIZE",
            Status::MultiFuncReq => "MULTI_FUNC_REQ",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({:#04x})", self.name(), self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_block_answers_map() {
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
        assert!(Status::ALL.windows(2).all(|w| w[0].code() < w[1].code()));
        assert_eq!(Status::from_code(0x81), None);
        assert!(Status::check_block(0, "TPT", "ok", "x").is_ok());
        assert_eq!(
            Status::check_block(0x40, "CQ", "bad_size", "x")
                .unwrap_err()
                .0,
            Status::BadSize
        );
        assert_eq!(
            Status::check_block(0x83, "TPT", "not_valid", "x")
                .unwrap_err()
                .0,
            Status::InternalErr
        );
    }
}
