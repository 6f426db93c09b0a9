//! The 128-bit flow fixture on both clocked backends.

use crate::verilated;
use hca_rtl::fixtures::WideAdder;

crate::bind_block! {
    rtl: WideAdder,
    verilated: verilated::wide_adder::Model,
    inputs WideAdderIn {
        a: u128,
        b: u128,
    }
    outputs WideAdderOut {
        sum: u128,
    }
}
