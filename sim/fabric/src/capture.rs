//! Captures of the fabric's packets in the format Mellanox's ibdump
//! writes and Debian's Wireshark reads as it is: a pcap file of link type
//! ERF (197), each record an ERF header of type INFINIBAND (21) followed
//! by the packet from its LRH through its VCRC. (Wireshark 4.0 has no
//! dissector for pcap's own InfiniBand link type, 247.) The ERF header's
//! interface field carries the fabric port the packet was seen on (0..3),
//! its timestamp the simulated time.
//!
//! The pcap container is the `pcap-file` crate's; the ERF record header is
//! written and read here.

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::{DataLink, Endianness, TsResolution};
use std::io::{Read, Write};
use std::time::Duration;

/// ERF's record type for an InfiniBand packet.
pub const ERF_TYPE_INFINIBAND: u8 = 21;
/// Bytes of an ERF record header (no extension headers).
pub const ERF_HEADER: usize = 16;
/// ERF flags: "varying record length" (bit 2), and the interface in bits
/// 1..0.
const ERF_FLAG_VLEN: u8 = 0x04;

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("capture file: {0}")]
    Pcap(#[from] pcap_file::PcapError),
    #[error("capture file: link type {0:?}, not ERF (197)")]
    LinkType(DataLink),
    #[error("capture record {index}: {why}")]
    Record { index: usize, why: String },
}

/// A capture being written.
pub struct Capture<W: Write> {
    w: PcapWriter<W>,
    pub packets: u64,
}

/// The ERF timestamp of `ns` simulated nanoseconds: 32.32 fixed point
/// seconds, little-endian.
fn erf_timestamp(ns: u64) -> u64 {
    let secs = ns / 1_000_000_000;
    let frac = ((ns % 1_000_000_000) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// One ERF record: the header, then the packet.
pub fn erf_record(port: u8, ns: u64, packet: &[u8]) -> Vec<u8> {
    let len = packet.len().min(u16::MAX as usize - ERF_HEADER);
    let mut r = Vec::with_capacity(ERF_HEADER + len);
    r.extend_from_slice(&erf_timestamp(ns).to_le_bytes());
    r.push(ERF_TYPE_INFINIBAND);
    r.push(ERF_FLAG_VLEN | (port & 3));
    r.extend_from_slice(&((ERF_HEADER + len) as u16).to_be_bytes());
    r.extend_from_slice(&0u16.to_be_bytes()); // loss counter
    r.extend_from_slice(&(len as u16).to_be_bytes());
    r.extend_from_slice(&packet[..len]);
    r
}

impl<W: Write> Capture<W> {
    pub fn new(w: W) -> Result<Capture<W>, CaptureError> {
        let header = PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: 65535,
            datalink: DataLink::ERF,
            ts_resolution: TsResolution::NanoSecond,
            endianness: Endianness::Little,
        };
        Ok(Capture {
            w: PcapWriter::with_header(w, header)?,
            packets: 0,
        })
    }

    /// Record a packet seen on `port` at `ns` simulated nanoseconds.
    pub fn record(&mut self, port: u8, ns: u64, packet: &[u8]) -> Result<(), CaptureError> {
        let r = erf_record(port, ns, packet);
        self.w.write_packet(&PcapPacket::new(
            Duration::from_nanos(ns),
            r.len() as u32,
            &r,
        ))?;
        self.packets += 1;
        Ok(())
    }

    pub fn into_inner(self) -> W {
        self.w.into_writer()
    }
}

/// One packet read back from a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    pub port: u8,
    pub ns: u64,
    pub packet: Vec<u8>,
}

/// Every packet of a capture file in ERF/InfiniBand form.
pub fn read<R: Read>(r: R) -> Result<Vec<Captured>, CaptureError> {
    let mut rd = PcapReader::new(r)?;
    let dl = rd.header().datalink;
    if dl != DataLink::ERF {
        return Err(CaptureError::LinkType(dl));
    }
    let mut out = Vec::new();
    while let Some(p) = rd.next_packet() {
        let p = p?;
        let index = out.len();
        let d = &p.data;
        let bad = |why: String| CaptureError::Record { index, why };
        if d.len() < ERF_HEADER {
            return Err(bad(format!(
                "{} bytes, shorter than an ERF header",
                d.len()
            )));
        }
        if d[8] & 0x7f != ERF_TYPE_INFINIBAND {
            return Err(bad(format!(
                "ERF type {}, not INFINIBAND (21)",
                d[8] & 0x7f
            )));
        }
        if d[8] & 0x80 != 0 {
            return Err(bad("ERF extension headers are not read".into()));
        }
        let wlen = u16::from_be_bytes([d[14], d[15]]) as usize;
        let body = &d[ERF_HEADER..];
        let packet = body[..wlen.min(body.len())].to_vec();
        out.push(Captured {
            port: d[9] & 3,
            ns: p.timestamp.as_nanos() as u64,
            packet,
        });
    }
    Ok(out)
}

/// The protocols Wireshark would guess inside an InfiniBand payload
/// (Ethernet over IB, SMB Direct...): a check of the IB framing turns them
/// off, the payloads being whatever the traffic carried.
pub const PAYLOAD_PROTOCOLS: [&str; 9] = [
    "infiniband.eoib",
    "fcoib",
    "infiniband_sdp",
    "smb_direct",
    "rpcordma",
    "nvme-rdma",
    "lnet",
    "iser",
    "smc",
];

/// Read a capture with Debian's tshark and check every frame decodes as
/// InfiniBand with no expert item of warning (0x00600000) or error
/// (0x00800000) severity and nothing malformed. Returns the frames read,
/// or which frame failed and how. Tests and tools use it; tshark must be
/// installed (the README's test command installs it).
pub fn tshark_check(path: &std::path::Path) -> Result<usize, String> {
    let mut cmd = std::process::Command::new("tshark");
    cmd.arg("-r").arg(path);
    for p in PAYLOAD_PROTOCOLS {
        cmd.args(["--disable-protocol", p]);
    }
    cmd.args([
        "-T",
        "fields",
        "-e",
        "frame.protocols",
        "-e",
        "_ws.expert.severity",
    ]);
    let out = cmd.output().map_err(|e| format!("tshark: {e}"))?;
    if !out.status.success() {
        return Err(format!("tshark: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        let mut c = line.splitn(2, '\t');
        let (protos, severity) = (c.next().unwrap_or(""), c.next().unwrap_or(""));
        let worst = severity
            .split(',')
            .filter_map(|v| v.trim().parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        if !protos.starts_with("erf:infiniband")
            || protos.contains("malformed")
            || worst >= 0x0060_0000
        {
            return Err(format!(
                "frame {}: {protos}, expert severity {severity}",
                i + 1
            ));
        }
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_as_written() {
        let mut c = Capture::new(Vec::new()).unwrap();
        c.record(1, 1_500_000_123, &[1, 2, 3, 4, 5, 6]).unwrap();
        c.record(2, 7, &[9; 40]).unwrap();
        let bytes = c.into_inner();
        let back = read(&bytes[..]).unwrap();
        assert_eq!(
            back,
            vec![
                Captured {
                    port: 1,
                    ns: 1_500_000_123,
                    packet: vec![1, 2, 3, 4, 5, 6]
                },
                Captured {
                    port: 2,
                    ns: 7,
                    packet: vec![9; 40]
                }
            ]
        );
    }

    #[test]
    fn the_erf_timestamp_is_fixed_point_seconds() {
        assert_eq!(erf_timestamp(2_000_000_000), 2 << 32);
        assert_eq!(erf_timestamp(500_000_000), 1 << 31);
    }
}
