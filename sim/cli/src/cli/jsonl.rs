//! The JSON Lines loop every `hca block` command runs: one answer per
//! non-blank line, in order, flushed line by line.

use super::json::error_line;
use super::out::OutputError;
use anyhow::{Context, Result};
use std::io::{BufRead, Write};

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
    mem: &mut dyn hca_rtl::transactor::BlockMemory,
    input: impl BufRead,
    output: impl Write,
    parse: impl Fn(&str) -> Result<T::Req, String>,
    render: impl Fn(&T::Req, &T::Resp) -> Answer,
) -> Result<(Totals, u64)>
where
    T: hca_rtl::Transactor + ?Sized,
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
