//! The children's environment: inherited, loaded from a file, or padded with
//! synthetic variables, and installed so that every spawn method sees it.

use std::path::{Path, PathBuf};

use crate::LabError;

/// Where the environment of the spawned children comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EnvSource {
    /// The lab's own environment, unchanged.
    #[default]
    Inherit,
    /// Exactly the variables of a file with one `KEY=VALUE` per line (empty
    /// lines skipped), e.g. the 184-variable cluster job environment. Replaces
    /// the inherited environment, PATH included.
    File(PathBuf),
    /// The inherited environment plus N variables `SPAWNSCOPE_LAB_NNNNN` with
    /// 140-byte values, so 184 of them add about 27 KB like the cluster job
    /// (184 variables, 27,750 bytes).
    Synthetic(usize),
}

/// Length of each synthetic variable's value.
pub const SYNTHETIC_VALUE_LEN: usize = 140;

/// Reads `KEY=VALUE` lines. A line without `=` or with an empty key is an
/// error naming the file and line.
pub fn read_env_file(path: &Path) -> Result<Vec<(String, String)>, LabError> {
    let text = std::fs::read_to_string(path).map_err(|source| LabError::Io { path: path.to_path_buf(), source })?;
    parse_env_text(&text).map_err(|(line, msg)| LabError::EnvFile { path: path.to_path_buf(), line, msg })
}

/// Parses `KEY=VALUE` lines; the error is (1-based line, message).
pub fn parse_env_text(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut vars = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) if !k.is_empty() && !k.contains('\0') && !v.contains('\0') => vars.push((k.to_string(), v.to_string())),
            Some(_) => return Err((i + 1, "empty variable name or NUL byte".into())),
            None => return Err((i + 1, "expected KEY=VALUE".into())),
        }
    }
    if vars.is_empty() {
        return Err((0, "no variables".into()));
    }
    Ok(vars)
}

/// The synthetic variables for [`EnvSource::Synthetic`].
pub fn synthetic_vars(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            let fill: String =
                std::iter::repeat("spawnscope-lab-padding/").flat_map(|s| s.chars()).take(SYNTHETIC_VALUE_LEN).collect();
            (format!("SPAWNSCOPE_LAB_{i:05}"), fill)
        })
        .collect()
}

/// The variables the children get: the process's environment after
/// applying `source`.
pub fn resolve(source: &EnvSource) -> Result<Vec<(String, String)>, LabError> {
    let inherited = || std::env::vars_os().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()));
    Ok(match source {
        EnvSource::Inherit => inherited().collect(),
        EnvSource::File(p) => read_env_file(p)?,
        EnvSource::Synthetic(n) => inherited().chain(synthetic_vars(*n)).collect(),
    })
}

/// Count and bytes (`KEY=VALUE` plus the NUL, as the kernel copies them) of
/// a set of variables.
pub fn env_size(vars: &[(String, String)]) -> (usize, usize) {
    (vars.len(), vars.iter().map(|(k, v)| k.len() + v.len() + 2).sum())
}

/// Makes `vars` the process's whole environment, so that posix_spawnp's PATH
/// search, `environ` and `std::process::Command` all see it.
///
/// Changes process-global state: call it before other threads start (the
/// `spawnscope lab` command does, at start-up).
pub fn install(vars: &[(String, String)]) {
    let keep: std::collections::HashSet<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
    for (k, _) in std::env::vars_os() {
        if !keep.contains(k.to_string_lossy().as_ref()) {
            std::env::remove_var(&k);
        }
    }
    for (k, v) in vars {
        std::env::set_var(k, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_skips_empty_ones() {
        let v = parse_env_text("A=1\n\nB=x=y\nC=\n").unwrap();
        assert_eq!(v, vec![("A".into(), "1".into()), ("B".into(), "x=y".into()), ("C".into(), "".into())]);
        assert_eq!(env_size(&v), (3, 4 + 6 + 3));
    }

    #[test]
    fn bad_lines_name_the_line() {
        assert_eq!(parse_env_text("A=1\nnope\n").unwrap_err().0, 2);
        assert_eq!(parse_env_text("=1\n").unwrap_err().0, 1);
        assert!(parse_env_text("\n\n").is_err());
    }

    #[test]
    fn synthetic_vars_have_the_cluster_shape() {
        let v = synthetic_vars(184);
        let (n, bytes) = env_size(&v);
        assert_eq!(n, 184);
        // 184 x (20-byte name + 140-byte value + '=' + NUL) = 29,808 bytes,
        // close to the cluster job's 27,750.
        assert_eq!(bytes, 184 * (20 + SYNTHETIC_VALUE_LEN + 2));
        assert_eq!(v[7].0, "SPAWNSCOPE_LAB_00007");
    }

    #[test]
    fn reference_cluster_env_parses_when_present() {
        // A copy of shared/reference/cluster-env/envs.txt lives in fixtures/env/.
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/env/cluster-envs.txt");
        assert!(p.exists(), "missing reference data");
        let v = read_env_file(&p).unwrap();
        assert_eq!(env_size(&v), (184, 27_750));
        assert_eq!(v.len(), 184);
        assert!(v.iter().any(|(k, _)| k == "PATH"));
    }
}
