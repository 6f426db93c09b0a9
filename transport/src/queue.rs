//! Where a QP's work queues are: one buffer, found page by page through
//! the MTT, the queue with the larger stride first (mlx4's rule, which the
//! QP context does not record: the hardware applies it itself), and the
//! ownership rule by which the hardware knows a send WQE is posted.

use crate::ports::{PortResult, Ports};
use hca_abi::cmd::qp::MlxQpMailbox;

/// One work queue in the QP's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Queue {
    /// Byte offset of the queue in the buffer.
    pub offset: u64,
    pub wqe_cnt: u32,
    /// log2 of the stride.
    pub shift: u32,
}

impl Queue {
    /// Byte offset of WQE number `n` (free-running) in the buffer.
    pub fn wqe_offset(&self, n: u32) -> u64 {
        self.offset + (((n % self.wqe_cnt) as u64) << self.shift)
    }

    pub fn stride(&self) -> usize {
        1 << self.shift
    }

    /// The owner bit a send WQE the hardware may take carries: the pass
    /// parity of its free-running index.
    pub fn owner_of(&self, n: u32) -> bool {
        n & self.wqe_cnt != 0
    }
}

/// A QP's buffer: its queues and the MTT that finds its pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buffer {
    pub sq: Queue,
    /// None when the QP receives from an SRQ.
    pub rq: Option<Queue>,
    /// The first MTT entry.
    pub mtt: u32,
    pub page_shift: u32,
}

impl Buffer {
    /// The buffer mlx4 described in RST2INIT's context.
    pub fn of(m: &MlxQpMailbox) -> Buffer {
        let sq_shift = m.sq_log_stride as u32 + 4;
        let sq = Queue {
            offset: 0,
            wqe_cnt: 1 << m.sq_log_size,
            shift: sq_shift,
        };
        let rq_shift = m.rq_log_stride as u32 + 4;
        let rq = (!m.srq).then_some(Queue {
            offset: 0,
            wqe_cnt: 1 << m.rq_log_size,
            shift: rq_shift,
        });
        let (sq, rq) = match rq {
            Some(rq) if rq.shift > sq.shift => (
                Queue {
                    offset: (rq.wqe_cnt as u64) << rq.shift,
                    ..sq
                },
                Some(rq),
            ),
            Some(rq) => (
                sq,
                Some(Queue {
                    offset: (sq.wqe_cnt as u64) << sq.shift,
                    ..rq
                }),
            ),
            None => (sq, None),
        };
        let mtt_bytes = m.mtt_base();
        Buffer {
            sq,
            rq,
            mtt: (mtt_bytes / 8) as u32,
            // (A page past 2^63 bytes is nonsense a driver may still send.)
            page_shift: (m.log_page_size as u32 + 12).min(63),
        }
    }

    /// The DMA address of byte `off` of the buffer.
    pub fn address(&self, ports: &mut dyn Ports, off: u64) -> PortResult<u64> {
        let page = off >> self.page_shift;
        let e = ports.mtt(self.mtt.wrapping_add(page as u32))?;
        if e & 1 == 0 {
            return Err(format!(
                "MTT entry {} is not present",
                self.mtt as u64 + page
            ));
        }
        let mask = (1u64 << self.page_shift) - 1;
        Ok((e & !mask) | (off & mask))
    }

    /// Read `len` bytes of the buffer from `off` (a WQE never crosses a
    /// page: strides are powers of two no larger than a page).
    pub fn read(&self, ports: &mut dyn Ports, off: u64, len: usize) -> PortResult<Vec<u8>> {
        let mut out = vec![0u8; len];
        let mut done = 0;
        while done < len {
            let at = off + done as u64;
            let in_page =
                (1usize << self.page_shift) - (at as usize & ((1 << self.page_shift) - 1));
            let n = in_page.min(len - done);
            let a = self.address(ports, at)?;
            ports.dma_read(a, &mut out[done..done + n])?;
            done += n;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_with_the_larger_stride_comes_first() {
        let m = MlxQpMailbox {
            sq_log_size: 3,
            sq_log_stride: 2, // 64 B
            rq_log_size: 4,
            rq_log_stride: 3, // 128 B
            ..Default::default()
        };
        let b = Buffer::of(&m);
        assert_eq!(b.rq.unwrap().offset, 0);
        assert_eq!(b.sq.offset, 16 * 128);
        let m = MlxQpMailbox {
            rq_log_stride: 2,
            ..m
        };
        let b = Buffer::of(&m);
        assert_eq!(
            (b.sq.offset, b.rq.unwrap().offset),
            (0, 8 * 64),
            "a tie: SQ first"
        );
        let m = MlxQpMailbox { srq: true, ..m };
        assert_eq!(Buffer::of(&m).rq, None);
    }

    #[test]
    fn owner_bits_flip_each_pass() {
        let q = Queue {
            offset: 0,
            wqe_cnt: 4,
            shift: 6,
        };
        assert!(!q.owner_of(3) && q.owner_of(4) && !q.owner_of(8));
        assert_eq!(q.wqe_offset(5), 64);
    }
}
