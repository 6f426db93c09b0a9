//! The JSON Lines loop every `hca block` command runs: one answer per
//! non-blank line, in order, flushed line by line; and the one generic
//! loop ([`serve`]) that serves any block described by a [`JsonBlock`].

use super::json::{error_line, parse_line, Op};
use super::out::OutputError;
use crate::Backend;
use anyhow::{Context, Result};
use hca_rtl::transactor::{BlockMemory, Transactor};
use std::io::{BufRead, Write};
use std::path::Path;

/// A block as `hca block` serves it.
pub trait JsonBlock {
    type Req: 'static;
    type Resp;
    /// The ops a line may name, with their operands.
    const OPS: &'static [Op<Self::Req>];
    /// The block on `backend`, its waveform in `vcd` when asked for.
    fn open(
        backend: Backend,
        vcd: Option<&Path>,
    ) -> Result<Box<dyn Transactor<Req = Self::Req, Resp = Self::Resp> + Send>>;
    /// The memory its ICM and DMA ports reach.
    fn memory() -> Box<dyn BlockMemory>;
    /// The answer to a completed request.
    fn render(req: &Self::Req, resp: &Self::Resp) -> Answer;
}

/// Answer every line of `input` on `output` with block `B`, in order,
/// each request held to `max_cycles` when given (else to the block's own
/// bound); returns the totals and the cycles the backend ran.
pub fn serve<B: JsonBlock>(
    backend: Backend,
    vcd: Option<&Path>,
    max_cycles: Option<u64>,
    input: impl BufRead,
    output: impl Write,
) -> Result<(Totals, u64)> {
    let mut dut = B::open(backend, vcd)?;
    dut.set_cycle_limit(max_cycles);
    let mut mem = B::memory();
    serve_block(
        &mut *dut,
        &mut *mem,
        input,
        output,
        |line| parse_line(line, B::OPS),
        B::render,
    )
}

/// What a block made of one line.
pub enum Answer {
    /// A response object.
    Response(String),
    /// The line was refused; the reason goes out as `{"error": ...}`.
    Refused(String),
}

/// Totals of one run, for the summary on stderr.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub lines: u64,
    pub errors: u64,
}

/// Answer every line of `input` on `output`. A line that is not UTF-8 is
/// refused like any other bad line; `handle` returning `Err` (the simulator
/// itself failed) stops the run, and so does an answer that cannot be
/// written (a reader that closed the pipe, a full disk).
pub fn serve_lines(
    mut input: impl BufRead,
    mut output: impl Write,
    mut handle: impl FnMut(&str) -> Result<Answer>,
) -> Result<Totals> {
    let mut totals = Totals::default();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if input
            .read_until(b'\n', &mut buf)
            .context("reading standard input")?
            == 0
        {
            return Ok(totals);
        }
        let answer = match std::str::from_utf8(&buf) {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => {
                totals.lines += 1;
                handle(line.trim_end_matches(['\n', '\r']))
                    .with_context(|| format!("on input line {}", totals.lines))?
            }
            Err(_) => {
                totals.lines += 1;
                Answer::Refused("line is not UTF-8".into())
            }
        };
        let text = match answer {
            Answer::Response(r) => r,
            Answer::Refused(reason) => {
                totals.errors += 1;
                error_line(&reason)
            }
        };
        writeln!(output, "{text}")
            .and_then(|_| output.flush())
            .map_err(OutputError::Stdout)?;
    }
}

/// Serve a block: each line parsed into a request, sent to `dut`, its
/// response rendered; the block's ports reach `mem`. Returns the totals and the cycles the backend ran.
pub fn serve_block<T>(
    dut: &mut T,
    mem: &mut dyn BlockMemory,
    input: impl BufRead,
    output: impl Write,
    parse: impl Fn(&str) -> Result<T::Req, String>,
    render: impl Fn(&T::Req, &T::Resp) -> Answer,
) -> Result<(Totals, u64)>
where
    T: Transactor + ?Sized,
{
    let backend = dut.backend();
    let totals = serve_lines(input, output, |line| match parse(line) {
        Err(reason) => Ok(Answer::Refused(reason)),
        Ok(req) => match dut.transact(std::slice::from_ref(&req), mem) {
            Ok(resp) => Ok(render(&req, &resp[0])),
            // The block wedged and was reset: this line's answer is the
            // error, and the run goes on.
            Err(e) if e.recoverable() => Ok(Answer::Refused(format!("{backend} backend: {e}"))),
            Err(e) => Err(e).with_context(|| format!("the {backend} backend failed")),
        },
    })?;
    Ok((totals, dut.cycles()))
}
