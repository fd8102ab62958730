//! Portable analysis of spawnscope traces (skeleton: being written).

mod model;
pub use model::*;
