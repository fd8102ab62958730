//! Parquet tables from spawnscope analyses, for the engines people already
//! run on a cluster's data: DuckDB, Polars, Spark, pandas.
//!
//! One export writes five tables, each as one file named after the trace id
//! inside a directory per table, so exporting a whole job's traces into the
//! same directory gives one table per kind that loads in one line:
//!
//! ```text
//! DIR/spawns/<trace_id>.parquet      one row per spawn (process creation)
//! DIR/execs/<trace_id>.parquet       one row per exec attempt, failed ones too
//! DIR/processes/<trace_id>.parquet   one row per process (a reused pid is a new row)
//! DIR/traces/<trace_id>.parquet      one row per trace: host facts, command, totals
//! DIR/stacks/<trace_id>.parquet      one row per frame of each distinct spawn stack
//! ```
//!
//! ```sql
//! -- DuckDB
//! SELECT host, code_path, count(*), quantile_cont(latency_ns, 0.99)
//! FROM read_parquet('DIR/spawns/*.parquet') GROUP BY ALL;
//! ```
//!
//! Every row carries `trace_id` and `host`; the schema (column names, types,
//! units) is documented in `docs/reference/parquet.md` and pinned by tests.
//! Files are opened with [`spawnscope_format::create_output`]: mode 0600,
//! never through a symlink, an existing file replaced only if it is the
//! user's own (they hold command lines).
//!
//! ```no_run
//! use spawnscope_analyzer::{analyze_path, Thresholds};
//! let a = analyze_path("trace.jsonl", &Thresholds::default()).unwrap();
//! let s = spawnscope_parquet::export(&a, "trace.jsonl", "out".as_ref()).unwrap();
//! println!("{} spawns written to {}", s.spawns, s.files[0].display());
//! ```

mod tables;

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use spawnscope_analyzer::{Analysis, Retention};

pub use tables::{EXECS_COLUMNS, PROCESSES_COLUMNS, SPAWNS_COLUMNS, STACKS_COLUMNS, TRACES_COLUMNS};

/// Rows per record batch (and at most per row group): bounds the memory the
/// column builders hold while writing.
const BATCH_ROWS: usize = 64 * 1024;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ParquetError {
    #[error("cannot create {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    /// Opening a table file failed (a symlink, another user's file, ...).
    #[error("{source}")]
    Output { source: spawnscope_format::OutputError },
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: parquet::errors::ParquetError },
    #[error("building the {table} table: {source}")]
    Arrow { table: &'static str, source: arrow_schema::ArrowError },
    /// A bounded analysis could not read its spawns or processes back from
    /// its temporary file: the table would be cut short.
    #[error("reading the {table} back from the temporary file: {source}")]
    Spill { table: &'static str, source: std::io::Error },
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The id used in file names and in every row's `trace_id`.
    pub trace_id: String,
    pub spawns: u64,
    pub execs: u64,
    pub processes: u64,
    /// Distinct spawn stacks, and their frames (rows of the stacks table).
    pub stacks: u64,
    pub frames: u64,
    /// The files written (spawns, execs, processes, traces, stacks).
    pub files: Vec<PathBuf>,
}

/// A stable id for a trace: 16 hex digits of an FNV-1a hash over the host
/// name, the wall-clock start and the command, so two nodes' `trace.jsonl`
/// never collide, and exporting the same trace twice overwrites its files.
pub fn trace_id(a: &Analysis) -> String {
    let h = &a.header;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut add = |b: &[u8]| {
        for &x in b.iter().chain(std::iter::once(&0u8)) {
            hash ^= u64::from(x);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    add(h.host.hostname.as_deref().unwrap_or("").as_bytes());
    add(h.start_unix_ns.to_string().as_bytes());
    for c in &h.command {
        add(c.as_bytes());
    }
    format!("{hash:016x}")
}

/// Writes the five tables of one analysed trace under `dir` (created if
/// missing). `source` is the trace's file name, stored in the traces table.
///
/// The spawns and processes are written as they are read, one pass over
/// each, so a bounded analysis ([`Retention::Stream`], read back from its
/// temporary file) is exported in bounded memory; a full one works too.
pub fn export(analysis: &Analysis, source: &str, dir: &Path) -> Result<Summary, ParquetError> {
    let id = trace_id(analysis);
    let ctx = tables::Context::new(analysis, &id, source);
    let mut summary = Summary { trace_id: id.clone(), ..Summary::default() };

    let mut w = TableWriter::create(dir, "spawns", &id)?;
    let mut t = tables::Spawns::default();
    for s in analysis.try_each_spawn() {
        let s = s.map_err(|source| ParquetError::Spill { table: "spawns", source })?;
        t.push(&ctx, &s);
        w.row(&mut t)?;
    }
    summary.spawns = w.rows;
    let spawns_file = w.close(&mut t)?;

    // Execs and processes in one pass over the processes.
    let mut we = TableWriter::create(dir, "execs", &id)?;
    let mut te = tables::Execs::default();
    let mut wp = TableWriter::create(dir, "processes", &id)?;
    let mut tp = tables::Processes::default();
    // Each process's pid, for its children's `parent_pid` (a parent comes
    // before its children: 4 bytes a process).
    let mut pids: Vec<i32> = Vec::new();
    for p in analysis.try_each_process() {
        let p = p.map_err(|source| ParquetError::Spill { table: "processes", source })?;
        for (i, e) in p.execs.iter().enumerate() {
            te.push(&ctx, &p, i, e);
            we.row(&mut te)?;
        }
        if pids.len() <= p.index {
            pids.resize(p.index + 1, 0);
        }
        pids[p.index] = p.pid;
        let parent_pid = p.parent.and_then(|i| match pids.get(i) {
            Some(&pid) if i < p.index => Some(pid),
            _ => analysis.process_at(i).map(|q| q.pid),
        });
        tp.push(&ctx, &p, parent_pid);
        wp.row(&mut tp)?;
    }
    drop(pids);
    summary.execs = we.rows;
    summary.processes = wp.rows;
    summary.files.push(spawns_file);
    summary.files.push(we.close(&mut te)?);
    summary.files.push(wp.close(&mut tp)?);

    let mut w = TableWriter::create(dir, "traces", &id)?;
    let mut t = tables::Traces::default();
    t.push(&ctx);
    w.row(&mut t)?;
    summary.files.push(w.close(&mut t)?);

    let mut w = TableWriter::create(dir, "stacks", &id)?;
    let mut t = tables::Stacks::default();
    for (id, o) in analysis.origins.list.iter().enumerate() {
        for (i, f) in o.stack.iter().enumerate() {
            t.push(&ctx, id as u32, o, i, f);
            w.row(&mut t)?;
        }
    }
    summary.stacks = analysis.origins.list.len() as u64;
    summary.frames = w.rows;
    summary.files.push(w.close(&mut t)?);
    Ok(summary)
}

/// Analyses the trace at `trace` in bounded memory ([`Retention::Stream`])
/// and writes its tables under `dir`.
pub fn export_path(trace: &Path, dir: &Path) -> Result<Summary, ExportPathError> {
    let a = spawnscope_analyzer::analyze_path_with(trace, &spawnscope_analyzer::Thresholds::default(), Retention::Stream)?;
    Ok(export(&a, &trace.display().to_string(), dir)?)
}

/// Why [`export_path`] failed: the trace could not be analysed, or written.
#[derive(Debug, thiserror::Error)]
pub enum ExportPathError {
    #[error(transparent)]
    Analyze(#[from] spawnscope_analyzer::AnalyzeError),
    #[error(transparent)]
    Export(#[from] ParquetError),
}

/// A table being filled row by row: its builders turn into a record batch.
pub(crate) trait Table {
    const NAME: &'static str;
    /// The rows pushed since the last call, as one batch (builders reset).
    fn batch(&mut self) -> Result<RecordBatch, arrow_schema::ArrowError>;
}

struct TableWriter {
    path: PathBuf,
    writer: Option<ArrowWriter<File>>,
    file: Option<File>,
    pending: usize,
    rows: u64,
}

impl TableWriter {
    fn create(dir: &Path, table: &str, id: &str) -> Result<TableWriter, ParquetError> {
        let sub = dir.join(table);
        std::fs::create_dir_all(&sub).map_err(|source| ParquetError::Create { path: sub.clone(), source })?;
        let path = sub.join(format!("{id}.parquet"));
        let file = spawnscope_format::create_output(&path, spawnscope_format::Existing::Replace)
            .map_err(|source| ParquetError::Output { source })?;
        Ok(TableWriter { path, writer: None, file: Some(file), pending: 0, rows: 0 })
    }

    fn row<T: Table>(&mut self, t: &mut T) -> Result<(), ParquetError> {
        self.pending += 1;
        self.rows += 1;
        if self.pending >= BATCH_ROWS {
            self.flush(t)?;
        }
        Ok(())
    }

    fn flush<T: Table>(&mut self, t: &mut T) -> Result<(), ParquetError> {
        let batch = t.batch().map_err(|source| ParquetError::Arrow { table: T::NAME, source })?;
        self.pending = 0;
        let werr = |source| ParquetError::Write { path: self.path.clone(), source };
        if self.writer.is_none() {
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(werr)?))
                .set_max_row_group_row_count(Some(1024 * 1024))
                .set_created_by(format!("spawnscope {}", env!("CARGO_PKG_VERSION")))
                .build();
            let file = self.file.take().expect("file is taken once");
            self.writer = Some(ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(werr)?);
        }
        if batch.num_rows() > 0 {
            if let Some(w) = self.writer.as_mut() {
                w.write(&batch).map_err(werr)?;
            }
        }
        Ok(())
    }

    fn close<T: Table>(mut self, t: &mut T) -> Result<PathBuf, ParquetError> {
        // Always flush once, so an empty table still has its schema.
        if self.pending > 0 || self.writer.is_none() {
            self.flush(t)?;
        }
        let werr = |source| ParquetError::Write { path: self.path.clone(), source };
        if let Some(w) = self.writer.take() {
            w.close().map_err(werr)?;
        }
        Ok(self.path)
    }
}
