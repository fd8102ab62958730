//! `spawnscope report` (being written).

/// Arguments of `spawnscope report`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<i32> {
    Err(super::common::exit_error(2, "spawnscope report is not implemented yet"))
}
