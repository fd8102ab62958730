//! Sizes written like `512M`, `1G`, `1.5GiB` (binary units; read and
//! printed by `spawnscope_units`).

use crate::LabError;

/// Parses a byte size: a number with an optional binary unit `K`, `M`, `G`,
/// `T` (also `KiB`, `MB`, ...; all mean powers of 1024). A bare number is bytes.
///
/// ```
/// assert_eq!(spawnscope_lab::parse_size("1G").unwrap(), 1 << 30);
/// assert_eq!(spawnscope_lab::parse_size("512M").unwrap(), 512 << 20);
/// assert!(spawnscope_lab::parse_size("lots").is_err());
/// ```
pub fn parse_size(s: &str) -> Result<u64, LabError> {
    spawnscope_units::parse_size(s).map_err(LabError::InvalidArgument)
}

/// The shortest exact form of a size for a command line (`1G`, `512M`, `4097`).
pub fn size_arg(bytes: u64) -> String {
    for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
        if bytes != 0 && bytes.is_multiple_of(1u64 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_binary() {
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("4k").unwrap(), 4096);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("1.5G").unwrap(), 3 << 29);
        assert_eq!(parse_size("0").unwrap(), 0);
    }

    #[test]
    fn bad_sizes_are_refused() {
        for s in ["", "G", "1X", "-1G", "1..2M", "99999999T"] {
            assert!(parse_size(s).is_err(), "{s:?} accepted");
        }
    }

    #[test]
    fn arg_round_trips() {
        for b in [0, 1, 4097, 1 << 20, 3 << 30, 512 << 20] {
            assert_eq!(parse_size(&size_arg(b)).unwrap(), b);
        }
        assert_eq!(size_arg(1 << 30), "1G");
    }
}
