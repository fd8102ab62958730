//! Spawning policies for CI: portable rules and their outputs (no tracer;
//! recording a command to check, and the test API, are in `spawnscope-session`).
//!
//! A policy is a set of count-first [`Rule`]s: spawn styles and counts are
//! exact on any machine, durations are not (a shared CI runner is noisy and
//! tracing adds overhead), so the one duration rule is advisory unless
//! [`Policy::strict_timing`] is set. Rules come from flags, from a TOML policy
//! file (`spawnscope.toml`, see [`Policy::from_toml_file`]) or from code.
//!
//! [`evaluate`] checks an [`Analysis`] against a [`Policy`] and returns a
//! [`CheckReport`] with one [`RuleResult`] per rule, including the spawns that
//! broke it; [`output`] prints it as text, JSON, JUnit XML or GitHub
//! annotations.
//!
//! # Example
//!
//! ```
//! use spawnscope_check::{Policy, Rule, SpawnStyle};
//! let policy = Policy::from_toml_str(r#"
//!     [check]
//!     deny-style = ["fork"]
//!     max-spawns = 200
//!     [check.exe.git]
//!     min-spawns = 1
//! "#, "spawnscope.toml").unwrap();
//! assert_eq!(policy.rules()[0].rule, Rule::DenyStyle(SpawnStyle::Fork));
//! assert_eq!(policy.rules()[0].origin.to_string(), "spawnscope.toml:3");
//!
//! let err = Policy::from_toml_str("[check]\nmax-spawn-p99 = \"5\"\n", "spawnscope.toml").unwrap_err();
//! assert_eq!(err.to_string(),
//!     "spawnscope.toml:2:17: bad duration \"5\": give a unit (ns, us, ms or s), e.g. \"5ms\"");
//! ```

mod error;
mod eval;
pub mod output;
mod policy;
mod policy_file;
mod report;
mod run;
mod scope;
mod units;

pub use error::Error;
pub use eval::{evaluate, exe_matches, finding_matches};
pub use output::{render, write_report, write_text, Format};
pub use policy::{parse_code_path, parse_exe_limit, parse_finding_pattern, parse_style, Origin, Policy, PolicyRule, Rule};
pub use policy_file::{find_policy_file, POLICY_FILE_NAME};
pub use report::{format_limit, format_value, Bound, CheckReport, Offender, RuleResult, Status, Unit, MAX_OFFENDERS};
pub use run::{analyze_trace, check_trace};
pub use spawnscope_units::{duration as format_duration, parse_duration};
pub use units::quote_argv;

pub use spawnscope_analyzer::{Analysis, CodePath, Spawn, SpawnStyle, Thresholds};
