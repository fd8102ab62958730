//! `spawnscope record` (being written).

/// Arguments of `spawnscope record`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<i32> {
    Err(super::common::exit_error(2, "spawnscope record is not implemented yet"))
}
