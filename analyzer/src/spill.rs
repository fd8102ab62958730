//! Per-spawn output in bounded memory ([`crate::Retention::Stream`]): every
//! spawn and process is written to a temporary file as it completes (one
//! JSON line each) and read back in index order when a report lists them.
//! Memory keeps 12 bytes of index per spawn and per process, and the
//! in-flight count of each spawn (computed once at the end from the start
//! and end times, 28 bytes a spawn while it runs).

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use spawnscope_format::Nanos;

use crate::model::{Process, Spawn};

/// Where each item is in the file: (offset, length).
type Index = Vec<(u64, u32)>;

/// Writes spawns and processes as they complete.
#[derive(Debug)]
pub(crate) struct SpillWriter {
    path: PathBuf,
    /// The same file, for reading it back.
    file: File,
    out: BufWriter<File>,
    pos: u64,
    spawns: Index,
    procs: Index,
    starts: Vec<(Nanos, u32)>,
    ends: Vec<Nanos>,
    line: Vec<u8>,
}

impl SpillWriter {
    /// A new file in the temporary directory, removed when the analysis is dropped.
    pub fn create() -> io::Result<SpillWriter> {
        let dir = std::env::temp_dir();
        let mut n = 0u32;
        loop {
            let path = dir.join(format!("spawnscope-spill-{}-{n}.jsonl", std::process::id()));
            match File::options().read(true).write(true).create_new(true).open(&path) {
                Ok(f) => {
                    // Unix: gone from the directory at once (an interrupted
                    // report leaves nothing behind); read through `file`.
                    #[cfg(unix)]
                    std::fs::remove_file(&path)?;
                    return Ok(SpillWriter {
                        path,
                        file: f.try_clone()?,
                        out: BufWriter::with_capacity(1 << 20, f),
                        pos: 0,
                        spawns: Vec::new(),
                        procs: Vec::new(),
                        starts: Vec::new(),
                        ends: Vec::new(),
                        line: Vec::new(),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(e),
            }
        }
    }

    fn put<T: serde::Serialize>(&mut self, index: usize, item: &T, spawn: bool) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, item).map_err(io::Error::from)?;
        self.out.write_all(&self.line)?;
        let at = (self.pos, self.line.len() as u32);
        self.pos += self.line.len() as u64;
        let idx = if spawn { &mut self.spawns } else { &mut self.procs };
        if idx.len() <= index {
            idx.resize(index + 1, (0, 0));
        }
        idx[index] = at;
        Ok(())
    }

    pub fn spawn(&mut self, s: &Spawn) -> io::Result<()> {
        self.starts.push((s.t_start, s.index as u32));
        if let Some(d) = s.t_done {
            self.ends.push(d);
        }
        self.put(s.index, s, true)
    }

    pub fn process(&mut self, p: &Process) -> io::Result<()> {
        self.put(p.index, p, false)
    }

    /// Flushes the file and computes each spawn's in-flight count (as
    /// `stats::fill_in_flight` does for a full analysis).
    pub fn finish(mut self) -> io::Result<Spilled> {
        self.out.flush()?;
        let SpillWriter { path, file, out, spawns, procs, mut starts, mut ends, .. } = self;
        drop(out);
        starts.sort_unstable();
        ends.sort_unstable();
        let mut in_flight = vec![0u32; spawns.len()];
        let mut ended = 0usize;
        for (started_before, &(t, i)) in starts.iter().enumerate() {
            while ended < ends.len() && ends[ended] <= t {
                ended += 1;
            }
            if let Some(x) = in_flight.get_mut(i as usize) {
                *x = started_before.saturating_sub(ended) as u32;
            }
        }
        Ok(Spilled { path, spawns, procs, in_flight, file: Mutex::new(file) })
    }
}

/// The spilled spawns and processes of a finished analysis.
#[derive(Debug)]
pub struct Spilled {
    path: PathBuf,
    spawns: Index,
    procs: Index,
    in_flight: Vec<u32>,
    file: Mutex<File>,
}

impl Drop for Spilled {
    fn drop(&mut self) {
        // Unix removed it when it was created.
        if cfg!(not(unix)) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Spilled {
    /// Every spawn, in index order (`in_flight` filled in).
    pub fn spawns(self: &Arc<Self>) -> SpillIter<Spawn> {
        SpillIter { data: Arc::clone(self), spawns: true, next: 0, block: (0, Vec::new()), _t: PhantomData }
    }

    /// Every process, in index order.
    pub fn processes(self: &Arc<Self>) -> SpillIter<Process> {
        SpillIter { data: Arc::clone(self), spawns: false, next: 0, block: (0, Vec::new()), _t: PhantomData }
    }

    pub fn spawn_count(&self) -> usize {
        self.spawns.len()
    }

    /// Process `i`, read on its own (for a few lookups; use
    /// [`Spilled::processes`] to go through them all).
    pub fn process(&self, i: usize) -> Option<io::Result<Process>> {
        self.read_one(self.procs.get(i)?)
    }

    /// Spawn `i` (`in_flight` filled in), read on its own.
    pub fn spawn(&self, i: usize) -> Option<io::Result<Spawn>> {
        let r = self.read_one::<Spawn>(self.spawns.get(i)?)?;
        Some(r.map(|mut s| {
            s.in_flight = self.in_flight.get(i).copied().unwrap_or(0);
            s
        }))
    }

    fn read_one<T: DeserializeOwned>(&self, &(off, len): &(u64, u32)) -> Option<io::Result<T>> {
        let read = || -> io::Result<T> {
            let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
            f.seek(SeekFrom::Start(off))?;
            let mut buf = vec![0u8; len as usize];
            f.read_exact(&mut buf)?;
            serde_json::from_slice(&buf).map_err(io::Error::from)
        };
        Some(read())
    }
}

/// Reads items back in index order through a 1 MiB block cache: items are
/// written roughly in index order, so this is mostly a sequential read.
#[derive(Debug)]
pub struct SpillIter<T> {
    data: Arc<Spilled>,
    spawns: bool,
    next: usize,
    /// (file offset, bytes) of the block read last.
    block: (u64, Vec<u8>),
    _t: PhantomData<T>,
}

const BLOCK: usize = 1 << 20;

impl<T> SpillIter<T> {
    fn bytes(&mut self, off: u64, len: usize) -> io::Result<&[u8]> {
        let (start, buf) = &self.block;
        let inside = off >= *start && off + len as u64 <= start + buf.len() as u64;
        if !inside {
            let mut f = self.data.file.lock().unwrap_or_else(|e| e.into_inner());
            f.seek(SeekFrom::Start(off))?;
            let mut buf = Vec::with_capacity(BLOCK.max(len));
            Read::by_ref(&mut *f).take(BLOCK.max(len) as u64).read_to_end(&mut buf)?;
            if buf.len() < len {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "spill file cut short"));
            }
            self.block = (off, buf);
        }
        let (start, buf) = &self.block;
        let at = (off - start) as usize;
        Ok(&buf[at..at + len])
    }
}

impl<T: DeserializeOwned + InFlight> Iterator for SpillIter<T> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<io::Result<T>> {
        let index = if self.spawns { &self.data.spawns } else { &self.data.procs };
        let &(off, len) = index.get(self.next)?;
        let i = self.next;
        self.next += 1;
        let in_flight = self.data.in_flight.get(i).copied().unwrap_or(0);
        let item = self.bytes(off, len as usize).and_then(|b| serde_json::from_slice::<T>(b).map_err(io::Error::from));
        Some(item.map(|mut x| {
            x.set_in_flight(in_flight);
            x
        }))
    }
}

/// Items whose in-flight count is filled in when read back.
pub trait InFlight {
    fn set_in_flight(&mut self, n: u32);
}

impl InFlight for Spawn {
    fn set_in_flight(&mut self, n: u32) {
        self.in_flight = n;
    }
}

impl InFlight for Process {
    fn set_in_flight(&mut self, _: u32) {}
}
