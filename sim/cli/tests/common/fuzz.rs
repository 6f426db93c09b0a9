//! A seeded generator of hostile JSON Lines for `hca block`: every op of a
//! block with its fields drawn from small pools (so requests meet the
//! state earlier ones left) and from each field's boundary values (0, its
//! maximum, one past it, 2^64 - 1, ranges ending at and crossing 2^64),
//! written as numbers or hex strings, with fields missing, misspelt, given
//! twice or of the wrong type, and lines mutated byte by byte.

use rand::seq::SliceRandom;
use rand::Rng;

/// What a field holds.
#[derive(Clone, Copy)]
pub enum F {
    /// An unsigned value of so many bits, drawn now and then from the pool.
    U(u32, &'static [u64]),
    /// A 64-bit value; the pool's values and the top of the address space.
    W(&'static [u64]),
    /// Only these 64-bit values.
    Only(&'static [u64]),
    Flag,
    /// One of these names (or a number).
    Name(&'static [&'static str]),
    /// A list of names (or a number).
    Names(&'static [&'static str]),
    /// A nested object.
    Obj(&'static [(&'static str, F)]),
}

/// One op and the fields it takes.
pub type Op = (&'static str, &'static [(&'static str, F)]);

/// Values at and around the top of the 64-bit space.
const TOP: [u64; 6] = [
    u64::MAX,
    u64::MAX - 1,
    u64::MAX - 0xeff,
    u64::MAX - 0xfff,
    0xffff_ffff_ffff_f100,
    1 << 63,
];

fn uint(rng: &mut impl Rng, bits: u32, pool: &[u64]) -> String {
    let max = if bits >= 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    };
    let v: u128 = match rng.gen_range(0..20) {
        0 => 0,
        1 => max as u128,
        2 => max as u128 + 1,
        3 => u64::MAX as u128,
        4 => u64::MAX as u128 + 1,
        5 => rng.gen_range(0..=max) as u128,
        _ => match pool.choose(rng) {
            Some(v) => *v as u128,
            None => rng.gen_range(0..=max.min(64)) as u128,
        },
    };
    number(rng, v)
}

fn wide(rng: &mut impl Rng, pool: &[u64]) -> String {
    let v: u128 = match rng.gen_range(0..12) {
        0 => 0,
        1 => u64::MAX as u128 + rng.gen_range(0..2),
        2..=4 => *TOP.choose(rng).expect("top") as u128,
        5 => rng.gen::<u64>() as u128,
        _ => pool.choose(rng).copied().unwrap_or(0) as u128,
    };
    number(rng, v)
}

/// A value as a JSON integer or a hex string (past 2^64 - 1, as either).
fn number(rng: &mut impl Rng, v: u128) -> String {
    match rng.gen_range(0..3) {
        0 => format!("\"{v:#x}\""),
        1 => format!("\"0x{v:016x}\""),
        _ => v.to_string(),
    }
}

fn value(rng: &mut impl Rng, f: F) -> String {
    // Now and then the wrong type altogether.
    if rng.gen_range(0..60) == 0 {
        return [
            "true", "false", "null", "[]", "{}", "\"\"", "-1", "1.5", "\"0x\"",
        ]
        .choose(rng)
        .expect("wrong")
        .to_string();
    }
    match f {
        F::U(bits, pool) => uint(rng, bits, pool),
        F::W(pool) => wide(rng, pool),
        F::Only(pool) => {
            let v = *pool.choose(rng).expect("pool");
            number(rng, v as u128)
        }
        F::Flag => ["true", "false"].choose(rng).expect("flag").to_string(),
        F::Name(names) => match rng.gen_range(0..15) {
            0 => uint(rng, 8, &[]),
            1 => "\"bogus\"".into(),
            _ => format!("\"{}\"", names.choose(rng).expect("names")),
        },
        F::Names(names) => match rng.gen_range(0..10) {
            0 => uint(rng, 6, &[0x1f]),
            1 => "[\"bogus\"]".into(),
            _ => {
                let picked: Vec<String> = names
                    .iter()
                    .filter(|_| rng.gen_bool(0.5))
                    .map(|n| format!("\"{n}\""))
                    .collect();
                format!("[{}]", picked.join(","))
            }
        },
        F::Obj(fields) => object(rng, None, fields),
    }
}

fn object(rng: &mut impl Rng, op: Option<&str>, fields: &[(&str, F)]) -> String {
    let mut parts: Vec<String> = op.map(|o| format!("\"op\":\"{o}\"")).into_iter().collect();
    for (name, f) in fields {
        if rng.gen_range(0..40) == 0 {
            continue; // missing
        }
        parts.push(format!("\"{name}\":{}", value(rng, *f)));
        if rng.gen_range(0..200) == 0 {
            parts.push(format!("\"{name}\":{}", value(rng, *f))); // twice
        }
    }
    if rng.gen_range(0..100) == 0 {
        parts.push("\"bogus\":1".into());
    }
    if op.is_some() && rng.gen_range(0..50) == 0 {
        parts.shuffle(rng);
    }
    format!("{{{}}}", parts.join(","))
}

/// `n` lines over `ops`, none blank. Returns the input and its line count.
pub fn lines(rng: &mut impl Rng, ops: &[Op], n: usize) -> (Vec<u8>, u64) {
    let mut input = Vec::new();
    let mut count = 0;
    while count < n as u64 {
        let (name, fields) = ops.choose(rng).expect("ops");
        let op = if rng.gen_range(0..200) == 0 {
            "bogus"
        } else {
            name
        };
        let mut l = object(rng, Some(op), fields).into_bytes();
        match rng.gen_range(0..100) {
            0..=2 => {
                // A few bytes changed.
                for _ in 0..rng.gen_range(1..4) {
                    let i = rng.gen_range(0..l.len());
                    l[i] = rng.gen_range(1..=255);
                }
                l.retain(|b| *b != b'\n');
            }
            3 => l.truncate(rng.gen_range(0..l.len())),
            4 => {
                // Blank to the reader: skipped, not answered.
                input.extend_from_slice(" \t\u{a0}\u{3000}\r\n".as_bytes());
                continue;
            }
            _ => {}
        }
        if std::str::from_utf8(&l).is_ok_and(|s| s.trim().is_empty()) {
            continue;
        }
        count += 1;
        input.extend_from_slice(&l);
        input.push(b'\n');
    }
    (input, count)
}
