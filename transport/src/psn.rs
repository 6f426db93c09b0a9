//! Packet sequence numbers: 24 bits that wrap, compared as the IBTA does
//! (a PSN is "before" another when it lies in the 2^23 behind it).

pub const MASK: u32 = 0xff_ffff;

/// `a + n`, wrapped.
pub fn add(a: u32, n: u32) -> u32 {
    a.wrapping_add(n) & MASK
}

/// How far `b` is ahead of `a`, wrapped.
pub fn delta(a: u32, b: u32) -> u32 {
    b.wrapping_sub(a) & MASK
}

/// Whether `a` is at or before `b`.
pub fn at_or_before(a: u32, b: u32) -> bool {
    delta(a, b) < 1 << 23
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_wrap() {
        assert!(at_or_before(MASK, 0));
        assert!(at_or_before(5, 5));
        assert!(!at_or_before(6, 5));
        assert_eq!(add(MASK, 2), 1);
        assert_eq!(delta(MASK, 1), 2);
    }
}
