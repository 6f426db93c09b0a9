//! The shared context cache (the QPC's, the TPT's and the CQ engine's) on
//! both clocked backends, held to its model clock by clock: random line
//! fills, writes, drops and clears, with the inputs a block never combines
//! (a fill and a write in one clock, a fill beat past the last word) mixed
//! in.

mod common;

use hca_engines::backend::rtl::RtlSim;
use hca_engines::backend::verilator::Verilated;
use hca_engines::blocks::context_cache::{CacheIn, CacheOut};
use hca_engines::verilated::context_cache::Model;
use hca_rtl::cache::{CacheInputs, CacheModel};
use hca_testbench::clock::Clock;
use hca_testbench::runner::run_replayable;
use hca_testbench::{Dut, Seed};
use rand::Rng;
use std::path::Path;

const LINES: usize = 4;
const W: usize = 3;

/// A clock's inputs: a few entries and lines, so fills, hits and drops
/// meet each other.
fn inputs(rng: &mut impl Rng, beat: &mut u8) -> CacheInputs<W> {
    let entry = [0u32, 1, 4, 5, 0xff_ffff][rng.gen_range(0..5)];
    let mut i = CacheInputs {
        line: rng.gen_range(0..LINES),
        entry,
        write_words: [rng.gen(), rng.gen(), rng.gen()],
        fill_data: rng.gen(),
        ..Default::default()
    };
    match rng.gen_range(0..20) {
        // A fill's beats in order, the last one making the line valid.
        0..=7 => {
            i.fill = true;
            i.fill_word = *beat;
            i.fill_done = *beat == W as u8;
            *beat = (*beat + 1) % (W as u8 + 1);
        }
        8..=11 => i.write = true,
        12 => i.drop = true,
        13 => i.clear = rng.gen_bool(0.3),
        // What no block does: anything at all.
        14 => {
            i.fill = rng.gen();
            i.write = rng.gen();
            i.fill_word = rng.gen_range(0..8);
            i.fill_done = rng.gen();
            i.drop = rng.gen();
        }
        _ => {}
    }
    i
}

fn check<D: Dut<In = CacheIn, Out = CacheOut>>(
    mut dut: D,
    seed: Seed,
    wave: Option<&Path>,
) -> Result<(), String> {
    if let Some(p) = wave {
        dut.open_trace(p).map_err(|e| e.to_string())?;
    }
    let mut rng = seed.rng("context-cache");
    let mut model = CacheModel::<LINES, W>::default();
    let mut clock = Clock::default();
    clock.start(&mut dut).map_err(|_| "unsettled")?;
    let mut beat = 0;
    for n in 0..common::random_ops("HCA_CACHE_CLOCKS").min(50_000) {
        let i = inputs(&mut rng, &mut beat);
        dut.drive(&CacheIn {
            clear: i.clear,
            line: i.line as u64,
            entry: i.entry as u64,
            write: i.write,
            write0: i.write_words[0],
            write1: i.write_words[1],
            write2: i.write_words[2],
            fill: i.fill,
            fill_word: i.fill_word as u64,
            fill_data: i.fill_data,
            fill_done: i.fill_done,
            drop: i.drop,
        });
        clock.cycle(&mut dut).map_err(|_| "unsettled")?;
        model.clock(&i);
        let o = dut.sample().map_err(|_| "unsettled")?;
        let got = ([o.word0, o.word1, o.word2], o.held as u32, o.valid);
        let want = (model.words(), model.held(), model.valid());
        if got != want {
            return Err(format!(
                "clock {n}, after {i:?}: the cache gave (words, held, valid) {got:x?}, the model {want:x?}"
            ));
        }
    }
    dut.close_trace();
    Ok(())
}

#[test]
fn rtl() {
    let seed = Seed::from_env();
    run_replayable("context_cache", "rtl", seed, &common::wave_dir(), |wave| {
        check(
            RtlSim::<hca_rtl::fixtures::CacheFixture>::default(),
            seed,
            wave,
        )
    });
}

#[test]
fn verilator() {
    let seed = Seed::from_env();
    run_replayable(
        "context_cache",
        "verilator",
        seed,
        &common::wave_dir(),
        |wave| check(Verilated::<Model>::default(), seed, wave),
    );
}

/// The model agrees with what the three blocks rely on: a fill's last beat
/// makes the line hold the entry, a write changes only its line, a drop
/// and a clear empty lines.
#[test]
fn model_keeps_what_the_blocks_rely_on() {
    let mut m = CacheModel::<LINES, W>::default();
    let fill = |m: &mut CacheModel<LINES, W>, line, entry, base: u64| {
        for k in 0..=W as u8 {
            m.clock(&CacheInputs {
                line,
                entry,
                fill: true,
                fill_word: k,
                fill_data: base + k as u64,
                fill_done: k == W as u8,
                ..Default::default()
            });
        }
    };
    fill(&mut m, 1, 5, 10);
    fill(&mut m, 2, 6, 20);
    assert_eq!(m.valid(), 0b110);
    let read = |m: &mut CacheModel<LINES, W>, line| {
        m.clock(&CacheInputs {
            line,
            ..Default::default()
        });
        (m.words(), m.held())
    };
    assert_eq!(read(&mut m, 1), ([10, 11, 12], 5));
    m.clock(&CacheInputs {
        line: 2,
        write: true,
        write_words: [7, 8, 9],
        ..Default::default()
    });
    assert_eq!(read(&mut m, 2), ([7, 8, 9], 6));
    assert_eq!(read(&mut m, 1), ([10, 11, 12], 5));
    m.clock(&CacheInputs {
        line: 1,
        drop: true,
        ..Default::default()
    });
    assert_eq!(m.valid(), 0b100);
    m.clock(&CacheInputs {
        clear: true,
        ..Default::default()
    });
    assert_eq!(m.valid(), 0);
}
