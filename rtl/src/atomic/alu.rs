//! The arithmetic of the unit, word-level, as the model computes it.
//!
//! Every opcode reduces to one of two primitives with effective masks, the
//! same reduction the RTL makes in its decode stage:
//!
//! | op          | primitive | compare mask   | swap / no-carry mask |
//! |-------------|-----------|----------------|----------------------|
//! | read        | cas       | 0 (always hit) | 0 (keep every bit)   |
//! | write       | cas       | 0              | all ones             |
//! | cas         | cas       | all ones       | all ones             |
//! | masked_cas  | cas       | `compare_mask` | `swap_add_mask`      |
//! | fadd        | add       | -              | 0 (full carry)       |
//! | masked_fadd | add       | -              | `compare`            |

use super::{AtomicOp, AtomicReq};

/// Masked compare-and-swap; returns the new word.
pub fn masked_cas(orig: u64, compare: u64, swap: u64, compare_mask: u64, swap_mask: u64) -> u64 {
    if (orig ^ compare) & compare_mask == 0 {
        (orig & !swap_mask) | (swap & swap_mask)
    } else {
        orig
    }
}

/// Add with the carry out of every bit set in `nocarry_mask` dropped;
/// returns the new word.
///
/// Clearing the no-carry bits of both operands makes the adder produce no
/// carry out of them; the sum bit there is then only the incoming carry, so
/// the operands' own bits are put back with an XOR. One carry chain, which
/// is what the RTL synthesises.
pub fn masked_fadd(orig: u64, add: u64, nocarry_mask: u64) -> u64 {
    ((orig & !nocarry_mask).wrapping_add(add & !nocarry_mask)) ^ ((orig ^ add) & nocarry_mask)
}

/// The primitive and effective masks an opcode reduces to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub is_add: bool,
    pub compare_mask: u64,
    /// Swap mask for cas, no-carry mask for add.
    pub swap_add_mask: u64,
}

pub fn decode(op: AtomicOp, req: &AtomicReq) -> Decoded {
    let (is_add, compare_mask, swap_add_mask) = match op {
        AtomicOp::Read => (false, 0, 0),
        AtomicOp::Write => (false, 0, !0),
        AtomicOp::Cas => (false, !0, !0),
        AtomicOp::MaskedCas => (false, req.compare_mask, req.swap_add_mask),
        AtomicOp::Fadd => (true, 0, 0),
        AtomicOp::MaskedFadd => (true, 0, req.compare),
    };
    Decoded {
        is_add,
        compare_mask,
        swap_add_mask,
    }
}

/// The word after `req` is applied to `orig`.
pub fn apply(op: AtomicOp, req: &AtomicReq, orig: u64) -> u64 {
    let d = decode(op, req);
    if d.is_add {
        masked_fadd(orig, req.swap_add, d.swap_add_mask)
    } else {
        masked_cas(
            orig,
            req.compare,
            req.swap_add,
            d.compare_mask,
            d.swap_add_mask,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Mellanox's bit-serial definition of MFetchAdd (a set mask bit stops
    /// the carry out of that bit), written as directly as possible.
    fn bit_serial_fadd(va: u64, add: u64, mask: u64) -> u64 {
        let mut carry = 0u64;
        let mut out = 0u64;
        for i in 0..64 {
            let sum = carry + ((va >> i) & 1) + ((add >> i) & 1);
            out |= (sum & 1) << i;
            carry = if (mask >> i) & 1 == 1 { 0 } else { sum >> 1 };
        }
        out
    }

    #[test]
    fn masked_fadd_matches_the_bit_serial_definition() {
        let seed: u64 = std::env::var("HCA_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x5eed);
        println!("seed {seed}");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        for _ in 0..200_000 {
            let (a, b): (u64, u64) = (rng.gen(), rng.gen());
            // Sparse masks make long carry chains likely.
            let m: u64 = rng.gen::<u64>() & rng.gen::<u64>() & rng.gen::<u64>();
            assert_eq!(
                masked_fadd(a, b, m),
                bit_serial_fadd(a, b, m),
                "a={a:#x} b={b:#x} m={m:#x}"
            );
        }
    }

    #[test]
    fn zero_mask_is_plain_add_and_full_mask_is_xor() {
        for (a, b) in [
            (u64::MAX, 1),
            (0x00ff, 0x0001),
            (0x8000_0000_0000_0000, 0x8000_0000_0000_0000),
        ] {
            assert_eq!(masked_fadd(a, b, 0), a.wrapping_add(b));
            assert_eq!(masked_fadd(a, b, !0), a ^ b);
        }
    }

    #[test]
    fn masked_cas_follows_the_published_pseudo_code() {
        // Compare only the low byte: match, replace only the high nibble.
        assert_eq!(masked_cas(0x1234, 0xff34, 0xabcd, 0x00ff, 0xf000), 0xa234);
        // Mismatch in a compared bit: unchanged.
        assert_eq!(masked_cas(0x1234, 0x1235, 0xabcd, 0x00ff, !0), 0x1234);
        // Empty compare mask always matches.
        assert_eq!(masked_cas(7, 9, 5, 0, !0), 5);
    }
}
