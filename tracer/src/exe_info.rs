//! Facts about an executable file that the analysis needs and a trace
//! cannot otherwise carry: which rustc built it.
//!
//! Rust std's rules for falling back from posix_spawn to fork changed
//! across versions (SS002): `current_dir()` forced the fork before 1.34, a
//! PATH change forced it for any program before 1.49. The compiler leaves
//! its version in the ELF `.comment` section (`rustc version 1.95.0
//! (59807616e 2026-04-14)`); the stack walker reads it once per module it
//! maps and writes it into the trace's `module` record (`rustc`), so the
//! analyzer can apply the rules of the std that made the spawn.
//!
//! Anything unexpected is `None`, never an error.

use std::path::Path;

use object::{Object, ObjectSection};

/// The rustc version (`"1.95.0"`) named by an ELF `.comment` section's bytes
/// (NUL-separated producer strings), if one is rustc.
pub fn rustc_from_comment(comment: &[u8]) -> Option<String> {
    comment.split(|&b| b == 0).find_map(|s| {
        let s = std::str::from_utf8(s).ok()?;
        let v = s.strip_prefix("rustc version ")?;
        Some(v.split_whitespace().next()?.to_string())
    })
}

/// The rustc version of a parsed object file, from its `.comment` section.
pub(crate) fn rustc_of(obj: &object::File<'_>) -> Option<String> {
    rustc_from_comment(&obj.section_by_name(".comment")?.uncompressed_data().ok()?)
}

/// The rustc version an ELF file was built with; None for a non-Rust or
/// non-ELF file or a read error.
pub fn rustc_version(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let obj = object::File::parse(&bytes[..]).ok()?;
    rustc_of(&obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_rustc_version_of_this_test_binary() {
        let exe = std::env::current_exe().unwrap();
        let v = rustc_version(&exe).expect("a Rust binary names its compiler in .comment");
        let mut parts = v.split('.');
        assert_eq!(parts.next(), Some("1"), "{v}");
        let minor: u32 = parts.next().unwrap().parse().unwrap();
        assert!(minor >= 85, "{v}");
    }

    #[test]
    fn comment_strings_name_rustc_only() {
        assert_eq!(
            rustc_from_comment(b"GCC: (Debian 12.2.0-14) 12.2.0\0rustc version 1.48.0 (7eac88abb 2020-11-16)\0").as_deref(),
            Some("1.48.0")
        );
        assert_eq!(rustc_from_comment(b"GCC: (Debian 12.2.0-14) 12.2.0\0"), None);
        assert_eq!(rustc_from_comment(b""), None);
    }

    #[test]
    fn non_elf_and_missing_files_are_none() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("script");
        std::fs::write(&p, "#!/bin/sh\necho hi\n").unwrap();
        assert_eq!(rustc_version(&p), None);
        assert_eq!(rustc_version(&dir.path().join("missing")), None);
        // A truncated ELF header.
        std::fs::write(&p, b"\x7fELF\x02\x01").unwrap();
        assert_eq!(rustc_version(&p), None);
    }
}
