//! Shared by the JSON Lines tests of every `hca block` command.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use hca_cli::cli::jsonl::Totals;
use hca_engines::Backend;
use rand::{Rng, SeedableRng};
use std::path::Path;

pub mod fuzz;

/// A block's `serve` function.
pub type Serve = fn(Backend, Option<&Path>, &[u8], &mut Vec<u8>) -> anyhow::Result<(Totals, u64)>;

/// Serve `input` on every backend; assert they answer alike, one JSON
/// object per line; return the answers and the totals.
pub fn serve_everywhere(serve: Serve, input: &[u8], lines: u64) -> (String, Totals) {
    let mut first: Option<(String, Totals)> = None;
    for backend in Backend::ALL {
        let mut out = Vec::new();
        let (totals, _) = serve(backend, None, input, &mut out).expect("serve");
        let text = String::from_utf8(out).expect("answers are UTF-8");
        assert_eq!(totals.lines, lines, "{backend}: one answer per line");
        for a in text.lines() {
            let v: serde_json::Value = serde_json::from_str(a).expect("every answer is JSON");
            assert!(v.is_object(), "{a}");
        }
        match &first {
            None => first = Some((text, totals)),
            Some((t, _)) => assert_eq!(&text, t, "{backend} answers differently from the model"),
        }
    }
    first.expect("there are backends")
}

/// 3000 lines: mutated copies of `good` lines and raw bytes (some not
/// UTF-8), none blank. Returns the input and its line count.
pub fn garbage(good: &[&str]) -> (Vec<u8>, u64) {
    let seed = hca_testbench::Seed::from_env();
    println!("seed {seed} (replay with {})", seed.replay_hint());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed.0);
    let mut input = Vec::new();
    let mut lines = 0;
    for _ in 0..3000 {
        let mut l: Vec<u8> = good[rng.gen_range(0..good.len())].as_bytes().to_vec();
        if rng.gen_bool(0.3) {
            l = (0..rng.gen_range(1..40))
                .map(|_| rng.gen_range(1..=255u8))
                .filter(|b| *b != b'\n')
                .collect();
        } else {
            for _ in 0..rng.gen_range(1..4) {
                let i = rng.gen_range(0..l.len());
                l[i] = rng.gen_range(0x20..0x7f);
            }
        }
        // Lines that are blank to `serve_lines` (Unicode whitespace) are
        // skipped there, not answered.
        if std::str::from_utf8(&l).is_ok_and(|s| s.trim().is_empty()) {
            continue;
        }
        lines += 1;
        input.extend_from_slice(&l);
        input.push(b'\n');
    }
    (input, lines)
}
