//! `spawnscope lab` (being written).

/// Arguments of `spawnscope lab`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<i32> {
    Err(super::common::exit_error(2, "spawnscope lab is not implemented yet"))
}
