//! The differential loop every block's random test runs: requests from a
//! generator that also knows the model's answer, sent to the design in
//! randomly sized back-to-back batches, every response checked in order.

use crate::scoreboard::{Mismatch, Scoreboard};
use hca_rtl::Transactor;
use rand::Rng;
use std::fmt::Debug;

/// Send `n` requests from `next` (which returns each request with the
/// model's response to it) through `dut`, in batches of 1 to 256, and
/// compare every response. `progress` gets the running total after each
/// batch; `done` is the number checked before this call (for messages).
pub fn run_batches<T, R>(
    dut: &mut T,
    rng: &mut R,
    n: u64,
    done: u64,
    mut next: impl FnMut(&mut R) -> (T::Req, T::Resp),
    mut progress: impl FnMut(u64),
) -> Result<(), String>
where
    T: Transactor + ?Sized,
    T::Req: Clone + Debug,
    T::Resp: Clone + Debug + PartialEq,
    R: Rng,
{
    let mut board: Scoreboard<T::Req, T::Resp> = Scoreboard::default();
    let mut sent = 0;
    while sent < n {
        let len = rng.gen_range(1..=256).min(n - sent);
        let mut batch = Vec::with_capacity(len as usize);
        for _ in 0..len {
            let (req, resp) = next(rng);
            board.expect(req.clone(), resp);
            batch.push(req);
        }
        let got = dut
            .transact(&batch)
            .map_err(|e| format!("after {} checked transactions: {e}", done + board.checked()))?;
        for r in got {
            board
                .observe(r, dut.cycles())
                .map_err(|mut m: Box<Mismatch<_, _>>| {
                    m.index += done;
                    m.to_string()
                })?;
        }
        sent += len;
        progress(done + sent);
    }
    Ok(())
}
