//! Moving a message's bytes between host memory and the wire: every
//! gather and scatter entry is translated by the TPT (key, PD, range and
//! access checked there) and carried page by page by DMA. A refusal names
//! the TPT's reason; host memory is touched only once every entry of a
//! scatter has been granted.

use crate::ports::Ports;
use crate::wqe::Sge;
use hca_rtl::tpt::{status, TptReq};

/// Why a gather or scatter failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DmaFail {
    /// The TPT refused a key (its status name).
    Protection(&'static str),
    /// The scatter list is shorter than the message.
    Length,
    /// The device could not carry the request out.
    Device(String),
}

/// One granted piece of memory: DMA address and length.
type Piece = (u64, usize);

/// Translate `len` bytes at `va` through `key` for `access`, into pieces.
fn translate(
    ports: &mut dyn Ports,
    key: u32,
    pd: u32,
    va: u64,
    len: u32,
    access: u8,
) -> Result<Vec<Piece>, DmaFail> {
    let r = ports
        .tpt(TptReq::lookup(key, pd, va, len, access))
        .map_err(DmaFail::Device)?;
    if r.status != status::OK {
        return Err(DmaFail::Protection(status::name(r.status)));
    }
    let page = 1u64 << r.entry.log_page.min(63);
    let mut left = len as u64;
    let mut out = Vec::with_capacity(r.pages.len());
    for (i, p) in r.pages.iter().enumerate() {
        if left == 0 {
            break;
        }
        let room = if i == 0 {
            page - (p & (page - 1))
        } else {
            page
        };
        let n = room.min(left);
        out.push((*p, n as usize));
        left -= n;
    }
    if left != 0 {
        return Err(DmaFail::Device(format!(
            "the TPT gave {} pages for {len} bytes through key {key:#x}",
            r.pages.len()
        )));
    }
    Ok(out)
}

/// The bytes a send's gathers name, read from host memory.
pub fn gather(
    ports: &mut dyn Ports,
    pd: u32,
    sges: &[Sge],
    access: u8,
) -> Result<Vec<u8>, DmaFail> {
    let mut out = Vec::new();
    for s in sges {
        match s {
            Sge::Inline(b) => out.extend_from_slice(b),
            Sge::Key { len: 0, .. } => {}
            Sge::Key { addr, len, lkey } => {
                for (a, n) in translate(ports, *lkey, pd, *addr, *len, access)? {
                    let at = out.len();
                    out.resize(at + n, 0);
                    ports.dma_read(a, &mut out[at..]).map_err(DmaFail::Device)?;
                }
            }
        }
    }
    Ok(out)
}

/// Write `data` through a receive's scatters, after `skip` bytes of them
/// (a UD receive's GRH area), checking every entry before writing any.
pub fn scatter(
    ports: &mut dyn Ports,
    pd: u32,
    sges: &[Sge],
    skip: usize,
    data: &[u8],
    access: u8,
) -> Result<(), DmaFail> {
    let room: usize = sges.iter().map(Sge::len).sum();
    if room < skip + data.len() {
        return Err(DmaFail::Length);
    }
    let mut pieces = Vec::new();
    let (mut skip, mut left) = (skip, data.len());
    for s in sges {
        let Sge::Key { addr, len, lkey } = s else {
            continue;
        };
        if left == 0 {
            break;
        }
        let len = *len as usize;
        if skip >= len {
            skip -= len;
            continue;
        }
        let n = (len - skip).min(left);
        pieces.extend(translate(
            ports,
            *lkey,
            pd,
            addr + skip as u64,
            n as u32,
            access,
        )?);
        skip = 0;
        left -= n;
    }
    let mut at = 0;
    for (a, n) in pieces {
        ports
            .dma_write(a, &data[at..at + n])
            .map_err(DmaFail::Device)?;
        at += n;
    }
    Ok(())
}

/// Write `data` at the start of the scatters (a UD receive's GRH).
pub fn scatter_head(
    ports: &mut dyn Ports,
    pd: u32,
    sges: &[Sge],
    data: &[u8],
    access: u8,
) -> Result<(), DmaFail> {
    scatter(ports, pd, sges, 0, data, access)
}
