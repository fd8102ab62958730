//! Facts about an executable file that the analysis needs and a trace
//! cannot otherwise carry: which rustc built it.
//!
//! Rust std's rules for falling back from posix_spawn to fork changed
//! across versions (SS002): `current_dir()` forced the fork before 1.34, a
//! PATH change forced it for any program before 1.49. The compiler leaves
//! its version in the ELF `.comment` section (`rustc version 1.95.0
//! (59807616e 2026-04-14)`), so reading it once per executable at record
//! time lets the analyzer apply the rules of the std that made the spawn.
//!
//! Reads are bounded (headers, the section table and at most 4 KiB of
//! `.comment`); anything unexpected is `None`, never an error.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Most bytes of `.comment` read.
const MAX_COMMENT: u64 = 4096;
/// Most section headers looked at.
const MAX_SECTIONS: u64 = 4096;

/// The rustc version (`"1.95.0"`) an ELF executable was built with, from its
/// `.comment` section; None for a non-Rust or non-ELF file or a read error.
pub fn rustc_version(path: &Path) -> Option<String> {
    let comment = elf_comment(path)?;
    comment.split(|&b| b == 0).find_map(|s| {
        let s = std::str::from_utf8(s).ok()?;
        let v = s.strip_prefix("rustc version ")?;
        Some(v.split_whitespace().next()?.to_string())
    })
}

/// The `.comment` section of a 64-bit little-endian ELF file.
fn elf_comment(path: &Path) -> Option<Vec<u8>> {
    let mut f = File::open(path).ok()?;
    let mut eh = [0u8; 64];
    f.read_exact(&mut eh).ok()?;
    // ELFCLASS64, ELFDATA2LSB.
    if &eh[..4] != b"\x7fELF" || eh[4] != 2 || eh[5] != 1 {
        return None;
    }
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    let shoff = u64_at(&eh, 0x28);
    let shentsize = u64::from(u16_at(&eh, 0x3a));
    let shnum = u64::from(u16_at(&eh, 0x3c));
    let shstrndx = u64::from(u16_at(&eh, 0x3e));
    if shentsize < 64 || shnum == 0 || shnum > MAX_SECTIONS || shstrndx >= shnum {
        return None;
    }
    let mut table = vec![0u8; (shentsize * shnum) as usize];
    f.seek(SeekFrom::Start(shoff)).ok()?;
    f.read_exact(&mut table).ok()?;
    let sh = |i: u64| &table[(i * shentsize) as usize..((i + 1) * shentsize) as usize];
    let names = sh(shstrndx);
    let (str_off, str_size) = (u64_at(names, 0x18), u64_at(names, 0x20).min(64 * 1024));
    let mut strtab = vec![0u8; str_size as usize];
    f.seek(SeekFrom::Start(str_off)).ok()?;
    f.read_exact(&mut strtab).ok()?;
    for i in 0..shnum {
        let h = sh(i);
        let name_off = u32_at(h, 0) as usize;
        let name = strtab.get(name_off..)?.split(|&b| b == 0).next()?;
        if name == b".comment" {
            let (off, size) = (u64_at(h, 0x18), u64_at(h, 0x20).min(MAX_COMMENT));
            let mut buf = vec![0u8; size as usize];
            f.seek(SeekFrom::Start(off)).ok()?;
            f.read_exact(&mut buf).ok()?;
            return Some(buf);
        }
    }
    None
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
