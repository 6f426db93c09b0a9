//! vhost-user message numbers, flags and features (the vhost-user spec;
//! UML's `arch/um/drivers/vhost_user.h`).

pub const GET_FEATURES: u32 = 1;
pub const SET_FEATURES: u32 = 2;
pub const SET_OWNER: u32 = 3;
pub const RESET_OWNER: u32 = 4;
pub const SET_MEM_TABLE: u32 = 5;
pub const SET_LOG_BASE: u32 = 6;
pub const SET_LOG_FD: u32 = 7;
pub const SET_VRING_NUM: u32 = 8;
pub const SET_VRING_ADDR: u32 = 9;
pub const SET_VRING_BASE: u32 = 10;
pub const GET_VRING_BASE: u32 = 11;
pub const SET_VRING_KICK: u32 = 12;
pub const SET_VRING_CALL: u32 = 13;
pub const SET_VRING_ERR: u32 = 14;
pub const GET_PROTOCOL_FEATURES: u32 = 15;
pub const SET_PROTOCOL_FEATURES: u32 = 16;
pub const GET_QUEUE_NUM: u32 = 17;
pub const SET_VRING_ENABLE: u32 = 18;
pub const SET_BACKEND_REQ_FD: u32 = 21;
pub const GET_CONFIG: u32 = 24;
pub const SET_CONFIG: u32 = 25;

pub fn name(req: u32) -> &'static str {
    match req {
        GET_FEATURES => "GET_FEATURES",
        SET_FEATURES => "SET_FEATURES",
        SET_OWNER => "SET_OWNER",
        RESET_OWNER => "RESET_OWNER",
        SET_MEM_TABLE => "SET_MEM_TABLE",
        SET_LOG_BASE => "SET_LOG_BASE",
        SET_LOG_FD => "SET_LOG_FD",
        SET_VRING_NUM => "SET_VRING_NUM",
        SET_VRING_ADDR => "SET_VRING_ADDR",
        SET_VRING_BASE => "SET_VRING_BASE",
        GET_VRING_BASE => "GET_VRING_BASE",
        SET_VRING_KICK => "SET_VRING_KICK",
        SET_VRING_CALL => "SET_VRING_CALL",
        SET_VRING_ERR => "SET_VRING_ERR",
        GET_PROTOCOL_FEATURES => "GET_PROTOCOL_FEATURES",
        SET_PROTOCOL_FEATURES => "SET_PROTOCOL_FEATURES",
        GET_QUEUE_NUM => "GET_QUEUE_NUM",
        SET_VRING_ENABLE => "SET_VRING_ENABLE",
        SET_BACKEND_REQ_FD => "SET_BACKEND_REQ_FD",
        GET_CONFIG => "GET_CONFIG",
        SET_CONFIG => "SET_CONFIG",
        _ => "unknown",
    }
}

/// Header flags.
pub const VERSION: u32 = 1;
pub const FLAG_REPLY: u32 = 1 << 2;
pub const FLAG_NEED_REPLY: u32 = 1 << 3;

/// Virtio features offered: VERSION_1, and the vhost-user protocol features.
pub const F_PROTOCOL_FEATURES: u64 = 1 << 30;
pub const F_VERSION_1: u64 = 1 << 32;
pub const FEATURES: u64 = F_PROTOCOL_FEATURES | F_VERSION_1;

/// Protocol features offered. BACKEND_REQ is required: without it UML
/// registers the device's interrupt on IRQ 0 and fails.
pub const PF_REPLY_ACK: u64 = 1 << 3;
pub const PF_BACKEND_REQ: u64 = 1 << 5;
pub const PROTOCOL_FEATURES: u64 = PF_REPLY_ACK | PF_BACKEND_REQ;

/// Bytes of a header: request, flags, size.
pub const HEADER: usize = 12;
/// The largest payload accepted (a memory table of 8 regions).
pub const MAX_PAYLOAD: usize = 8 + 32 * 8;
/// Queues: requests and interrupts.
pub const NUM_QUEUES: usize = 2;
/// Largest ring the backend takes.
pub const MAX_RING: u16 = 1024;

/// One region of SET_MEM_TABLE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemRegion {
    pub guest_addr: u64,
    pub size: u64,
    pub user_addr: u64,
    pub mmap_offset: u64,
}

/// Parse SET_MEM_TABLE's payload: `num`, padding, then `num` regions.
/// UML always sends room for two regions (72 bytes) even when it uses one:
/// the payload may be longer than the regions it declares.
pub fn parse_mem_table(p: &[u8]) -> Result<Vec<MemRegion>, String> {
    if p.len() < 8 {
        return Err(format!("memory table of {} bytes", p.len()));
    }
    let num = u32::from_le_bytes(p[0..4].try_into().unwrap()) as usize;
    if num == 0 || 8 + 32 * num > p.len() {
        return Err(format!("{num} regions in a {}-byte memory table", p.len()));
    }
    Ok((0..num)
        .map(|i| {
            let r = &p[8 + 32 * i..8 + 32 * (i + 1)];
            let q = |k: usize| u64::from_le_bytes(r[8 * k..8 * k + 8].try_into().unwrap());
            MemRegion {
                guest_addr: q(0),
                size: q(1),
                user_addr: q(2),
                mmap_offset: q(3),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn umls_two_region_table_with_one_region_parses() {
        let mut p = vec![0u8; 72];
        p[0] = 1;
        p[8..16].copy_from_slice(&0x40_0000u64.to_le_bytes());
        p[16..24].copy_from_slice(&0x100_0000u64.to_le_bytes());
        p[24..32].copy_from_slice(&0x40_0000u64.to_le_bytes());
        let r = parse_mem_table(&p).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].size, 0x100_0000);
        assert!(parse_mem_table(&p[..20]).is_err());
        p[0] = 3;
        assert!(parse_mem_table(&p).is_err());
    }
}
