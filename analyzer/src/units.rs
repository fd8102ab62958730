//! Human units for durations and sizes, shared by finding messages and every
//! presentation (report, TUI) so they all print the same numbers.

use spawnscope_format::Nanos;

/// `12.3 ms`, `850 µs`, `1.20 s`.
pub fn fmt_ns(ns: Nanos) -> String {
    let n = ns as f64;
    if ns >= 10_000_000_000 {
        format!("{:.1} s", n / 1e9)
    } else if ns >= 1_000_000_000 {
        format!("{:.2} s", n / 1e9)
    } else if ns >= 10_000_000 {
        format!("{:.0} ms", n / 1e6)
    } else if ns >= 1_000_000 {
        format!("{:.1} ms", n / 1e6)
    } else if ns >= 1_000 {
        format!("{:.0} µs", n / 1e3)
    } else {
        format!("{ns} ns")
    }
}

/// `27.1 KiB`, `4.0 GiB`.
pub fn fmt_bytes(b: u64) -> String {
    const K: f64 = 1024.0;
    let f = b as f64;
    if f >= K * K * K {
        format!("{:.1} GiB", f / (K * K * K))
    } else if f >= K * K {
        format!("{:.1} MiB", f / (K * K))
    } else if f >= K {
        format!("{:.1} KiB", f / K)
    } else {
        format!("{b} B")
    }
}
