//! Thresholds of the findings: defaults, TOML config files, overrides.

use serde::{Deserialize, Serialize};

/// When a finding fires. Every field has a default ([`Thresholds::default`]);
/// a config file sets any subset of them, at the top level or in a
/// `[thresholds]` table. Keys are kebab-case like every key of
/// `spawnscope.toml` (`env-vars`); the old snake_case spelling (`env_vars`)
/// still works and leaves a deprecation note in [`Thresholds::notes`]:
///
/// ```
/// let t = spawnscope_analyzer::Thresholds::from_toml("env-vars = 50\n").unwrap();
/// assert_eq!(t.env_vars, 50);
/// assert_eq!(t.env_bytes, 16 * 1024);
/// assert!(t.notes.is_empty());
/// let old = spawnscope_analyzer::Thresholds::from_toml("env_vars = 50\n").unwrap();
/// assert_eq!(old.env_vars, 50);
/// assert!(old.notes[0].contains("write env-vars"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// SS001: parent RSS in MiB from which a fork-style spawn is costly.
    pub fork_parent_rss_mib: u64,
    /// SS001: parent page-table size (VmPTE) in KiB from which a fork-style
    /// spawn is costly.
    pub fork_parent_pte_kib: u64,
    /// SS001: fork cost per GiB of parent RSS, used to estimate the cost when
    /// the trace has no syscall-entry times (events mode). Measured on the
    /// reference machine: 15-18 ms/GiB.
    pub fork_ms_per_gib: f64,
    /// SS001: parent RSS in MiB from which SS001 is `high` severity.
    pub fork_high_rss_mib: u64,
    /// SS003: fires when the spawned children made at least this many failed
    /// exec attempts in all.
    pub path_search_failed: u64,
    /// SS003: `warning` severity from this much time (ms) in failed attempts.
    pub path_search_ms: f64,
    /// SS004: environment variable count above which an exec's environment is large.
    pub env_vars: u64,
    /// SS004: environment bytes above which an exec's environment is large.
    pub env_bytes: u64,
    /// SS005: fewest spawns from one thread for a serialisation finding.
    pub serial_spawns: u64,
    /// SS005: the thread made at least this share (0..1) of all spawns.
    pub serial_share: f64,
    /// SS005: and its spawns (clone entry to exec, summed) took at least this
    /// share (0..1) of the recording.
    pub serial_busy: f64,
    /// Every finding: severity `info` when fixing it would save less than
    /// this share (0..1) of the recording's wall time (its `savings_ns`).
    pub impact_share: f64,
    /// Finding ids (e.g. `"SS004"`) or names (e.g. `"large-env"`) not to report.
    pub disable: Vec<String>,
    /// Deprecated spellings met while reading (snake_case keys), one note
    /// each, for the CLI to print as warnings.
    #[serde(skip)]
    pub notes: Vec<String>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            fork_parent_rss_mib: 256,
            fork_parent_pte_kib: 1024,
            fork_ms_per_gib: 17.0,
            fork_high_rss_mib: 1024,
            path_search_failed: 3,
            path_search_ms: 10.0,
            env_vars: 100,
            env_bytes: 16 * 1024,
            serial_spawns: 100,
            serial_share: 0.9,
            serial_busy: 0.2,
            impact_share: 0.05,
            disable: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// A config file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}invalid thresholds: {detail}")]
    Invalid { path: String, detail: String },
}

impl Thresholds {
    /// Parses TOML: threshold keys at the top level or in `[thresholds]`.
    /// Unknown keys are an error (a typo must not silently keep a default).
    pub fn from_toml(text: &str) -> Result<Thresholds, ConfigError> {
        Self::parse(text, "")
    }

    /// Reads a TOML config file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Thresholds, ConfigError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: shown.clone(), source })?;
        Self::parse(&text, &format!("{shown}: "))
    }

    fn parse(text: &str, prefix: &str) -> Result<Thresholds, ConfigError> {
        let invalid = |detail: String| ConfigError::Invalid {
            path: prefix.to_string(),
            detail: detail.replace('\n', " ").trim().to_string(),
        };
        let mut value: toml::Table = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        // A `spawnscope.toml` policy file holds `[check]` rules beside
        // `[thresholds]`: the rules are `spawnscope check`'s business.
        if matches!(value.get("check"), Some(toml::Value::Table(_))) {
            value.remove("check");
        }
        let table = match value.remove("thresholds") {
            Some(toml::Value::Table(t)) if value.is_empty() => t,
            Some(toml::Value::Table(_)) => return Err(invalid("keys both at the top level and in [thresholds]".into())),
            Some(_) => return Err(invalid("`thresholds` must be a table".into())),
            None => value,
        };
        Self::from_table(table).map_err(|e| invalid(e.to_string()))
    }

    /// Reads a `[thresholds]` table: kebab-case keys, or the deprecated
    /// snake_case spelling (noted in [`Thresholds::notes`]).
    pub fn from_table(table: toml::Table) -> Result<Thresholds, toml::de::Error> {
        let mut notes = Vec::new();
        let table: toml::Table = table
            .into_iter()
            .map(|(k, v)| {
                if k.contains('_') {
                    notes.push(format!(
                        "[thresholds] {k}: write {} (snake_case keys are deprecated; spawnscope.toml is kebab-case)",
                        k.replace('_', "-")
                    ));
                }
                (k.replace('-', "_"), v)
            })
            .collect();
        let mut t: Thresholds = table.try_into()?;
        t.notes = notes;
        Ok(t)
    }

    /// Whether a finding (by id or name) is disabled.
    pub fn is_disabled(&self, id: &str, name: &str) -> bool {
        self.disable.iter().any(|d| d.eq_ignore_ascii_case(id) || d.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_or_top_level() {
        let a = Thresholds::from_toml("[thresholds]\nserial_spawns = 5\n").unwrap();
        let b = Thresholds::from_toml("serial_spawns = 5\n").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.serial_spawns, 5);
        assert_eq!(a.env_vars, Thresholds::default().env_vars);
    }

    #[test]
    fn a_policy_files_check_rules_are_left_to_check() {
        let text = "[check]\ndeny-style = [\"fork\"]\n\n[thresholds]\nserial_spawns = 7\n";
        assert_eq!(Thresholds::from_toml(text).unwrap().serial_spawns, 7);
        let only_rules = Thresholds::from_toml("[check]\nmax-spawns = 3\n").unwrap();
        assert_eq!(only_rules, Thresholds::default());
    }

    #[test]
    fn unknown_key_is_an_error() {
        let e = Thresholds::from_toml("env_varz = 5\n").unwrap_err().to_string();
        assert!(e.contains("env_varz"), "{e}");
    }

    #[test]
    fn wrong_type_is_an_error() {
        assert!(Thresholds::from_toml("env_vars = \"many\"\n").is_err());
    }

    #[test]
    fn disable_by_id_or_name() {
        let t = Thresholds::from_toml("disable = [\"ss004\", \"serial-spawns\"]").unwrap();
        assert!(t.is_disabled("SS004", "large-env"));
        assert!(t.is_disabled("SS005", "serial-spawns"));
        assert!(!t.is_disabled("SS001", "fork-large-parent"));
    }
}
