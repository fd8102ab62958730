//! Output files are opened safely (issue 16): no symbolic links, regular
//! files only, mode 0600, existing files replaced only when allowed.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use spawnscope_format::*;

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn write_trace(path: &Path) -> Result<(), WriteError> {
    let mut w = FileWriter::create(path)?;
    w.write_header(&Header::new(vec!["true".into()], TracerMode::Seccomp))?;
    w.finish(1, Some(0))?;
    Ok(())
}

#[test]
fn symlinked_output_is_refused_and_its_target_unchanged() {
    let d = tempfile::tempdir().unwrap();
    let victim = d.path().join("victim");
    fs::write(&victim, "precious\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
    let link = d.path().join("x.jsonl");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    for existing in [Existing::Refuse, Existing::Replace] {
        let err = create_output(&link, existing).unwrap_err();
        assert!(matches!(err, OutputError::Symlink { .. }), "{err}");
        assert!(err.to_string().contains("is a symbolic link"), "{err}");
    }
    let err = write_trace(&link).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(mode(&victim), 0o644);
}

#[test]
fn dangling_symlink_is_refused_and_nothing_is_created() {
    let d = tempfile::tempdir().unwrap();
    let target = d.path().join("would-be-created");
    let link = d.path().join("x.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert!(matches!(create_output(&link, Existing::Replace), Err(OutputError::Symlink { .. })));
    assert!(!target.exists());
}

#[test]
fn existing_0644_file_becomes_a_0600_trace() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("t.jsonl");
    fs::write(&p, "old content that is longer than the new one ".repeat(100)).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
    write_trace(&p).unwrap();
    assert_eq!(mode(&p), 0o600);
    let text = fs::read_to_string(&p).unwrap();
    assert!(text.starts_with("{\"kind\":\"header\""), "{text}");
    assert!(!text.contains("old content"));
    read_all(text.as_bytes()).unwrap();
}

#[test]
fn new_files_are_0600_whatever_the_umask() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("new.jsonl.zst");
    write_trace(&p).unwrap();
    assert_eq!(mode(&p), 0o600);
    let r = FileReader::open(&p).unwrap();
    assert_eq!(r.header().command, vec!["true"]);
}

#[test]
fn refuse_never_touches_an_existing_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("t.jsonl");
    fs::write(&p, "keep").unwrap();
    let err = create_output(&p, Existing::Refuse).unwrap_err();
    assert!(matches!(err, OutputError::Exists { .. }), "{err}");
    assert_eq!(fs::read_to_string(&p).unwrap(), "keep");
    assert!(matches!(FileWriter::create_with(&p, Existing::Refuse), Err(WriteError::Output(OutputError::Exists { .. }))));
}

#[test]
fn hard_linked_file_is_not_replaced() {
    let d = tempfile::tempdir().unwrap();
    let other = d.path().join("other");
    fs::write(&other, "other file").unwrap();
    let p = d.path().join("t.jsonl");
    fs::hard_link(&other, &p).unwrap();
    let err = create_output(&p, Existing::Replace).unwrap_err();
    assert!(matches!(err, OutputError::HardLinked { links: 2, .. }), "{err}");
    assert_eq!(fs::read_to_string(&other).unwrap(), "other file");
}

#[test]
fn directories_fifos_and_sockets_are_refused_without_blocking() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("dir");
    fs::create_dir(&dir).unwrap();
    let err = create_output(&dir, Existing::Replace).unwrap_err();
    assert_eq!(err.to_string(), format!("{}: is a directory, not a regular file; choose another output name", dir.display()));

    let fifo = d.path().join("fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    // No reader: a plain open for writing would block forever.
    let err = create_output(&fifo, Existing::Replace).unwrap_err();
    assert!(matches!(err, OutputError::NotRegular { what: "FIFO (named pipe)", .. }), "{err}");

    let sock = d.path().join("sock");
    let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let err = create_output(&sock, Existing::Replace).unwrap_err();
    assert!(matches!(err, OutputError::NotRegular { what: "socket", .. }), "{err}");
}

#[test]
fn dev_null_is_accepted_and_left_alone() {
    let before = fs::metadata("/dev/null").unwrap();
    write_trace(Path::new("/dev/null")).unwrap();
    let after = fs::metadata("/dev/null").unwrap();
    assert_eq!(before.mode(), after.mode());
}

#[test]
fn another_users_file_is_not_replaced() {
    // SAFETY: no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to give a file to another user");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("theirs.jsonl");
    fs::write(&p, "theirs").unwrap();
    std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
    let err = create_output(&p, Existing::Replace).unwrap_err();
    assert!(matches!(err, OutputError::NotOwned { uid: 65534, .. }), "{err}");
    assert_eq!(fs::read_to_string(&p).unwrap(), "theirs");
}

#[test]
fn unique_names_get_a_suffix_instead_of_overwriting() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("spawnscope-1-2.jsonl.zst");
    let (_f, a) = create_new_unique(&p).unwrap();
    let (_g, b) = create_new_unique(&p).unwrap();
    std::os::unix::fs::symlink("/nonexistent", d.path().join("spawnscope-1-2-3.jsonl.zst")).unwrap();
    let (_h, c) = create_new_unique(&p).unwrap();
    assert_eq!(a, p);
    assert_eq!(b, d.path().join("spawnscope-1-2-2.jsonl.zst"));
    assert_eq!(c, d.path().join("spawnscope-1-2-4.jsonl.zst"));
    for x in [a, b, c] {
        assert_eq!(mode(&x), 0o600);
    }
}

#[test]
fn default_names_include_time_and_pid() {
    let parts = NameParts { host: "h".into(), pid: 4242, time: "20261202-031500".into() };
    assert_eq!(default_trace_name("spawnscope", &parts), Path::new("spawnscope-20261202-031500-4242.jsonl"));
    let now = NameParts::current();
    assert_eq!(now.pid, std::process::id());
    assert_eq!(now.time.len(), 15);
    assert!(!now.host.is_empty() && !now.host.contains('/'));
}

#[test]
fn dash_means_stdio() {
    assert!(is_stdio(Path::new("-")));
    assert!(!is_stdio(Path::new("./-")));
    assert!(!is_stdio(Path::new("-x")));
}
