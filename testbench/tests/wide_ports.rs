//! Ports wider than 64 bits cross every clocked backend intact: a 128-bit
//! registered adder checked against u128 arithmetic.

mod common;

use hca_engines::backend::rtl::RtlSim;
use hca_engines::backend::verilator::Verilated;
use hca_engines::blocks::wide_adder::{WideAdderIn, WideAdderOut};
use hca_engines::verilated::wide_adder::{Model, PORTS};
use hca_testbench::clock::Clock;
use hca_testbench::runner::run_replayable;
use hca_testbench::{Dut, Seed};
use rand::Rng;
use std::path::Path;

fn check<D: Dut<In = WideAdderIn, Out = WideAdderOut>>(
    mut dut: D,
    seed: Seed,
    wave: Option<&Path>,
) -> Result<(), String> {
    if let Some(p) = wave {
        dut.open_trace(p).map_err(|e| e.to_string())?;
    }
    let mut rng = seed.rng("wide");
    let mut clock = Clock::default();
    clock.start(&mut dut).map_err(|_| "unsettled")?;
    for i in 0..20_000 {
        let (a, b): (u128, u128) = match i % 4 {
            0 => (u128::MAX, rng.gen_range(0..4)), // carries across every word
            1 => (
                1u128 << rng.gen_range(0..128),
                1u128 << rng.gen_range(0..128),
            ),
            _ => (rng.gen(), rng.gen()),
        };
        dut.drive(&WideAdderIn { a, b });
        clock.cycle(&mut dut).map_err(|_| "unsettled")?;
        let got = dut.sample().map_err(|_| "unsettled")?.sum;
        if got != a.wrapping_add(b) {
            return Err(format!("cycle {i}: {a:#x} + {b:#x} gave {got:#x}"));
        }
    }
    dut.close_trace();
    Ok(())
}

#[test]
fn shim_declares_wide_ports_at_full_width() {
    let widths: Vec<(&str, usize)> = PORTS.iter().map(|p| (p.name, p.width)).collect();
    assert_eq!(widths, [("clock", 1), ("a", 128), ("b", 128), ("sum", 128)]);
}

#[test]
fn rtl() {
    let seed = Seed::from_env();
    run_replayable("wide_ports", "rtl", seed, &common::wave_dir(), |wave| {
        check(
            RtlSim::<hca_rtl::fixtures::WideAdder>::default(),
            seed,
            wave,
        )
    });
}

#[test]
fn verilator() {
    let seed = Seed::from_env();
    run_replayable(
        "wide_ports",
        "verilator",
        seed,
        &common::wave_dir(),
        |wave| check(Verilated::<Model>::default(), seed, wave),
    );
}
