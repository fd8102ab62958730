//! `spawnscope import` (being written).

/// What to import.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Convert an strace log into a spawnscope trace.
    Strace(StraceArgs),
}

/// Arguments of `spawnscope import strace`.
#[derive(Debug, clap::Args)]
pub struct StraceArgs {}

pub fn run(_cmd: Command) -> anyhow::Result<i32> {
    Err(super::common::exit_error(2, "spawnscope import is not implemented yet"))
}
