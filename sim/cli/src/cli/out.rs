//! Standard output and standard error without panics: `print!` and
//! `eprint!` panic when the stream fails (a reader that closed the pipe, a
//! full disk). The `hca` commands write through these macros instead, which
//! return the failure as an [`OutputError`] from the enclosing function, so
//! the command ends with a one-line message and a non-zero exit.

use std::fmt;
use std::io::{self, Write};

/// A write to standard output or standard error failed.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("writing standard output: {0}")]
    Stdout(io::Error),
    #[error("writing standard error: {0}")]
    Stderr(io::Error),
}

/// Write to standard output (line-buffered: flushed at each newline and by
/// [`flush`]).
pub fn stdout(args: fmt::Arguments) -> Result<(), OutputError> {
    io::stdout()
        .lock()
        .write_fmt(args)
        .map_err(OutputError::Stdout)
}

/// Write to standard error (unbuffered).
pub fn stderr(args: fmt::Arguments) -> Result<(), OutputError> {
    io::stderr()
        .lock()
        .write_fmt(args)
        .map_err(OutputError::Stderr)
}

/// Flush what standard output still buffers (before the process exits,
/// where a failure would otherwise go unnoticed).
pub fn flush() -> Result<(), OutputError> {
    io::stdout().lock().flush().map_err(OutputError::Stdout)
}

/// `print!` that returns a failed write (`?` in the enclosing function).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::out::stdout(format_args!($($arg)*))?
    };
}

/// `println!` that returns a failed write.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::cli::out::stdout(format_args!("\n"))?
    };
    ($($arg:tt)*) => {
        $crate::cli::out::stdout(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

/// `eprintln!` that returns a failed write.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::out::stderr(format_args!("{}\n", format_args!($($arg)*)))?
    };
}
