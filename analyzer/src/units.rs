//! Human units for durations and sizes: the workspace's one formatter
//! (`spawnscope_units`), under the names finding messages use. Every
//! presentation (report, check, diff, lab, TUI) calls the same functions, so
//! the same number reads the same everywhere.

pub use spawnscope_units::{bytes as fmt_bytes, duration as fmt_ns, percentile};
