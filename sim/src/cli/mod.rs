//! The `hca` subcommands.
