//! The `spawnscope` command line: parses arguments, calls one library
//! function per subcommand, maps the outcome to an exit code.
//!
//! Exit codes: the subcommand's own (record/run: the target's exit code;
//! check: 0 pass, 1 violated), 2 for usage or input errors.

mod cli;

/// mimalloc instead of glibc's malloc: reading a trace allocates its strings
/// on the parsing thread and frees them on the analysing one, which glibc's
/// arenas serialise (lock hand-offs, consolidation); mimalloc frees them to
/// their thread's heap without a lock.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// Shows how a Linux program starts its child processes and why that is slow.
#[derive(Debug, Parser)]
#[command(name = "spawnscope", version = version_line(), about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Record every spawn of a program (or of a running process) into a trace file.
    Record(cli::record::Args),
    /// Record a program and show the terminal UI live while it runs.
    Run(cli::view::RunArgs),
    /// Open a recorded trace in the terminal UI.
    View(cli::view::ViewArgs),
    /// Run the built-in demo workload, record it and show it.
    Demo(cli::view::DemoArgs),
    /// Spawn many children by a chosen path and print the time per spawn.
    Lab(cli::lab::Args),
    /// Explain a trace: spawn styles, code paths, latencies, findings.
    Report(cli::report::Args),
    /// Check a command or trace against spawning rules (for CI).
    Check(cli::check::Args),
    /// Compare two traces (two machines, or before/after a change).
    Diff(cli::diff::Args),
    /// Convert another tool's log into a spawnscope trace.
    #[command(subcommand)]
    Import(cli::import::Command),
    /// Export a trace for other tools (Perfetto / Chrome trace, CSV).
    Export(cli::export::Args),
    /// Print a shell completion script (bash, zsh, fish).
    Completions(cli::docs::CompletionsArgs),
    /// Print the man page (roff), of spawnscope or of one subcommand.
    Man(cli::docs::ManArgs),
    /// Scrub a trace before sharing it: mask secrets in command lines.
    Redact(cli::redact::Args),
}

/// `0.1.0 (trace format 1.1)`: what `--version` prints after the name.
pub(crate) fn version_line() -> &'static str {
    static LINE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LINE.get_or_init(|| format!("{} (trace format {})", env!("CARGO_PKG_VERSION"), spawnscope_format::FORMAT_VERSION))
}

fn main() {
    cli::common::reset_sigpipe();
    let cli = Cli::try_parse().unwrap_or_else(|e| usage_error(e));
    let result = match cli.command {
        Command::Record(a) => cli::record::run(a),
        Command::Run(a) => cli::view::run_live(a),
        Command::View(a) => cli::view::view(a),
        Command::Demo(a) => cli::view::demo(a),
        Command::Lab(a) => cli::lab::run(a),
        Command::Report(a) => cli::report::run(a),
        Command::Check(a) => cli::check::run(a),
        Command::Diff(a) => cli::diff::run(a),
        Command::Import(c) => cli::import::run(c),
        Command::Export(a) => cli::export::run(a),
        Command::Completions(a) => cli::docs::completions(a, <Cli as clap::CommandFactory>::command()),
        Command::Man(a) => cli::docs::man(a, <Cli as clap::CommandFactory>::command()),
        Command::Redact(a) => cli::redact::run(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            if cli::common::is_broken_pipe(&e) {
                std::process::exit(0);
            }
            eprintln!("spawnscope: error: {}", cli::common::one_line(&e));
            std::process::exit(cli::common::exit_code_for(&e));
        }
    }
}

/// A usage error as every other error: one line on stderr, `spawnscope:
/// error: ...`, exit 2. Help and version go to stdout as clap prints them.
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit()
    }
    eprintln!("spawnscope: error: {}", cli::common::usage_line(&e.render().to_string(), &typed_subcommand()));
    std::process::exit(2)
}

/// The subcommand on the command line (`spawnscope import strace`), for
/// "see ... --help": the words that name subcommands, options skipped.
fn typed_subcommand() -> String {
    let app = <Cli as clap::CommandFactory>::command();
    let mut words = vec!["spawnscope".to_string()];
    let mut cmd = &app;
    for arg in std::env::args().skip(1) {
        if let Some(sub) = cmd.find_subcommand(&arg) {
            words.push(arg);
            cmd = sub;
        } else if !arg.starts_with('-') {
            break;
        }
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn clap_definition_is_valid() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
