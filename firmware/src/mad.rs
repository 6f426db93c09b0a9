//! MAD_IFC and the subnet management agent behind it (mlx4_ib's mad.c
//! seen from the device): the firmware's answers to the SMPs the
//! driver hands it through MAD_IFC (Get of NodeDescription, NodeInfo,
//! GUIDInfo, PortInfo, P_KeyTable, SLtoVLMappingTable, VLArbitrationTable).
//!
//! A port with no fabric link is down (physical state Polling), its LID
//! unassigned; once its link trains it is INIT, and the subnet manager's
//! Set(PortInfo) gives it its LID and takes it to ARMED and ACTIVE
//! (`crate::sma`). The P_Key table holds the default partition 0xffff (a
//! Set of it is answered with what it holds). Trap and every other
//! attribute or method answer a GetResp whose MAD status says what was
//! not supported, as an SMA does.

pub use hca_abi::cmd::mad::*;

use crate::cmd::{Command, CommandSpec, Mailbox, OpMods};
use crate::hostmem::HostMemory;
use crate::opcode as op;
use crate::port;
use crate::port::{port_number, PortConfig};
use crate::sma::{self, PortSma};
use crate::status::CmdResult;
use crate::Firmware;

/// MAD_IFC's op modifier bits: ignore M_Key, ignore B_Key, wire MAD.
const MAD_IFC_OPMODS: u8 = 0x7;

/// A MAD, in the inbox and the outbox alike.
const MAD: Option<Mailbox> = Some(Mailbox {
    name: "MAD",
    bytes: MAD_BYTES,
});

pub(crate) const COMMANDS: &[CommandSpec] = &[CommandSpec {
    opcode: op::MAD_IFC,
    op_mods: OpMods::Bits(MAD_IFC_OPMODS),
    boot: false,
    inbox: MAD,
    outbox: MAD,
    what: "the subnet management agent: the 256-byte MAD in the inbox, the GetResp in the outbox (below); op modifier bits 1, 2, 4: ignore M_Key, ignore B_Key, MAD from the wire",
    run: |f, c, mem| f.mad_ifc(c, mem),
}];

impl Firmware {
    /// MAD_IFC: the 256-byte MAD in the inbox, its answer in the outbox.
    /// in_modifier: the port (bits 15..0); op modifier bits: 1 ignore the
    /// M_Key, 2 ignore the B_Key, 4 the MAD came off the wire (its work
    /// completion follows it in the inbox). Keys are not checked (no
    /// subnet manager has set one).
    fn mad_ifc(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let n = port_number(c.in_modifier & 0xffff)? as u32;
        let mad = self.inbox(mem, c, MAD_BYTES)?;
        let node = self.node_guid;
        let (answer, change) = process(&mad, n as u8, node, &self.state.ports, &mut self.state.sma);
        if let Some(subtype) = change {
            self.port_change(n as u8, subtype, mem)?;
        }
        self.out(mem, c, &answer)
    }
}

/// The node description mlx4_ib copies to ib_device.node_desc.
pub const NODE_DESC: &str = "OPENHCA simulated ConnectX-3";
/// The subnet prefix before a subnet manager sets one (fe80::/64).
pub const DEFAULT_GID_PREFIX: u64 = 0xfe80_0000_0000_0000;
/// PortInfo's CapabilityMask before SET_PORT sets one.
pub const DEFAULT_CAP_MASK: u32 = cap::SYS_IMAGE_GUID_SUP;
/// The default partition, full membership.
pub const DEFAULT_PKEY: u16 = 0xffff;

/// Answer one MAD arriving on `port` of node `node` (its GUID); `ports`
/// is what SET_PORT left,
/// `sma` what the subnet manager set. Returns the answer and the
/// PORT_CHANGE subtype a Set caused, if any.
pub fn process(
    mad: &[u8],
    port: u8,
    node: u64,
    ports: &[PortConfig],
    sma: &mut [PortSma],
) -> (Vec<u8>, Option<u8>) {
    let mut out = vec![0u8; MAD_BYTES];
    let n = mad.len().min(MAD_BYTES);
    out[..n].copy_from_slice(&mad[..n]);
    let h = MadHeader::decode(&out);
    let mut status = 0u16;
    let mut change = None;
    let mut data = vec![0u8; 64];
    if h.base_version != 1 || h.class_version != 1 {
        status = STATUS_BAD_VERSION;
    } else if !matches!(
        h.mgmt_class,
        CLASS_SUBN_LID_ROUTED | CLASS_SUBN_DIRECTED_ROUTE
    ) {
        status = STATUS_UNSUPPORTED_METHOD_ATTRIB_FOR_CLASS;
    } else if h.method == METHOD_SET {
        let set = PortInfo::decode(&out[SMP_DATA..SMP_DATA + 64]);
        let applied = match h.attr_id {
            ATTR_PORT_INFO => set_port_info(h.attr_mod, port, &set, sma),
            // opensm writes the table it read; it keeps the default.
            ATTR_PKEY_TABLE => Ok(None),
            _ => Err(STATUS_UNSUPPORTED_ATTRIBUTE),
        };
        match applied
            .and_then(|c| get(h.attr_id, h.attr_mod, port, node, ports, sma).map(|d| (c, d)))
        {
            Ok((c, d)) => {
                change = c;
                data = d;
            }
            Err(s) => status = s,
        }
    } else if h.method != METHOD_GET {
        status = STATUS_UNSUPPORTED_METHOD;
    } else {
        match get(h.attr_id, h.attr_mod, port, node, ports, sma) {
            Ok(d) => data = d,
            Err(s) => status = s,
        }
    }
    let mut r = h;
    r.method = METHOD_GET_RESP;
    r.status = status
        | if h.mgmt_class == CLASS_SUBN_DIRECTED_ROUTE {
            STATUS_DIRECTION
        } else {
            0
        };
    let hdr = r.encode();
    // Only the fields the header layout names change; the rest stays.
    for f in MadHeader::FIELDS {
        let v = f.get(&hdr);
        f.set(&mut out, v);
    }
    if status == 0 {
        out[SMP_DATA..SMP_DATA + 64].copy_from_slice(&data);
    }
    // A directed-route request that reached the end of its path: the
    // agent steps the hop pointer past the end (IBTA C14-9:3), so the
    // answer leaves back along the return path whatever the path's length
    // (inferred: Linux's MAD layer leaves the pointer where it arrived and
    // relies on the agent to step it).
    if h.mgmt_class == CLASS_SUBN_DIRECTED_ROUTE {
        let (ptr, cnt) = (out[6], out[7]);
        if cnt != 0 && ptr == cnt {
            out[6] = cnt + 1;
        }
    }
    (out, change)
}

/// The port a PortInfo attribute modifier names (0: the one asked
/// through).
fn port_of(attr_mod: u32, port: u8) -> Result<u8, u16> {
    match attr_mod {
        0 => Ok(port),
        m if m <= port::NUM_PORTS as u32 => Ok(m as u8),
        _ => Err(STATUS_INVALID_VALUE),
    }
}

fn set_port_info(
    attr_mod: u32,
    port: u8,
    pi: &PortInfo,
    sma: &mut [PortSma],
) -> Result<Option<u8>, u16> {
    let p = port_of(attr_mod, port)?;
    sma.get_mut(p as usize - 1)
        .ok_or(STATUS_INVALID_VALUE)?
        .set(pi)
}

/// A class other than subnet management: the agent takes none.
const STATUS_UNSUPPORTED_METHOD_ATTRIB_FOR_CLASS: u16 = STATUS_UNSUPPORTED_ATTRIBUTE;

fn get(
    attr: u16,
    attr_mod: u32,
    port: u8,
    node: u64,
    ports: &[PortConfig],
    sma: &[PortSma],
) -> Result<Vec<u8>, u16> {
    let pc = port::port_caps();
    let cfg = ports.get(port as usize - 1).copied().unwrap_or_default();
    match attr {
        ATTR_NODE_DESC => {
            let mut d = vec![0u8; 64];
            d[..NODE_DESC.len()].copy_from_slice(NODE_DESC.as_bytes());
            Ok(d)
        }
        ATTR_NODE_INFO => Ok(NodeInfo {
            base_version: 1,
            class_version: 1,
            node_type: 1,
            num_ports: port::NUM_PORTS,
            system_image_guid: node,
            node_guid: node,
            port_guid: port::port_guid(node, port),
            partition_cap: 1 << pc.log_max_pkeys,
            device_id: 0x1003,
            revision: 0,
            local_port_num: port,
            vendor_id: (node >> 40) as u32,
        }
        .encode()),
        ATTR_PORT_INFO => {
            let p = port_of(attr_mod, port)?;
            let cfg = ports.get(p as usize - 1).copied().unwrap_or_default();
            let s = sma.get(p as usize - 1).copied().unwrap_or_default();
            Ok(PortInfo {
                gid_prefix: if s.gid_prefix != 0 {
                    s.gid_prefix
                } else {
                    DEFAULT_GID_PREFIX
                },
                lid: s.lid,
                master_sm_lid: s.sm_lid,
                lmc: s.lmc,
                master_sm_sl: s.sm_sl,
                subnet_timeout: s.subnet_timeout,
                capability_mask: if cfg.configured {
                    cfg.capability_mask
                } else {
                    DEFAULT_CAP_MASK
                },
                local_port_num: p,
                link_width_enabled: pc.width,
                link_width_supported: pc.width,
                link_width_active: 2,
                link_speed_supported: 7,
                port_state: s.reported(),
                port_phys_state: if s.trained {
                    sma::phys::LINK_UP
                } else {
                    sma::phys::POLLING
                },
                link_down_default_state: 2,
                link_speed_active: 1,
                link_speed_enabled: 7,
                neighbor_mtu: if cfg.mtu_cap != 0 {
                    cfg.mtu_cap
                } else {
                    pc.ib_mtu
                },
                vl_cap: pc.max_vl,
                mtu_cap: pc.ib_mtu,
                // What SET_PORT configured (a count), in PortInfo's
                // encoding (1: VL0, 2: VL0-1, 3: VL0-3, 4: VL0-7).
                operational_vls: if cfg.vl_cap != 0 {
                    cfg.vl_cap.ilog2() as u8 + 1
                } else {
                    pc.max_vl
                },
                guid_cap: 1 << pc.log_max_gids,
                ..Default::default()
            }
            .encode())
        }
        ATTR_GUID_INFO => {
            // Eight GUIDs per block; index 0 is the port GUID.
            let blocks = (1u32 << pc.log_max_gids).div_ceil(8);
            if attr_mod >= blocks {
                return Err(STATUS_INVALID_VALUE);
            }
            let mut d = vec![0u8; 64];
            if attr_mod == 0 {
                d[..8].copy_from_slice(&port::port_guid(node, port).to_be_bytes());
            }
            Ok(d)
        }
        ATTR_PKEY_TABLE => {
            // 32 P_Keys per block (the low 16 bits of the modifier).
            let entries = if cfg.configured && cfg.pkey_tbl_sz != 0 {
                cfg.pkey_tbl_sz as u32
            } else {
                1 << pc.log_max_pkeys
            };
            let block = attr_mod & 0xffff;
            if block >= entries.div_ceil(32) {
                return Err(STATUS_INVALID_VALUE);
            }
            let mut d = vec![0u8; 64];
            if block == 0 {
                d[..2].copy_from_slice(&DEFAULT_PKEY.to_be_bytes());
            }
            Ok(d)
        }
        // Every SL on VL0; no arbitration to configure with one data VL.
        ATTR_SL_TO_VL | ATTR_VL_ARB => Ok(vec![0u8; 64]),
        _ => Err(STATUS_UNSUPPORTED_ATTRIBUTE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caps;

    fn query(class: u8, method: u8, attr: u16, attr_mod: u32) -> Vec<u8> {
        let h = MadHeader {
            base_version: 1,
            mgmt_class: class,
            class_version: 1,
            method,
            tid: 0x1234,
            attr_id: attr,
            attr_mod,
            ..Default::default()
        };
        let mut m = vec![0u8; MAD_BYTES];
        m[..64].copy_from_slice(&h.encode());
        process(
            &m,
            1,
            caps::NODE_GUID,
            &[PortConfig::default()],
            &mut [PortSma::default()],
        )
        .0
    }

    fn status(r: &[u8]) -> u16 {
        u16::from_be_bytes([r[4], r[5]])
    }

    #[test]
    fn node_info_where_mlx4_ib_reads_it() {
        let r = query(CLASS_SUBN_LID_ROUTED, METHOD_GET, ATTR_NODE_INFO, 0);
        assert_eq!(r[3], METHOD_GET_RESP);
        assert_eq!(status(&r), 0);
        assert_eq!(
            &r[8..16],
            &0x1234u64.to_be_bytes(),
            "the transaction id comes back"
        );
        let d = &r[SMP_DATA..];
        assert_eq!(d[2], 1, "a channel adapter");
        assert_eq!(&d[12..20], &caps::NODE_GUID.to_be_bytes());
        assert_eq!(
            u32::from_be_bytes(d[36..40].try_into().unwrap()) & 0xff_ffff,
            0x4f5045
        );
        assert_eq!(d[36], 1, "local port");
    }

    #[test]
    fn port_info_pkeys_guids() {
        let r = query(CLASS_SUBN_LID_ROUTED, METHOD_GET, ATTR_PORT_INFO, 1);
        let d = &r[SMP_DATA..];
        assert_eq!(d[32] & 0xf, 1, "down: no fabric yet");
        assert_eq!(d[33] >> 4, 2, "polling");
        assert_eq!(d[41] & 0xf, 5, "4096-byte MTU");
        assert_eq!(
            u32::from_be_bytes(d[20..24].try_into().unwrap()),
            DEFAULT_CAP_MASK
        );
        let r = query(CLASS_SUBN_LID_ROUTED, METHOD_GET, ATTR_PKEY_TABLE, 0);
        assert_eq!(&r[SMP_DATA..SMP_DATA + 4], &[0xff, 0xff, 0, 0]);
        let r = query(CLASS_SUBN_LID_ROUTED, METHOD_GET, ATTR_GUID_INFO, 0);
        assert_eq!(
            &r[SMP_DATA..SMP_DATA + 8],
            &port::port_guid(caps::NODE_GUID, 1).to_be_bytes()
        );
    }

    #[test]
    fn what_the_agent_does_not_take_says_so() {
        // Trap (0x05) is the SMA's to send, not to take.
        assert_eq!(
            status(&query(CLASS_SUBN_LID_ROUTED, 0x05, ATTR_PORT_INFO, 1)),
            STATUS_UNSUPPORTED_METHOD
        );
        assert_eq!(
            status(&query(CLASS_SUBN_LID_ROUTED, METHOD_SET, ATTR_NODE_INFO, 0)),
            STATUS_UNSUPPORTED_ATTRIBUTE
        );
        assert_eq!(
            status(&query(CLASS_SUBN_LID_ROUTED, METHOD_GET, 0xff90, 1)),
            STATUS_UNSUPPORTED_ATTRIBUTE
        );
        assert_eq!(
            status(&query(
                CLASS_SUBN_LID_ROUTED,
                METHOD_GET,
                ATTR_PKEY_TABLE,
                5
            )),
            STATUS_INVALID_VALUE
        );
        assert_eq!(
            status(&query(CLASS_SUBN_LID_ROUTED, METHOD_GET, ATTR_PORT_INFO, 9)),
            STATUS_INVALID_VALUE
        );
        assert_eq!(
            status(&query(0x04, METHOD_GET, 0x12, 0)),
            STATUS_UNSUPPORTED_ATTRIBUTE
        );
        let dr = query(CLASS_SUBN_DIRECTED_ROUTE, METHOD_GET, ATTR_NODE_INFO, 0);
        assert_eq!(
            status(&dr),
            STATUS_DIRECTION,
            "directed route answers on the way back"
        );
        let mut bad = vec![0u8; MAD_BYTES];
        bad[0] = 2;
        assert_eq!(
            status(&process(&bad, 1, caps::NODE_GUID, &[], &mut []).0),
            STATUS_BAD_VERSION
        );
        assert_eq!(
            process(&[1, 2, 3], 1, caps::NODE_GUID, &[], &mut [])
                .0
                .len(),
            MAD_BYTES,
            "short input still answered"
        );
    }

    #[test]
    fn set_port_info_assigns_the_lid_and_walks_the_state() {
        let mut sma = [PortSma::default()];
        sma[0].link(true);
        let set = |st: u8, lid: u16, sma: &mut [PortSma]| {
            let h = MadHeader {
                base_version: 1,
                mgmt_class: CLASS_SUBN_DIRECTED_ROUTE,
                class_version: 1,
                method: METHOD_SET,
                attr_id: ATTR_PORT_INFO,
                ..Default::default()
            };
            let mut m = vec![0u8; MAD_BYTES];
            m[..64].copy_from_slice(&h.encode());
            let pi = PortInfo {
                lid,
                master_sm_lid: 1,
                port_state: st,
                ..Default::default()
            };
            m[SMP_DATA..SMP_DATA + 64].copy_from_slice(&pi.encode());
            process(&m, 1, caps::NODE_GUID, &[PortConfig::default()], sma)
        };
        let (r, c) = set(sma::state::NOP, 5, &mut sma);
        assert_eq!((status(&r) & !STATUS_DIRECTION, c), (0, None));
        let pi = PortInfo::decode(&r[SMP_DATA..SMP_DATA + 64]);
        assert_eq!((pi.lid, pi.port_state, pi.port_phys_state), (5, 2, 5));
        assert_eq!(set(sma::state::ARMED, 5, &mut sma).1, None);
        let (r, c) = set(sma::state::ACTIVE, 5, &mut sma);
        assert_eq!(c, Some(sma::port_change::ACTIVE));
        assert_eq!(PortInfo::decode(&r[SMP_DATA..SMP_DATA + 64]).port_state, 4);
        let (r, _) = set(sma::state::ARMED, 5, &mut sma);
        assert_eq!(status(&r) & !STATUS_DIRECTION, STATUS_INVALID_VALUE);
    }
}
