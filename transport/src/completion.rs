//! Completions as the engine writes them through the CQ/EQ engine: mlx4's
//! CQE fields for a send, a receive and an error (with the IBTA syndromes
//! mlx4_ib decodes), and the flush of a QP in error.

use crate::ports::Ports;
use hca_abi::entries::cqe::OPCODE_ERROR;
use hca_rtl::cq::Cqe;

/// Error syndromes (`MLX4_CQE_SYNDROME_*`).
pub mod syndrome {
    pub const LOCAL_LENGTH: u8 = 0x01;
    pub const LOCAL_QP_OP: u8 = 0x02;
    pub const LOCAL_PROT: u8 = 0x04;
    pub const WR_FLUSH: u8 = 0x05;
    pub const BAD_RESP: u8 = 0x10;
    pub const LOCAL_ACCESS: u8 = 0x11;
    pub const REMOTE_INVAL_REQ: u8 = 0x12;
    pub const REMOTE_ACCESS: u8 = 0x13;
    pub const REMOTE_OP: u8 = 0x14;
    pub const TRANSPORT_RETRY_EXC: u8 = 0x15;
    pub const RNR_RETRY_EXC: u8 = 0x16;
    pub const REMOTE_ABORTED: u8 = 0x22;

    pub fn name(s: u8) -> &'static str {
        match s {
            LOCAL_LENGTH => "local_length",
            LOCAL_QP_OP => "local_qp_op",
            LOCAL_PROT => "local_prot",
            WR_FLUSH => "wr_flush",
            BAD_RESP => "bad_resp",
            LOCAL_ACCESS => "local_access",
            REMOTE_INVAL_REQ => "remote_inval_req",
            REMOTE_ACCESS => "remote_access",
            REMOTE_OP => "remote_op",
            TRANSPORT_RETRY_EXC => "transport_retry_exc",
            RNR_RETRY_EXC => "rnr_retry_exc",
            REMOTE_ABORTED => "remote_aborted",
            _ => "general",
        }
    }
}

/// Receive CQE opcodes (`MLX4_RECV_OPCODE_*`).
pub mod recv_opcode {
    pub const RDMA_WRITE_IMM: u8 = 0x00;
    pub const SEND: u8 = 0x01;
    pub const SEND_IMM: u8 = 0x02;
    pub const SEND_INVAL: u8 = 0x03;
}

/// A send completion of WQE number `wqe` (its opcode, the bytes it moved).
pub fn send_cqe(qpn: u32, wqe: u32, opcode: u8, bytes: u32) -> Cqe {
    Cqe {
        my_qpn: qpn,
        wqe_index: wqe as u16,
        opcode,
        is_send: true,
        byte_cnt: bytes,
        ..Default::default()
    }
}

/// An error completion.
pub fn error_cqe(qpn: u32, wqe: u32, is_send: bool, syndrome: u8) -> Cqe {
    Cqe {
        my_qpn: qpn,
        wqe_index: wqe as u16,
        opcode: OPCODE_ERROR,
        is_send,
        syndrome,
        ..Default::default()
    }
}

/// Post a CQE, counting a CQ the engine could not write to.
pub fn post(ports: &mut dyn Ports, c: &mut crate::Counters, cqn: u32, cqe: Cqe, solicited: bool) {
    if cqe.opcode == OPCODE_ERROR {
        c.error_completions += 1;
        c.count(syndrome::name(cqe.syndrome));
    } else {
        c.completions += 1;
    }
    match ports.complete(cqn, cqe, solicited) {
        Ok(hca_rtl::cq::status::OK) => {}
        Ok(_) | Err(_) => c.count("cq_error"),
    }
}
