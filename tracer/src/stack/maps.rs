//! `/proc/PID/maps`: the executable mappings of a process.

/// One executable mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapping {
    pub start: u64,
    pub end: u64,
    /// File offset of `start`.
    pub offset: u64,
    pub dev: (u32, u32),
    pub inode: u64,
    /// The path column: a file, `[vdso]`, `[anon:...]`, or empty for
    /// anonymous memory. ` (deleted)` is cut off (see `deleted`).
    pub path: String,
    pub deleted: bool,
}

impl Mapping {
    /// A file mapping (not anonymous, not a `[special]` one).
    pub fn is_file(&self) -> bool {
        self.inode != 0 && self.path.starts_with('/')
    }
}

/// The executable mappings of `pid`, sorted by address.
pub(crate) fn exec_mappings(pid: i32) -> std::io::Result<Vec<Mapping>> {
    let text = std::fs::read(format!("/proc/{pid}/maps"))?;
    let text = String::from_utf8_lossy(&text);
    let mut out: Vec<Mapping> = text.lines().filter_map(parse_line).collect();
    out.sort_by_key(|m| m.start);
    Ok(out)
}

/// Parses one line; None for non-executable or malformed lines.
pub(crate) fn parse_line(line: &str) -> Option<Mapping> {
    let mut it = line.splitn(6, ' ');
    let range = it.next()?;
    let perms = it.next()?;
    if perms.as_bytes().get(2) != Some(&b'x') {
        return None;
    }
    let offset = u64::from_str_radix(it.next()?, 16).ok()?;
    let (maj, min) = it.next()?.split_once(':')?;
    let inode: u64 = it.next()?.parse().ok()?;
    let rest = it.next().unwrap_or("").trim_start();
    let (start, end) = range.split_once('-')?;
    let (path, deleted) = match rest.strip_suffix(" (deleted)") {
        Some(p) => (p, true),
        None => (rest, false),
    };
    Some(Mapping {
        start: u64::from_str_radix(start, 16).ok()?,
        end: u64::from_str_radix(end, 16).ok()?,
        offset,
        dev: (u32::from_str_radix(maj, 16).ok()?, u32::from_str_radix(min, 16).ok()?),
        inode,
        path: path.to_string(),
        deleted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_file_anon_and_deleted_lines() {
        let m = parse_line(
            "7f1c2a428000-7f1c2a57d000 r-xp 00026000 08:01 1835241                    /usr/lib/x86_64-linux-gnu/libc.so.6",
        )
        .unwrap();
        assert_eq!((m.start, m.end, m.offset, m.dev, m.inode), (0x7f1c2a428000, 0x7f1c2a57d000, 0x26000, (8, 1), 1835241));
        assert_eq!(m.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
        assert!(m.is_file() && !m.deleted);
        let d = parse_line("55d0c0a00000-55d0c0a10000 r-xp 00001000 fd:00 42 /tmp/my prog (deleted)").unwrap();
        assert_eq!((d.path.as_str(), d.deleted), ("/tmp/my prog", true));
        let a = parse_line("7f00aa000000-7f00aa100000 rwxp 00000000 00:00 0 ").unwrap();
        assert!(!a.is_file() && a.path.is_empty());
        let v = parse_line("7ffd1b3f4000-7ffd1b3f6000 r-xp 00000000 00:00 0                          [vdso]").unwrap();
        assert_eq!(v.path, "[vdso]");
        assert!(parse_line("7f1c2a400000-7f1c2a428000 r--p 00000000 08:01 1835241 /usr/lib/libc.so.6").is_none());
        assert!(parse_line("garbage").is_none());
    }
}
