//! Opening a trace file for the UI: one streaming pass feeds both the
//! analysis and the raw event list. A reader thread parses the lines while
//! this thread builds the event rows and analyses (two cores: about the time
//! of the slower half instead of the sum; measured, the halves are about
//! even this way round).

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use spawnscope_analyzer::Analysis;
use spawnscope_format::{ReadError, Record};

use crate::eventlog::EventLog;
use crate::feed::Feed;
use crate::TuiError;

/// A trace read for viewing.
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub analysis: Analysis,
    pub events: EventLog,
}

impl Loaded {
    /// The part of the trace a selection (`--exe`, `--pid`, `--since`,
    /// `--until`) keeps: its analysis, and the events of the processes it
    /// keeps within its time window.
    pub fn select(mut self, sel: &spawnscope_analyzer::Selection) -> Loaded {
        if sel.is_empty() {
            return self;
        }
        self.analysis = sel.apply(&self.analysis);
        let pids: std::collections::HashSet<i32> = self.analysis.processes.iter().map(|p| p.pid).collect();
        let (since, until) = (sel.since_ns.unwrap_or(0), sel.until_ns.unwrap_or(u64::MAX));
        self.events.retain(|r| {
            (pids.contains(&r.pid) || r.child.is_some_and(|c| pids.contains(&c))) && r.t.is_none_or(|t| t >= since && t < until)
        });
        self
    }
}

/// Records per message from the reader thread.
const BATCH: usize = 4096;
/// Batches in flight: bounds the memory used by records not yet analysed.
const IN_FLIGHT: usize = 16;

enum Msg {
    Records(Vec<(u64, Record)>),
    /// The end of the file, with the reader's warnings.
    Done(Vec<String>),
    Failed(ReadError),
}

/// Reads and analyses a trace in one pass (`.zst` handled by the reader).
pub fn load_trace(path: &Path) -> Result<Loaded, TuiError> {
    let err = |e| TuiError::Trace { path: path.to_path_buf(), source: e };
    let mut reader = spawnscope_format::FileReader::open(path).map_err(err)?;
    let header = reader.header().clone();
    let mut feed = Feed::new(header);
    let mut events = EventLog::default();
    let (tx, rx) = mpsc::sync_channel(IN_FLIGHT);
    let parser = std::thread::Builder::new()
        .name("spawnscope-read".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                match reader.next_record() {
                    Ok(Some(r)) => {
                        batch.push(r);
                        if batch.len() == BATCH && tx.send(Msg::Records(std::mem::take(&mut batch))).is_err() {
                            return;
                        }
                    }
                    Ok(None) => {
                        let _ = tx.send(Msg::Records(batch));
                        let _ = tx.send(Msg::Done(reader.warnings().iter().map(|w| w.to_string()).collect()));
                        return;
                    }
                    Err(e) => {
                        let _ = tx.send(Msg::Failed(e));
                        return;
                    }
                }
            }
        })
        .map_err(TuiError::Terminal)?;
    let mut result = Ok(());
    for msg in rx {
        match msg {
            Msg::Records(batch) => {
                for (line, rec) in batch {
                    events.push(line, &rec);
                    feed.push_owned(line, rec);
                }
            }
            Msg::Done(warnings) => {
                for w in warnings {
                    feed.warn(w);
                }
            }
            Msg::Failed(e) => result = Err(err(e)),
        }
    }
    let _ = parser.join();
    result?;
    Ok(Loaded { path: path.to_path_buf(), analysis: feed.finish(), events })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;

    #[test]
    fn loads_every_record_and_reports_errors_with_the_path() {
        let dir = std::env::temp_dir().join(format!("spawnscope-tui-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.jsonl");
        let n = sample::write_large(std::fs::File::create(&path).unwrap(), 20_000).unwrap();
        let loaded = load_trace(&path).unwrap();
        assert_eq!(loaded.events.len(), n + 1, "every event and the end line");
        assert!(loaded.analysis.complete);
        assert_eq!(loaded.analysis.spawns.len() as u64, loaded.analysis.summary.spawns);
        // A damaged line in the middle is an error naming file and line.
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines[9000] = "{\"kind\":\"exec\",";
        let bad = dir.join("bad.jsonl");
        std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
        let e = load_trace(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.jsonl") && e.contains("line 9001"), "{e}");
        // Compressed traces are read the same way.
        let zst = dir.join("sample.jsonl.zst");
        let mut w = spawnscope_format::FileWriter::create(&zst).unwrap();
        w.write_header(&sample::header("laptop", "2.36")).unwrap();
        for rec in sample::records(1).iter().filter(|r| !matches!(r, Record::End(_))) {
            w.write_record(rec).unwrap();
        }
        w.finish(100_000_000, Some(0)).unwrap();
        let z = load_trace(&zst).unwrap();
        assert_eq!((z.analysis.spawns.len(), z.events.len()), (13, 48));
        let e = load_trace(&dir.join("missing.jsonl")).unwrap_err().to_string();
        assert!(e.contains("missing.jsonl"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_selection_cuts_the_analysis_and_the_events() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sample.jsonl");
        let all = load_trace(&path).unwrap();
        let rows = all.events.len();
        let sel = spawnscope_analyzer::Selection { pid: Some(130), ..Default::default() };
        let part = load_trace(&path).unwrap().select(&sel);
        // pid 130's own spawn (by its parent) is kept, nothing else.
        assert_eq!(part.analysis.spawns.len(), 1);
        assert_eq!(part.analysis.spawns[0].child_pid, 130);
        assert!(part.events.len() < rows);
        let pids: std::collections::HashSet<i32> = part.analysis.processes.iter().map(|p| p.pid).collect();
        assert!(part.events.rows.iter().all(|r| pids.contains(&r.pid) || r.child.is_some_and(|c| pids.contains(&c))));
        assert!(part.events.rows.iter().any(|r| r.pid == 130 && r.kind == "exec"));
        // An empty selection changes nothing.
        let same = load_trace(&path).unwrap().select(&spawnscope_analyzer::Selection::default());
        assert_eq!(same.events.len(), rows);
    }
}
