//! `spawnscope view`, `run` and `demo` (being written).

/// Arguments of `spawnscope view`.
#[derive(Debug, clap::Args)]
pub struct ViewArgs {}
/// Arguments of `spawnscope run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {}
/// Arguments of `spawnscope demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

pub fn view(_a: ViewArgs) -> anyhow::Result<i32> {
    Err(super::common::exit_error(2, "spawnscope view is not implemented yet"))
}
pub fn run_live(_a: RunArgs) -> anyhow::Result<i32> {
    Err(super::common::exit_error(2, "spawnscope run is not implemented yet"))
}
pub fn demo(_a: DemoArgs) -> anyhow::Result<i32> {
    Err(super::common::exit_error(2, "spawnscope demo is not implemented yet"))
}
