//! One port table per block binds its signal structs to every backend.
//!
//! [`bind_block!`] takes the block's rust-hdl type, its Verilated model and
//! the list of its ports (the clock excepted) and generates the input and
//! output structs and the [`Dut`](crate::Dut) impl for both
//! backends, so the two cannot disagree on a port.

use rust_hdl::prelude::{Bits, ToBits};

/// A port value in the testbench's signal structs as the Verilator shim
/// takes it: `bool` and `u64` as a `u64`, `u128` as four 32-bit words,
/// least significant first.
pub trait VerilatorValue<R>: Copy {
    fn to_port(self) -> R;
    fn from_port(r: R) -> Self;
}

impl VerilatorValue<u64> for bool {
    fn to_port(self) -> u64 {
        self as u64
    }
    fn from_port(r: u64) -> Self {
        r & 1 != 0
    }
}

impl VerilatorValue<u64> for u64 {
    fn to_port(self) -> u64 {
        self
    }
    fn from_port(r: u64) -> Self {
        r
    }
}

impl VerilatorValue<[u32; 4]> for u128 {
    fn to_port(self) -> [u32; 4] {
        [
            self as u32,
            (self >> 32) as u32,
            (self >> 64) as u32,
            (self >> 96) as u32,
        ]
    }
    fn from_port(r: [u32; 4]) -> Self {
        r.iter().rev().fold(0u128, |acc, w| acc << 32 | *w as u128)
    }
}

/// Conversion between the testbench's values and rust-hdl's signal types.
pub trait HdlValue<T> {
    fn to_hdl(self) -> T;
    fn from_hdl(t: T) -> Self;
}

impl HdlValue<bool> for bool {
    fn to_hdl(self) -> bool {
        self
    }
    fn from_hdl(t: bool) -> Self {
        t
    }
}

impl<const N: usize> HdlValue<Bits<N>> for u128 {
    fn to_hdl(self) -> Bits<N> {
        self.to_bits()
    }
    fn from_hdl(t: Bits<N>) -> Self {
        t.to_u128()
    }
}

impl<const N: usize> HdlValue<Bits<N>> for u64 {
    fn to_hdl(self) -> Bits<N> {
        Bits::<N>::from(self)
    }
    fn from_hdl(t: Bits<N>) -> Self {
        t.to_u64()
    }
}

#[macro_export]
macro_rules! bind_block {
    (
        rtl: $rtl:ty,
        verilated: $vm:ty,
        inputs $In:ident { $($(#[$imeta:meta])* $ip:ident : $it:ty),* $(,)? }
        outputs $Out:ident { $($(#[$ometa:meta])* $op:ident : $ot:ty),* $(,)? }
    ) => {
        /// The block's inputs, one field per port (the clock excepted).
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $In { $($(#[$imeta])* pub $ip: $it),* }

        /// The block's outputs, one field per port.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $Out { $($(#[$ometa])* pub $op: $ot),* }

        impl $crate::Dut for $crate::backend::rtl::RtlSim<$rtl> {
            type In = $In;
            type Out = $Out;
            fn backend(&self) -> &'static str { "rtl" }
            fn drive(&mut self, i: &$In) {
                let u = self.uut_mut();
                $( u.$ip.next = $crate::bind::HdlValue::to_hdl(i.$ip); )*
            }
            fn settle(&mut self) -> Result<(), $crate::Unsettled> {
                $crate::backend::rtl::RtlSim::settle(self)
            }
            fn sample(&mut self) -> Result<$Out, $crate::Unsettled> {
                $crate::backend::rtl::RtlSim::settle(self)?;
                let u = self.uut();
                Ok($Out { $( $op: $crate::bind::HdlValue::from_hdl(u.$op.val()) ),* })
            }
            fn clock_pin(&mut self, high: bool) {
                self.uut_mut().clock.next = rust_hdl::prelude::Clock { clk: high };
            }
            fn tracing(&self) -> bool { $crate::backend::rtl::RtlSim::tracing(self) }
            fn open_trace(&mut self, path: &std::path::Path) -> std::io::Result<()> {
                $crate::backend::rtl::RtlSim::open_trace(self, path)
            }
            fn dump(&mut self, time_ps: u64) { $crate::backend::rtl::RtlSim::dump(self, time_ps) }
            fn close_trace(&mut self) { $crate::backend::rtl::RtlSim::close_trace(self) }
        }

        impl $crate::Dut for $crate::backend::verilator::Verilated<$vm> {
            type In = $In;
            type Out = $Out;
            fn backend(&self) -> &'static str { "verilator" }
            fn drive(&mut self, i: &$In) {
                let m = self.model_mut();
                paste::paste! { $( m.[<set_ $ip>]($crate::bind::VerilatorValue::to_port(i.$ip)); )* }
            }
            fn settle(&mut self) -> Result<(), $crate::Unsettled> {
                self.settle_with(|m| m.eval());
                Ok(())
            }
            fn sample(&mut self) -> Result<$Out, $crate::Unsettled> {
                self.settle_with(|m| m.eval());
                let m = self.model();
                Ok($Out { $( $op: $crate::bind::VerilatorValue::from_port(m.$op()) ),* })
            }
            fn clock_pin(&mut self, high: bool) {
                self.model_mut().set_clock(high as u64);
            }
            fn tracing(&self) -> bool { self.is_tracing() }
            fn open_trace(&mut self, path: &std::path::Path) -> std::io::Result<()> {
                self.model_mut().trace_open(path)?;
                self.set_tracing(true);
                Ok(())
            }
            fn dump(&mut self, time_ps: u64) { self.model_mut().trace_dump(time_ps) }
            fn close_trace(&mut self) {
                self.model_mut().trace_close();
                self.set_tracing(false);
            }
        }
    };
}
