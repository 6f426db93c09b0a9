//! The two CRCs of an InfiniBand packet (IBTA vol. 1, 7.8).
//!
//! - The invariant CRC (ICRC, 4 bytes) covers what no switch or router
//!   changes on the way: the CRC-32 of Ethernet (reflected polynomial
//!   0xedb88320, initial value all ones, result complemented), over the
//!   packet from its first header through the pad bytes, with the variant
//!   fields read as ones: the LRH's VL, the BTH's resv8a and, in a packet
//!   with a GRH, the GRH's traffic class, flow label and hop limit and the
//!   whole LRH (a router rewrites it). RoCE's ICRC starts the same way,
//!   from the state eight bytes of ones leave (rxe's 0xdebb20e3).
//! - The variant CRC (VCRC, 2 bytes) covers every byte from the LRH through
//!   the ICRC, recomputed on every link: CRC-16 with polynomial 0x100b,
//!   reflected, initial value and final XOR all ones.
//!
//! Both go on the wire least significant byte first, as rxe stores the
//! ICRC (the VCRC the same way).

use super::headers::{lnh, Grh, Lrh};

/// The ICRC's algorithm: Ethernet's CRC-32.
pub const ICRC: crc::Algorithm<u32> = crc::CRC_32_ISO_HDLC;

/// The VCRC's algorithm. `check` (the CRC of "123456789") and `residue`
/// are what the bitwise reference in the tests computes.
pub const VCRC: crc::Algorithm<u16> = crc::Algorithm {
    width: 16,
    poly: 0x100b,
    init: 0xffff,
    refin: true,
    refout: true,
    xorout: 0xffff,
    check: 0x0a3d,
    residue: 0x556f,
};

static ICRC_ENGINE: crc::Crc<u32> = crc::Crc::<u32>::new(&ICRC);
static VCRC_ENGINE: crc::Crc<u16> = crc::Crc::<u16>::new(&VCRC);

/// Bytes of the two CRCs at a packet's end.
pub const ICRC_BYTES: usize = 4;
pub const VCRC_BYTES: usize = 2;

/// The ICRC of a packet's bytes from the LRH through the pad (the ICRC and
/// VCRC not included). `bytes` must hold at least the LRH, and the GRH
/// and BTH its LNH names; shorter input is hashed as it is.
pub fn icrc(bytes: &[u8]) -> u32 {
    let mut d = ICRC_ENGINE.digest();
    let global = bytes.len() > 1 && bytes[1] & 3 == lnh::GLOBAL;
    let lrh = Lrh::SIZE.min(bytes.len());
    if global {
        d.update(&[0xff; Lrh::SIZE]);
    } else if lrh > 0 {
        let mut l = [0u8; Lrh::SIZE];
        l[..lrh].copy_from_slice(&bytes[..lrh]);
        l[0] |= 0xf0; // VL
        d.update(&l[..lrh]);
    }
    let mut at = lrh;
    if global {
        let end = (at + Grh::SIZE).min(bytes.len());
        let mut g = [0u8; Grh::SIZE];
        g[..end - at].copy_from_slice(&bytes[at..end]);
        // Traffic class (low nibble of byte 0, high nibble of byte 1),
        // flow label (the rest of bytes 1..4), hop limit (byte 7).
        g[0] |= 0x0f;
        g[1] = 0xff;
        g[2] = 0xff;
        g[3] = 0xff;
        g[7] = 0xff;
        d.update(&g[..end - at]);
        at = end;
    }
    // The BTH's resv8a is its byte 4.
    let resv = at + 4;
    if resv < bytes.len() {
        d.update(&bytes[at..resv]);
        d.update(&[0xff]);
        d.update(&bytes[resv + 1..]);
    } else {
        d.update(&bytes[at..]);
    }
    d.finalize()
}

/// The VCRC of a packet's bytes from the LRH through the ICRC.
pub fn vcrc(bytes: &[u8]) -> u16 {
    VCRC_ENGINE.checksum(bytes)
}

/// Append the ICRC and the VCRC to a packet's headers, payload and pad.
pub fn seal(packet: &mut Vec<u8>) {
    let i = icrc(packet);
    packet.extend_from_slice(&i.to_le_bytes());
    let v = vcrc(packet);
    packet.extend_from_slice(&v.to_le_bytes());
}

/// Which of a whole packet's CRCs are wrong, VCRC first (a link checks it
/// before the transport looks at the ICRC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrcError {
    Vcrc,
    Icrc,
}

/// Check a whole packet's VCRC and ICRC (its last 6 bytes).
pub fn check(packet: &[u8]) -> Result<(), CrcError> {
    let n = packet.len();
    if n < ICRC_BYTES + VCRC_BYTES {
        return Err(CrcError::Vcrc);
    }
    let v = u16::from_le_bytes([packet[n - 2], packet[n - 1]]);
    if vcrc(&packet[..n - 2]) != v {
        return Err(CrcError::Vcrc);
    }
    let at = n - VCRC_BYTES - ICRC_BYTES;
    let i = u32::from_le_bytes(packet[at..at + 4].try_into().expect("4 bytes"));
    if icrc(&packet[..at]) != i {
        return Err(CrcError::Icrc);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bitwise CRC, one bit at a time, as the polynomial defines it:
    /// the reference the table-driven crate is held to.
    fn reflected(poly_reflected: u32, width: u32, init: u32, bytes: &[u8]) -> u32 {
        let mask = if width == 32 {
            u32::MAX
        } else {
            (1 << width) - 1
        };
        let mut c = init & mask;
        for &b in bytes {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ poly_reflected
                } else {
                    c >> 1
                };
            }
        }
        !c & mask
    }

    /// 0x100b reflected over 16 bits.
    const VCRC_POLY_REFLECTED: u32 = 0xd008;

    #[test]
    fn the_crate_computes_the_polynomials_bit_by_bit() {
        let check = b"123456789";
        assert_eq!(
            ICRC_ENGINE.checksum(check),
            reflected(0xedb8_8320, 32, u32::MAX, check)
        );
        assert_eq!(
            VCRC.check as u32,
            reflected(VCRC_POLY_REFLECTED, 16, 0xffff, check)
        );
        assert_eq!(0x100bu16.reverse_bits() as u32, VCRC_POLY_REFLECTED);
        let bytes: Vec<u8> = (0..200u32).map(|i| (i * 37 + 11) as u8).collect();
        assert_eq!(
            vcrc(&bytes) as u32,
            reflected(VCRC_POLY_REFLECTED, 16, 0xffff, &bytes)
        );
    }

    #[test]
    fn eight_bytes_of_ones_leave_roce_seed() {
        // rxe starts RoCE's ICRC from 0xdebb20e3: the register after the
        // LRH's 8 bytes of ones, before the final complement.
        let mut d = ICRC_ENGINE.digest();
        d.update(&[0xff; 8]);
        assert_eq!(!d.finalize(), 0xdebb_20e3);
    }

    fn local_packet() -> Vec<u8> {
        let mut p = vec![
            0x00, 0x02, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x02, // LRH
            0x64, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, // BTH
            0x11, 0x11, 0x11, 0x11, 0x00, 0x00, 0x00, 0x07, // DETH
        ];
        p.extend_from_slice(b"abcd");
        p
    }

    #[test]
    fn variant_fields_do_not_move_the_icrc_and_invariant_ones_do() {
        let p = local_packet();
        let base = icrc(&p);
        let mut q = p.clone();
        q[0] |= 0x70; // VL
        q[12] = 0x80; // resv8a (FECN)
        assert_eq!(icrc(&q), base);
        let mut q = p.clone();
        q[3] ^= 1; // DLID
        assert_ne!(icrc(&q), base);
        let mut q = p.clone();
        q[31] ^= 0x40; // payload
        assert_ne!(icrc(&q), base);
    }

    #[test]
    fn a_global_packet_ignores_its_lrh_and_variant_grh_fields() {
        let mut p = vec![0x00, 0x03, 0x00, 0x01, 0x00, 0x14, 0x00, 0x02];
        let grh = Grh {
            ip_ver: 6,
            tclass: 0,
            flow_label: 0,
            pay_len: 36,
            nxt_hdr: super::super::headers::GRH_NXT_HDR_IBA,
            hop_lmt: 1,
            ..Default::default()
        };
        p.extend_from_slice(&grh.encode());
        p.extend_from_slice(&local_packet()[8..]);
        let base = icrc(&p);
        let mut q = p.clone();
        q[2] = 0x77; // DLID rewritten by a router
        q[6] = 0x55; // and the SLID
        q[8] |= 0x0a; // traffic class
        q[10] = 0x12; // flow label
        q[15] = 0x40; // hop limit
        assert_eq!(icrc(&q), base);
        let mut q = p.clone();
        q[8 + 24] ^= 1; // DGID
        assert_ne!(icrc(&q), base);
    }

    #[test]
    fn sealed_packets_check_and_any_flipped_bit_fails() {
        let mut p = local_packet();
        seal(&mut p);
        assert_eq!(check(&p), Ok(()));
        for bit in 0..p.len() * 8 {
            let mut q = p.clone();
            q[bit / 8] ^= 1 << (bit % 8);
            assert!(check(&q).is_err(), "bit {bit} flipped and still good");
        }
        // A rewritten VL is caught by the VCRC alone: a switch that
        // changes the VL recomputes it.
        let mut q = p.clone();
        q[0] |= 0x30;
        let n = q.len();
        let v = vcrc(&q[..n - 2]);
        q[n - 2..].copy_from_slice(&v.to_le_bytes());
        assert_eq!(check(&q), Ok(()));
    }
}
