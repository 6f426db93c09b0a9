//! Allocators of object numbers, as mlx4's alloc.c has them: a bitmap
//! over a power-of-two range with reserved numbers at the bottom (and the
//! top), handing numbers out round robin so a freed number is not reused
//! at once; and a buddy allocator for MTT segments.

use std::collections::BTreeSet;

/// Numbers `0..num`, `reserved_bot` at the bottom and `reserved_top` at
/// the top never handed out.
#[derive(Clone, Debug)]
pub struct Bitmap {
    num: u32,
    reserved_bot: u32,
    reserved_top: u32,
    used: Vec<u64>,
    last: u32,
    avail: u32,
}

impl Bitmap {
    pub fn new(num: u32, reserved_bot: u32, reserved_top: u32) -> Bitmap {
        let mut b = Bitmap {
            num,
            reserved_bot,
            reserved_top,
            used: vec![0; (num as usize).div_ceil(64)],
            last: reserved_bot,
            avail: num.saturating_sub(reserved_bot + reserved_top),
        };
        for n in (0..reserved_bot.min(num)).chain(num.saturating_sub(reserved_top)..num) {
            b.set(n, true);
        }
        b
    }

    fn set(&mut self, n: u32, v: bool) {
        let (w, bit) = ((n / 64) as usize, n % 64);
        if v {
            self.used[w] |= 1 << bit;
        } else {
            self.used[w] &= !(1 << bit);
        }
    }

    pub fn is_set(&self, n: u32) -> bool {
        n < self.num && self.used[(n / 64) as usize] & (1 << (n % 64)) != 0
    }

    /// The next free number after the last one handed out, wrapping.
    pub fn alloc(&mut self) -> Option<u32> {
        if self.avail == 0 {
            return None;
        }
        let n = (0..self.num)
            .map(|i| (self.last + i) % self.num)
            .find(|&n| !self.is_set(n))?;
        self.set(n, true);
        self.last = (n + 1) % self.num;
        self.avail -= 1;
        Some(n)
    }

    /// `cnt` consecutive numbers starting at a multiple of `align` (mlx4's
    /// QP ranges); the first is returned.
    pub fn alloc_range(&mut self, cnt: u32, align: u32) -> Option<u32> {
        let mut at = self.reserved_bot.next_multiple_of(align);
        while at + cnt <= self.num {
            if (at..at + cnt).all(|n| !self.is_set(n)) {
                (at..at + cnt).for_each(|n| self.set(n, true));
                self.avail -= cnt;
                return Some(at);
            }
            at += align;
        }
        None
    }

    /// Give `n` back; false (and nothing changed) if it was not handed out.
    pub fn free(&mut self, n: u32) -> bool {
        let reserved = n < self.reserved_bot || n >= self.num.saturating_sub(self.reserved_top);
        if n >= self.num || reserved || !self.is_set(n) {
            return false;
        }
        self.set(n, false);
        self.avail += 1;
        true
    }

    /// Numbers it covers.
    pub fn capacity(&self) -> u32 {
        self.num
    }

    /// Numbers handed out and not freed.
    pub fn in_use(&self) -> u32 {
        self.num - self.reserved_bot.min(self.num) - self.reserved_top - self.avail
    }
}

/// Segments of `2^order` units out of `2^max_order`, split and merged in
/// buddies (mlx4_buddy, for the MTT).
#[derive(Clone, Debug)]
pub struct Buddy {
    free: Vec<BTreeSet<u32>>,
    max_order: u32,
    in_use: u64,
}

impl Buddy {
    pub fn new(max_order: u32) -> Buddy {
        let mut free = vec![BTreeSet::new(); max_order as usize + 1];
        free[max_order as usize].insert(0);
        Buddy {
            free,
            max_order,
            in_use: 0,
        }
    }

    /// The first unit of a free segment of `2^order` units.
    pub fn alloc(&mut self, order: u32) -> Option<u32> {
        let o = (order..=self.max_order).find(|&o| !self.free[o as usize].is_empty())?;
        let seg = self.free[o as usize].pop_first()?;
        for k in (order..o).rev() {
            self.free[k as usize].insert(seg + (1 << k));
        }
        self.in_use += 1 << order;
        Some(seg)
    }

    /// Give a segment back, merging it with its free buddy.
    pub fn free(&mut self, mut seg: u32, order: u32) {
        self.in_use -= 1 << order;
        let mut o = order;
        while o < self.max_order && self.free[o as usize].remove(&(seg ^ (1 << o))) {
            seg &= !(1 << o);
            o += 1;
        }
        self.free[o as usize].insert(seg);
    }

    /// Units handed out.
    pub fn in_use(&self) -> u64 {
        self.in_use
    }

    /// Reserve units `0..n` (mlx4 reserves the first MTT segments).
    pub fn reserve(&mut self, n: u32) -> Option<()> {
        for _ in 0..n {
            self.alloc(0)?;
        }
        self.in_use -= n as u64;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmap_skips_reserved_numbers_and_reuses_late() {
        let mut b = Bitmap::new(8, 2, 1);
        let got: Vec<u32> = (0..5).map_while(|_| b.alloc()).collect();
        assert_eq!(got, vec![2, 3, 4, 5, 6]);
        assert_eq!(b.alloc(), None);
        assert!(b.free(3));
        assert!(!b.free(3), "freed twice");
        assert!(!b.free(0), "reserved");
        assert_eq!(b.alloc(), Some(3));
        assert_eq!(b.in_use(), 5);
    }

    #[test]
    fn buddy_splits_and_merges() {
        let mut b = Buddy::new(4);
        let a = b.alloc(0).unwrap();
        let c = b.alloc(2).unwrap();
        assert_eq!((a, c), (0, 4));
        assert_eq!(b.in_use(), 5);
        b.free(a, 0);
        b.free(c, 2);
        assert_eq!(b.in_use(), 0);
        assert_eq!(b.alloc(4), Some(0), "all merged back");
    }
}
