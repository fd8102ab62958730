//! `spawnscope import strace`: convert strace text logs into a spawnscope
//! trace. A thin layer over `spawnscope_strace`.

use std::path::PathBuf;

use anyhow::Context;
use spawnscope_format::{FileWriter, HostFacts, Redactor};
use spawnscope_strace::{self as strace, ImportOptions};
use spawnscope_units::counted;

/// What to import.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Convert an strace log into a spawnscope trace.
    Strace(StraceArgs),
}

/// Arguments of `spawnscope import strace`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Record on a machine that has only strace (all on one line):
  strace -f -ttt -T -v -s 4096 \\
    -e trace=clone,clone3,fork,vfork,execve,execveat,socketpair,pipe,pipe2,exit_group \\
    -o app.strace -- ./app args...
(an strace older than 5.3 that rejects clone3: -e trace=process,socketpair,pipe,pipe2)
then, anywhere:
  spawnscope import strace app.strace -o app.jsonl --glibc 2.17 --kernel 3.10.0 --cpus 128
  spawnscope report app.jsonl

Logs from `strace -ff -o PREFIX` are read by giving PREFIX (or all PREFIX.PID files).
Without -ttt there are no times, without -v no environment sizes, without -f no children:
the import says so and keeps what the log shows. strace does not record host facts;
give them with the flags below so that `spawnscope diff` can compare machines.")]
pub struct StraceArgs {
    /// strace log file(s), the PREFIX of `strace -ff -o PREFIX` files, or - for standard input.
    #[arg(value_name = "LOG", required = true)]
    logs: Vec<PathBuf>,
    /// The trace to write (`.jsonl`, or `.jsonl.zst` for compressed).
    #[arg(short, long, value_name = "TRACE")]
    output: PathBuf,
    /// glibc version of the machine the log came from (`ldd --version`), e.g. 2.17.
    #[arg(long, value_name = "VERSION")]
    glibc: Option<String>,
    /// Kernel release of that machine (`uname -r`).
    #[arg(long, value_name = "RELEASE")]
    kernel: Option<String>,
    /// CPU count of that machine (`nproc`).
    #[arg(long, value_name = "N")]
    cpus: Option<u32>,
    /// Host name of that machine.
    #[arg(long, value_name = "NAME")]
    hostname: Option<String>,
    /// Architecture of that machine (`uname -m`), e.g. x86_64.
    #[arg(long, value_name = "ARCH")]
    arch: Option<String>,
    /// Total memory of that machine, e.g. 256G or 274877906944.
    #[arg(long, value_name = "SIZE")]
    memory: Option<String>,
    /// Keep environment values in the trace (default: only count, bytes and hash).
    #[arg(long)]
    capture_env: bool,
    /// Keep every argument as it was (default: mask secret-looking values such
    /// as `--password X`, `TOKEN=X`, `https://user:X@host`, as `record` does;
    /// see docs/reference/security.md).
    #[arg(long)]
    no_redact: bool,
    /// Also mask what this regular expression matches in command lines
    /// (repeatable; with a capture group only the group is masked).
    #[arg(long = "redact", value_name = "REGEX", value_parser = super::record::redact_pattern)]
    redact: Vec<String>,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
}

/// The redactor of `--no-redact` and `--redact REGEX` (as for `record`).
fn redactor(a: &StraceArgs) -> anyhow::Result<Redactor> {
    let mut r = if a.no_redact { Redactor::none() } else { Redactor::new() };
    for p in &a.redact {
        r = r.with_pattern(p).map_err(|e| super::common::exit_error(2, e.to_string()))?;
    }
    Ok(r)
}

pub fn run(cmd: Command) -> anyhow::Result<i32> {
    match cmd {
        Command::Strace(a) => import_strace(a),
    }
}

fn import_strace(a: StraceArgs) -> anyhow::Result<i32> {
    let memory_bytes =
        match &a.memory {
            Some(m) => Some(spawnscope_units::parse_size(m).map_err(|_| {
                super::common::exit_error(2, format!("--memory {m:?}: expected a size like 256G or a byte count"))
            })?),
            None => None,
        };
    let opts = ImportOptions {
        host: HostFacts {
            hostname: a.hostname.clone(),
            kernel_release: a.kernel.clone(),
            glibc_version: a.glibc.clone(),
            arch: a.arch.clone(),
            cpus: a.cpus,
            memory_bytes,
            clone3: None,
        },
        capture_env: a.capture_env,
        env_key: None,
        redact: redactor(&a)?,
    };
    if let Some(g) = &a.glibc {
        if spawnscope_format::parse_version(g).is_none() {
            return Err(super::common::exit_error(2, format!("--glibc {g:?}: expected a version like 2.17")));
        }
    }
    let imported = if a.logs.len() == 1 && a.logs[0].as_os_str() == "-" {
        let stdin = strace::LogInput { name: "<stdin>".to_string(), pid: None, reader: Box::new(std::io::stdin().lock()) };
        strace::import(vec![stdin], &opts)?
    } else {
        strace::import_paths(&a.logs, &opts)?
    };
    let writer = FileWriter::create(&a.output)?;
    imported.write(writer).with_context(|| format!("writing {}", a.output.display()))?;
    if !a.quiet {
        let s = &imported.stats;
        let masked = if s.masked > 0 { format!(", {} masked", counted(s.masked, "value", "values")) } else { String::new() };
        eprintln!(
            "spawnscope: imported {} from {}: {}, {}, {} ({} failed){masked} -> {}",
            counted(s.lines, "line", "lines"),
            counted(s.files as u64, "file", "files"),
            counted(s.spawns, "spawn", "spawns"),
            counted(s.threads, "thread", "threads"),
            counted(s.execs, "exec attempt", "exec attempts"),
            s.failed_execs,
            spawnscope_format::escape(&a.output.display().to_string())
        );
        for n in &imported.notes {
            eprintln!("spawnscope: note: {}", spawnscope_format::escape(n));
        }
        if a.glibc.is_none() {
            eprintln!(
                "spawnscope: hint: strace does not record the host's glibc version; \
                 pass --glibc (and --kernel, --cpus) so that findings and diff can use it"
            );
        }
    }
    Ok(0)
}
