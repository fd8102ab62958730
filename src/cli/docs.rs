//! `spawnscope completions SHELL` and `spawnscope man`: shell completions
//! and a roff man page generated from the clap definitions (as ripgrep and
//! hyperfine ship theirs), so they never drift from the real flags.
//!
//! ```text
//! spawnscope completions bash > ~/.local/share/bash-completion/completions/spawnscope
//! spawnscope completions zsh > ~/.zfunc/_spawnscope
//! spawnscope completions fish > ~/.config/fish/completions/spawnscope.fish
//! spawnscope man | man -l -
//! spawnscope man record | man -l -
//! ```

use std::io::Write;

use anyhow::Context;

use super::common::exit_error;

/// Arguments of `spawnscope completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  spawnscope completions bash > ~/.local/share/bash-completion/completions/spawnscope
  spawnscope completions zsh > ~/.zfunc/_spawnscope     (with fpath+=~/.zfunc in ~/.zshrc)
  spawnscope completions fish > ~/.config/fish/completions/spawnscope.fish")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// Shells we generate completions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Arguments of `spawnscope man`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  spawnscope man | man -l -
  spawnscope man record > spawnscope-record.1")]
pub struct ManArgs {
    /// A subcommand's own page (spawnscope-record(1)) instead of the main one.
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
}

/// Writes the completion script for `args.shell` to stdout.
pub fn completions(args: CompletionsArgs, mut cmd: clap::Command) -> anyhow::Result<i32> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "spawnscope", &mut out);
    write_stdout(&out)
}

/// Writes the man page (roff) of spawnscope, or of one subcommand, to stdout.
pub fn man(args: ManArgs, cmd: clap::Command) -> anyhow::Result<i32> {
    let mut out = Vec::new();
    match args.subcommand {
        None => {
            let man = clap_mangen::Man::new(cmd.clone());
            man.render(&mut out).context("rendering the man page")?;
            // Each subcommand's page is one command away.
            let subs: Vec<String> =
                cmd.get_subcommands().filter(|s| !s.is_hide_set()).map(|s| format!("spawnscope-{}(1)", s.get_name())).collect();
            writeln!(out, ".SH \"SEE ALSO\"\n{}\n.PP\nEach page: spawnscope man SUBCOMMAND.", subs.join(", "))?;
        }
        Some(name) => {
            let sub = cmd
                .get_subcommands()
                .find(|s| s.get_name() == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
                    exit_error(2, format!("no subcommand {name:?} (one of: {})", names.join(", ")))
                })?
                .clone();
            // clap names take &'static str; this runs once per process.
            let title: &'static str = Box::leak(format!("spawnscope-{name}").into_boxed_str());
            let page = sub.name(title).version(crate::version_line());
            clap_mangen::Man::new(page).render(&mut out).context("rendering the man page")?;
        }
    }
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<i32> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()?;
    Ok(0)
}
