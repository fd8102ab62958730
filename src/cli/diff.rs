//! `spawnscope diff` (being written).

/// Arguments of `spawnscope diff`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<i32> {
    Err(super::common::exit_error(2, "spawnscope diff is not implemented yet"))
}
