//! Opening output files safely, and naming them.
//!
//! spawnscope usually runs as root (ptrace) and often writes into
//! directories other users can write to (`/tmp`, a shared scratch
//! directory on a cluster). Every file it writes — traces, exports, the
//! target's output, check reports, Parquet files — is opened by
//! [`create_output`], which:
//!
//! - never follows a symbolic link in the last path component
//!   (`O_NOFOLLOW`, and `O_EXCL` for a new file): a link planted by another
//!   user cannot redirect the write to a file of theirs or of the system;
//! - accepts only a regular file (and `/dev/null`): a directory, FIFO,
//!   socket or device is refused with a one-line message, and never
//!   truncated or written;
//! - replaces an existing file only when the caller allows it
//!   ([`Existing::Replace`], an explicit `-o`), the file belongs to the user
//!   running spawnscope, and it has no other hard link; it is truncated only
//!   after those checks, through the checked descriptor;
//! - leaves the file with mode 0600 whether or not it existed (`fchmod` on
//!   the open descriptor): traces hold command lines.
//!
//! Names: `-` means standard output (or input) by convention ([`is_stdio`]);
//! [`default_trace_name`] makes a name that includes the time and the pid and
//! is created with [`create_new_unique`], which adds a suffix rather than
//! overwrite; [`expand_placeholders`] expands `%h`, `%p`, `%t`, `%%` in a
//! name given with `-o` (one trace per node of a cluster job).
//!
//! ```
//! use spawnscope_format::{create_output, Existing};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("t.jsonl");
//! drop(create_output(&path, Existing::Refuse).unwrap());
//! // A default name never overwrites:
//! assert!(create_output(&path, Existing::Refuse).is_err());
//! // An explicit -o replaces the user's own regular file:
//! drop(create_output(&path, Existing::Replace).unwrap());
//! # #[cfg(unix)] {
//! use std::os::unix::fs::PermissionsExt;
//! assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
//! # }
//! ```

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// What to do when the output file already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Fail with [`OutputError::Exists`] (names spawnscope chose itself).
    Refuse,
    /// Replace it if it is a regular file of the current user with no other
    /// hard link (a name the user gave with `-o`).
    Replace,
}

/// Why an output file was not opened.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: is a symbolic link; spawnscope never writes through a link (remove it or choose another name)")]
    Symlink { path: String },
    #[error("{path}: is a {what}, not a regular file; choose another output name")]
    NotRegular { path: String, what: &'static str },
    #[error("{path}: already exists; not overwriting it (remove it or choose another name with -o)")]
    Exists { path: String },
    #[error("{path}: belongs to another user (uid {uid}); not overwriting it (remove it or choose another name)")]
    NotOwned { path: String, uid: u32 },
    #[error("{path}: has {links} hard links; not overwriting it (remove it or choose another name)")]
    HardLinked { path: String, links: u64 },
    #[error("cannot create {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("output name {name:?}: {detail}")]
    BadName { name: String, detail: String },
}

/// Whether `path` is `-`, which names standard output (or standard input
/// for a file that is read), never a file called `-`.
pub fn is_stdio(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Opens `path` for writing as described in the [module docs](self): no
/// symbolic link, a regular file only (or `/dev/null`), mode 0600, and an
/// existing file replaced only with [`Existing::Replace`] when it is the
/// user's own. The returned file is empty (except `/dev/null`).
pub fn create_output(path: &Path, existing: Existing) -> Result<File, OutputError> {
    imp::create(path, existing)
}

/// Creates a new file named `path`, or, if that exists, `stem-2.ext`,
/// `stem-3.ext`, ... (up to 1000 tries): never overwrites anything. Returns
/// the file and the name it got. The extension is everything after the
/// first `.` of the file name (`a.jsonl.zst` → `a-2.jsonl.zst`).
pub fn create_new_unique(path: &Path) -> Result<(File, PathBuf), OutputError> {
    let mut candidate = path.to_path_buf();
    for n in 2..=1001u32 {
        match create_output(&candidate, Existing::Refuse) {
            Ok(f) => return Ok((f, candidate)),
            Err(OutputError::Exists { .. } | OutputError::Symlink { .. } | OutputError::NotRegular { .. }) => {
                candidate = with_number(path, n);
            }
            Err(e) => return Err(e),
        }
    }
    Err(OutputError::Exists { path: path.display().to_string() })
}

fn with_number(path: &Path, n: u32) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (stem, ext) = match name.find('.') {
        Some(i) if i > 0 => name.split_at(i),
        _ => (name.as_str(), ""),
    };
    path.with_file_name(format!("{stem}-{n}{ext}"))
}

/// What the `-o` placeholders stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameParts {
    /// `%h`: the host name (characters other than letters, digits, `.`, `-`
    /// and `_` become `_`).
    pub host: String,
    /// `%p`: the pid of the spawnscope process.
    pub pid: u32,
    /// `%t`: the start time, UTC, as `YYYYMMDD-HHMMSS`.
    pub time: String,
}

impl NameParts {
    /// The values for this process now.
    pub fn current() -> NameParts {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        NameParts { host: hostname(), pid: std::process::id(), time: utc_stamp(secs) }
    }
}

/// Expands `%h` (host name), `%p` (pid), `%t` (start time) and `%%` (a `%`)
/// in an output name. Any other `%` sequence is an error, so a typo never
/// silently becomes part of a file name.
///
/// ```
/// use spawnscope_format::{expand_placeholders, NameParts};
/// let parts = NameParts { host: "node7".into(), pid: 42, time: "20261202-031500".into() };
/// let name = expand_placeholders("trace-%h-%p-%t-100%%.jsonl", &parts).unwrap();
/// assert_eq!(name, "trace-node7-42-20261202-031500-100%.jsonl");
/// assert!(expand_placeholders("trace-%x.jsonl", &parts).is_err());
/// ```
pub fn expand_placeholders(name: &str, parts: &NameParts) -> Result<String, OutputError> {
    let bad = |detail: String| OutputError::BadName { name: name.to_string(), detail };
    let mut out = String::with_capacity(name.len() + 16);
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('h') => out.push_str(&safe_component(&parts.host)),
            Some('p') => out.push_str(&parts.pid.to_string()),
            Some('t') => out.push_str(&parts.time),
            Some('%') => out.push('%'),
            Some(other) => return Err(bad(format!("unknown placeholder %{other} (known: %h host, %p pid, %t time, %% a %)"))),
            None => return Err(bad("ends with a lone % (write %% for a %)".into())),
        }
    }
    Ok(out)
}

/// The default trace name: `spawnscope-YYYYMMDD-HHMMSS-PID.jsonl` (UTC
/// time, pid of this process), relative to the current directory. Create it
/// with [`create_new_unique`] so that even a reused pid in the same second
/// never overwrites an older trace.
pub fn default_trace_name(prefix: &str, parts: &NameParts) -> PathBuf {
    PathBuf::from(format!("{prefix}-{}-{}.jsonl", parts.time, parts.pid))
}

/// `YYYYMMDD-HHMMSS` (UTC) for seconds since the Unix epoch.
pub fn utc_stamp(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}-{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn safe_component(s: &str) -> String {
    let s: String = s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    match s.as_str() {
        "" | "." | ".." => "unknown-host".to_string(),
        _ => s,
    }
}

/// This machine's host name ("unknown-host" if it cannot be read).
pub fn hostname() -> String {
    imp::hostname().filter(|h| !h.is_empty()).unwrap_or_else(|| "unknown-host".to_string())
}

#[cfg(unix)]
mod imp {
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
    use std::path::Path;

    use super::{Existing, OutputError};

    fn what(ft: &std::fs::FileType) -> &'static str {
        if ft.is_dir() {
            "directory"
        } else if ft.is_fifo() {
            "FIFO (named pipe)"
        } else if ft.is_socket() {
            "socket"
        } else if ft.is_char_device() {
            "character device"
        } else if ft.is_block_device() {
            "block device"
        } else if ft.is_symlink() {
            "symbolic link"
        } else {
            "special file"
        }
    }

    fn is_dev_null(meta: &std::fs::Metadata) -> bool {
        meta.file_type().is_char_device() && meta.rdev() == libc::makedev(1, 3)
    }

    pub fn create(path: &Path, existing: Existing) -> Result<File, OutputError> {
        let shown = || path.display().to_string();
        let io_err = |source: io::Error| OutputError::Io { path: shown(), source };
        // A new file: O_CREAT|O_EXCL fails on anything that exists, a
        // dangling symbolic link included.
        let mut new = OpenOptions::new();
        new.write(true).create_new(true).mode(0o600).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
        match new.open(path) {
            Ok(f) => {
                // The umask may have taken bits away; make it exactly 0600.
                f.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(io_err)?;
                return Ok(f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
                return Err(OutputError::NotRegular { path: shown(), what: "directory" })
            }
            Err(e) => return Err(io_err(e)),
        }
        let meta = std::fs::symlink_metadata(path).map_err(io_err)?;
        let ft = meta.file_type();
        if ft.is_symlink() {
            return Err(OutputError::Symlink { path: shown() });
        }
        if is_dev_null(&meta) {
            // Writing into /dev/null is harmless and handy (benchmarks).
            return OpenOptions::new().write(true).custom_flags(libc::O_CLOEXEC).open(path).map_err(io_err);
        }
        if !ft.is_file() {
            return Err(OutputError::NotRegular { path: shown(), what: what(&ft) });
        }
        if existing == Existing::Refuse {
            return Err(OutputError::Exists { path: shown() });
        }
        // Open without truncating and without blocking (a FIFO swapped in
        // since the check must not hang us), then check what was opened.
        let f = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => OutputError::Symlink { path: shown() },
                Some(libc::ENXIO) => OutputError::NotRegular { path: shown(), what: "FIFO (named pipe)" },
                _ => io_err(e),
            })?;
        let meta = f.metadata().map_err(io_err)?;
        if !meta.file_type().is_file() {
            return Err(OutputError::NotRegular { path: shown(), what: what(&meta.file_type()) });
        }
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(OutputError::NotOwned { path: shown(), uid: meta.uid() });
        }
        if meta.nlink() > 1 {
            return Err(OutputError::HardLinked { path: shown(), links: meta.nlink() });
        }
        clear_nonblock(&f);
        f.set_len(0).map_err(io_err)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(io_err)?;
        Ok(f)
    }

    fn clear_nonblock(f: &File) {
        use std::os::fd::AsRawFd;
        let fd = f.as_raw_fd();
        // SAFETY: fcntl on a descriptor we own; failure only leaves
        // O_NONBLOCK set, which regular files ignore.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    }

    pub fn hostname() -> Option<String> {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname
        // NUL-terminates when the name fits (we also bound the scan).
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
        if rc != 0 {
            return None;
        }
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        Some(String::from_utf8_lossy(&buf[..end]).into_owned())
    }
}

#[cfg(not(unix))]
mod imp {
    use std::fs::{File, OpenOptions};
    use std::path::Path;

    use super::{Existing, OutputError};

    pub fn create(path: &Path, existing: Existing) -> Result<File, OutputError> {
        let shown = || path.display().to_string();
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if meta.file_type().is_symlink() {
                return Err(OutputError::Symlink { path: shown() });
            }
            if !meta.is_file() {
                return Err(OutputError::NotRegular { path: shown(), what: "special file" });
            }
            if existing == Existing::Refuse {
                return Err(OutputError::Exists { path: shown() });
            }
        }
        let mut o = OpenOptions::new();
        o.write(true);
        match existing {
            Existing::Refuse => o.create_new(true),
            Existing::Replace => o.create(true).truncate(true),
        };
        o.open(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => OutputError::Exists { path: shown() },
            _ => OutputError::Io { path: shown(), source },
        })
    }

    pub fn hostname() -> Option<String> {
        std::env::var("COMPUTERNAME").or_else(|_| std::env::var("HOSTNAME")).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_names_keep_the_whole_extension() {
        assert_eq!(with_number(Path::new("/d/a.jsonl.zst"), 2), Path::new("/d/a-2.jsonl.zst"));
        assert_eq!(with_number(Path::new("noext"), 3), Path::new("noext-3"));
        assert_eq!(with_number(Path::new(".hidden"), 2), Path::new(".hidden-2"));
    }

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(1_764_644_100), "20251202-025500");
    }

    #[test]
    fn host_names_cannot_leave_the_directory() {
        let mut p = NameParts { host: "../etc".into(), pid: 1, time: "t".into() };
        assert_eq!(expand_placeholders("x-%h", &p).unwrap(), "x-.._etc");
        p.host = "..".into();
        assert_eq!(expand_placeholders("x-%h", &p).unwrap(), "x-unknown-host");
        assert_eq!(
            expand_placeholders("50%", &p).unwrap_err().to_string(),
            "output name \"50%\": ends with a lone % (write %% for a %)"
        );
    }
}
