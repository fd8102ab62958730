//! Per-spawn output in bounded memory ([`crate::Retention::Stream`]): every
//! spawn and process is written to a temporary file as it completes and read
//! back in index order when a report lists them.
//!
//! Each item is one record: its length (LEB128) and its fields in
//! [postcard](https://docs.rs/postcard)'s compact binary encoding (varint
//! integers, length-prefixed strings; ≈ a quarter of the JSON line it
//! replaced and ~5x faster to read back). The file is written and read by the
//! same process, so the encoding needs no versioning; it goes through the
//! private mirrors below (`SpawnRec`, `ProcRec`, ...) rather than the model's
//! own serde layout, which skips absent fields (`skip_serializing_if`) and
//! would not read back from a format without field names. The mirrors list
//! every field of the model (destructured without `..`), so a field added to
//! [`Spawn`] or [`Process`] does not compile until it is spilled too.
//!
//! Memory keeps a 4-byte in-flight count per spawn and little else: the
//! index (an 8-byte offset per item) goes to the file a page of 4,096
//! offsets at a time once every item of the page is written (items complete
//! roughly in index order: a page with a long-running item stays in memory),
//! and the start and end times of the in-flight sweep go to the file in
//! sorted runs of 262,144, merged at the end. What grows with the trace is
//! the 4 bytes a spawn.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use spawnscope_format::{CloneSyscall, MemInfo, Nanos, PtraceEvent};

use crate::model::{CodePath, ExecAttempt, Process, ProcessExit, Spawn, SpawnExec, SpawnStyle};

/// The offset of an item that was never written (reads as an error).
const MISSING: u64 = u64::MAX;

/// Offsets per page of the index (32 KiB).
const PAGE: usize = 4096;
/// Start or end times sorted in memory before they go to the file as one run.
const RUN: usize = 1 << 18;

/// A spawn's start, ordered by (time, index) as `stats::fill_in_flight`
/// orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Start {
    t_hi: u32,
    t_lo: u32,
    index: u32,
}

impl Start {
    fn t(&self) -> Nanos {
        (u64::from(self.t_hi) << 32) | u64::from(self.t_lo)
    }
}

/// Where each item's record starts, by index, in pages of offsets: a page
/// whose items are all written goes to the file. Items are written roughly
/// in index order (as they complete), so few pages stay in memory: those
/// with an item still running (the traced command's own process, a
/// long-lived server), at worst as many as a flat index.
#[derive(Debug)]
struct PagedIndex {
    page: usize,
    /// Page number → its offsets ([`MISSING`] where not written yet) and how many are set.
    live: HashMap<usize, (Vec<u64>, usize)>,
    /// Page number → where the page is in the file ([`MISSING`]: in `live`, or empty).
    on_disk: Vec<u64>,
    /// Highest index written + 1.
    len: usize,
}

impl PagedIndex {
    fn new(page: usize) -> PagedIndex {
        PagedIndex { page, live: HashMap::new(), on_disk: Vec::new(), len: 0 }
    }

    /// Sets item `i`'s offset; the page number and offsets of its page if that is now full.
    fn set(&mut self, i: usize, off: u64) -> Option<(usize, Vec<u64>)> {
        let p = i / self.page;
        if self.on_disk.get(p).is_some_and(|&at| at != MISSING) {
            return None;
        }
        self.len = self.len.max(i + 1);
        let size = self.page;
        let (offsets, set) = self.live.entry(p).or_insert_with(|| (vec![MISSING; size], 0));
        let slot = &mut offsets[i % size];
        if *slot == MISSING {
            *set += 1;
        }
        *slot = off;
        if *set == size {
            return self.live.remove(&p).map(|(v, _)| (p, v));
        }
        None
    }

    /// Page `p` is in the file at `at`.
    fn placed(&mut self, p: usize, at: u64) {
        if self.on_disk.len() <= p {
            self.on_disk.resize(p + 1, MISSING);
        }
        self.on_disk[p] = at;
    }
}

/// Fixed-size values sorted in runs on disk: the start and end times of the
/// in-flight sweep.
trait Fixed: Ord + Copy {
    const SIZE: usize;
    fn put(&self, out: &mut Vec<u8>);
    fn get(b: &[u8]) -> Self;
}

impl Fixed for Start {
    const SIZE: usize = 12;
    fn put(&self, out: &mut Vec<u8>) {
        for x in [self.t_hi, self.t_lo, self.index] {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    fn get(b: &[u8]) -> Start {
        let u = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Start { t_hi: u(0), t_lo: u(4), index: u(8) }
    }
}

impl Fixed for u64 {
    const SIZE: usize = 8;
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get(b: &[u8]) -> u64 {
        let mut x = [0u8; 8];
        x.copy_from_slice(&b[..8]);
        u64::from_le_bytes(x)
    }
}

/// Values collected in memory up to a run, then sorted and written out.
#[derive(Debug)]
struct Runs<T> {
    buf: Vec<T>,
    /// (file offset, count) of each run written.
    on_disk: Vec<(u64, usize)>,
}

impl<T> Default for Runs<T> {
    fn default() -> Self {
        Runs { buf: Vec::new(), on_disk: Vec::new() }
    }
}

/// One sorted run being read back in blocks.
struct RunReader<T> {
    next: u64,
    left: usize,
    block: std::collections::VecDeque<T>,
}

/// Reads the runs of `T` back merged into one sorted sequence.
struct Merge<T: Fixed> {
    runs: Vec<RunReader<T>>,
    heads: std::collections::BinaryHeap<std::cmp::Reverse<(T, usize)>>,
    started: bool,
}

impl<T: Fixed> Merge<T> {
    fn new(runs: Runs<T>) -> Merge<T> {
        let Runs { buf, on_disk } = runs;
        let mut readers: Vec<RunReader<T>> =
            on_disk.into_iter().map(|(next, left)| RunReader { next, left, block: Default::default() }).collect();
        // The last run (sorted) stays in memory.
        readers.push(RunReader { next: 0, left: 0, block: buf.into() });
        Merge { runs: readers, heads: Default::default(), started: false }
    }

    fn pull(&mut self, r: usize, file: &mut File) -> io::Result<Option<T>> {
        let run = &mut self.runs[r];
        if run.block.is_empty() && run.left > 0 {
            let n = run.left.min(8192);
            let mut b = vec![0u8; n * T::SIZE];
            file.seek(SeekFrom::Start(run.next))?;
            file.read_exact(&mut b).map_err(|_| cut_short())?;
            run.block.extend(b.chunks_exact(T::SIZE).map(T::get));
            run.next += b.len() as u64;
            run.left -= n;
        }
        Ok(run.block.pop_front())
    }

    fn next(&mut self, file: &mut File) -> io::Result<Option<T>> {
        if !self.started {
            self.started = true;
            for r in 0..self.runs.len() {
                if let Some(x) = self.pull(r, file)? {
                    self.heads.push(std::cmp::Reverse((x, r)));
                }
            }
        }
        let Some(std::cmp::Reverse((x, r))) = self.heads.pop() else { return Ok(None) };
        if let Some(y) = self.pull(r, file)? {
            self.heads.push(std::cmp::Reverse((y, r)));
        }
        Ok(Some(x))
    }
}

/// Writes spawns and processes as they complete.
#[derive(Debug)]
pub(crate) struct SpillWriter {
    path: PathBuf,
    /// The same file, for reading it back.
    file: File,
    out: BufWriter<File>,
    pos: u64,
    spawns: PagedIndex,
    procs: PagedIndex,
    starts: Runs<Start>,
    ends: Runs<Nanos>,
    run: usize,
    record: Vec<u8>,
}

impl SpillWriter {
    /// A new file in the temporary directory, removed when the analysis is dropped.
    pub fn create() -> io::Result<SpillWriter> {
        SpillWriter::with_sizes(PAGE, RUN)
    }

    /// With `page` offsets a page and `run` times a run (small in tests, to
    /// go through the file with a few items).
    fn with_sizes(page: usize, run: usize) -> io::Result<SpillWriter> {
        let dir = std::env::temp_dir();
        let mut n = 0u32;
        loop {
            let path = dir.join(format!("spawnscope-spill-{}-{n}.bin", std::process::id()));
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
                        spawns: PagedIndex::new(page),
                        procs: PagedIndex::new(page),
                        starts: Runs::default(),
                        ends: Runs::default(),
                        run,
                        record: Vec::new(),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(e),
            }
        }
    }

    fn put<T: Serialize>(&mut self, index: usize, item: &T, spawn: bool) -> io::Result<()> {
        let mut rec = std::mem::take(&mut self.record);
        rec.clear();
        // Room for the length, filled in once the record is encoded.
        rec.extend_from_slice(&[0; MAX_LEN_BYTES]);
        let mut rec = postcard::to_extend(item, rec).map_err(|e| io::Error::other(format!("encoding a spilled item: {e}")))?;
        let body = rec.len() - MAX_LEN_BYTES;
        let len = u32::try_from(body).map_err(|_| io::Error::other("a spilled item over 4 GiB"))?;
        let mut head = [0u8; MAX_LEN_BYTES];
        let n = put_len(&mut head, len);
        let from = MAX_LEN_BYTES - n;
        rec[from..MAX_LEN_BYTES].copy_from_slice(&head[..n]);
        self.out.write_all(&rec[from..])?;
        let at = self.pos;
        self.pos += (rec.len() - from) as u64;
        let idx = if spawn { &mut self.spawns } else { &mut self.procs };
        if let Some((p, offsets)) = idx.set(index, at) {
            rec.clear();
            for o in offsets {
                o.put(&mut rec);
            }
            self.out.write_all(&rec)?;
            idx.placed(p, self.pos);
            self.pos += rec.len() as u64;
        }
        self.record = rec;
        Ok(())
    }

    /// Adds `x` to `runs`, writing the run out once it is full.
    fn push_run<T: Fixed>(out: &mut BufWriter<File>, pos: &mut u64, runs: &mut Runs<T>, run: usize, x: T) -> io::Result<()> {
        runs.buf.push(x);
        if runs.buf.len() >= run {
            runs.buf.sort_unstable();
            let mut b = Vec::with_capacity(runs.buf.len() * T::SIZE);
            for x in &runs.buf {
                x.put(&mut b);
            }
            out.write_all(&b)?;
            runs.on_disk.push((*pos, runs.buf.len()));
            *pos += b.len() as u64;
            runs.buf.clear();
        }
        Ok(())
    }

    pub fn spawn(&mut self, s: &Spawn) -> io::Result<()> {
        let start = Start { t_hi: (s.t_start >> 32) as u32, t_lo: s.t_start as u32, index: s.index as u32 };
        Self::push_run(&mut self.out, &mut self.pos, &mut self.starts, self.run, start)?;
        if let Some(d) = s.t_done {
            Self::push_run(&mut self.out, &mut self.pos, &mut self.ends, self.run, d)?;
        }
        self.put(s.index, &SpawnRec::of(s), true)
    }

    pub fn process(&mut self, p: &Process) -> io::Result<()> {
        self.put(p.index, &ProcRec::of(p), false)
    }

    /// Flushes the file and computes each spawn's in-flight count (as
    /// `stats::fill_in_flight` does for a full analysis) by a sweep over the
    /// start and end times, merged from their sorted runs.
    pub fn finish(mut self) -> io::Result<Spilled> {
        self.out.flush()?;
        let SpillWriter { path, mut file, out, spawns, procs, mut starts, mut ends, .. } = self;
        drop(out);
        starts.buf.sort_unstable();
        ends.buf.sort_unstable();
        let mut in_flight = vec![0u32; spawns.len];
        let (mut starts, mut ends) = (Merge::new(starts), Merge::new(ends));
        let mut next_end = ends.next(&mut file)?;
        let (mut started_before, mut ended) = (0usize, 0usize);
        while let Some(st) = starts.next(&mut file)? {
            while next_end.is_some_and(|e| e <= st.t()) {
                ended += 1;
                next_end = ends.next(&mut file)?;
            }
            if let Some(x) = in_flight.get_mut(st.index as usize) {
                *x = started_before.saturating_sub(ended) as u32;
            }
            started_before += 1;
        }
        Ok(Spilled { path, spawns, procs, in_flight, file: Mutex::new(file) })
    }
}

/// The spilled spawns and processes of a finished analysis.
#[derive(Debug)]
pub struct Spilled {
    path: PathBuf,
    spawns: PagedIndex,
    procs: PagedIndex,
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
        SpillIter::new(self)
    }

    /// Every process, in index order.
    pub fn processes(self: &Arc<Self>) -> SpillIter<Process> {
        SpillIter::new(self)
    }

    pub fn spawn_count(&self) -> usize {
        self.spawns.len
    }

    pub fn process_count(&self) -> usize {
        self.procs.len
    }

    /// Process `i`, read on its own (for a few lookups; use
    /// [`Spilled::processes`] to go through them all).
    pub fn process(&self, i: usize) -> Option<io::Result<Process>> {
        self.read_one(i)
    }

    /// Spawn `i` (`in_flight` filled in), read on its own.
    pub fn spawn(&self, i: usize) -> Option<io::Result<Spawn>> {
        self.read_one(i)
    }

    fn read_one<T: SpillItem>(&self, i: usize) -> Option<io::Result<T>> {
        let off = match self.offset::<T>(i, None)? {
            Ok(off) => off,
            Err(e) => return Some(Err(reading(e))),
        };
        Some(if off == MISSING { Err(missing::<T>(i)) } else { self.read_at(i, off).map_err(reading) })
    }

    fn read_at<T: SpillItem>(&self, i: usize, off: u64) -> io::Result<T> {
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        f.seek(SeekFrom::Start(off))?;
        // Most records are a few hundred bytes: one read for the length and the record.
        let mut buf = Vec::with_capacity(1024);
        Read::by_ref(&mut *f).take(1024).read_to_end(&mut buf)?;
        let (len, head) = get_len(&buf)?;
        let end = head + len as usize;
        if buf.len() < end {
            let have = buf.len();
            buf.resize(end, 0);
            f.read_exact(&mut buf[have..]).map_err(|_| cut_short())?;
        }
        let mut item = T::decode_at(&buf[head..end], i)?;
        item.set_in_flight(self.in_flight.get(i).copied().unwrap_or(0));
        Ok(item)
    }

    /// The offset of item `i` of `T`'s kind (None: past the end), from
    /// memory or from its page in the file: read whole into `page` when
    /// given (going through the items in order), else just the one offset.
    fn offset<T: SpillItem>(&self, i: usize, page: Option<&mut (usize, Vec<u64>)>) -> Option<io::Result<u64>> {
        let index = if T::SPAWN { &self.spawns } else { &self.procs };
        if i >= index.len {
            return None;
        }
        let (p, k) = (i / index.page, i % index.page);
        if let Some((offsets, _)) = index.live.get(&p) {
            return Some(Ok(offsets[k]));
        }
        let at = match index.on_disk.get(p) {
            Some(&at) if at != MISSING => at,
            _ => return Some(Ok(MISSING)),
        };
        let read = |from: u64, n: usize| -> io::Result<Vec<u64>> {
            let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
            f.seek(SeekFrom::Start(from))?;
            let mut b = vec![0u8; n * 8];
            f.read_exact(&mut b).map_err(|_| cut_short())?;
            Ok(b.chunks_exact(8).map(u64::get).collect())
        };
        Some(match page {
            Some(cache) if cache.0 == p && !cache.1.is_empty() => Ok(cache.1[k]),
            Some(cache) => read(at, index.page).map(|v| {
                *cache = (p, v);
                cache.1[k]
            }),
            None => read(at + 8 * k as u64, 1).map(|v| v[0]),
        })
    }
}

/// Reads items back in index order through a 1 MiB block cache: items are
/// written roughly in index order, so this is mostly a sequential read.
#[derive(Debug)]
pub struct SpillIter<T> {
    data: Arc<Spilled>,
    next: usize,
    /// (file offset, bytes) of the block read last; whether it ends at the end of the file.
    block: (u64, Vec<u8>),
    block_at_eof: bool,
    /// The page of the index read last: (page number, offsets).
    page: (usize, Vec<u64>),
    _t: PhantomData<T>,
}

const BLOCK: usize = 1 << 20;

impl<T> SpillIter<T> {
    fn new(data: &Arc<Spilled>) -> SpillIter<T> {
        SpillIter {
            data: Arc::clone(data),
            next: 0,
            block: (0, Vec::new()),
            block_at_eof: false,
            page: (0, Vec::new()),
            _t: PhantomData,
        }
    }

    /// The bytes from `off` on: at least `len` of them unless the file ends first.
    fn window(&mut self, off: u64, len: usize) -> io::Result<&[u8]> {
        let (start, buf) = &self.block;
        let end = start + buf.len() as u64;
        let inside = off >= *start && (off.saturating_add(len as u64) <= end || (self.block_at_eof && off <= end));
        if !inside {
            let want = BLOCK.max(len);
            let mut f = self.data.file.lock().unwrap_or_else(|e| e.into_inner());
            f.seek(SeekFrom::Start(off))?;
            let mut buf = std::mem::take(&mut self.block.1);
            buf.clear();
            buf.reserve(want);
            Read::by_ref(&mut *f).take(want as u64).read_to_end(&mut buf)?;
            self.block_at_eof = buf.len() < want;
            self.block = (off, buf);
        }
        let (start, buf) = &self.block;
        Ok(&buf[(off - start) as usize..])
    }

    /// The record at `off` (without its length).
    fn record(&mut self, off: u64) -> io::Result<&[u8]> {
        let (len, head) = get_len(self.window(off, MAX_LEN_BYTES)?)?;
        let body = self.window(off.saturating_add(head as u64), len as usize)?;
        body.get(..len as usize).ok_or_else(cut_short)
    }
}

impl<T: SpillItem> Iterator for SpillIter<T> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<io::Result<T>> {
        let i = self.next;
        let data = Arc::clone(&self.data);
        let off = data.offset::<T>(i, Some(&mut self.page))?;
        self.next += 1;
        let off = match off {
            Ok(off) if off == MISSING => return Some(Err(missing::<T>(i))),
            Ok(off) => off,
            Err(e) => return Some(Err(reading(e))),
        };
        let in_flight = data.in_flight.get(i).copied().unwrap_or(0);
        Some(self.record(off).and_then(|b| T::decode_at(b, i)).map_err(reading).map(|mut x| {
            x.set_in_flight(in_flight);
            x
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let total = if T::SPAWN { self.data.spawns.len } else { self.data.procs.len };
        let left = total.saturating_sub(self.next);
        (left, Some(left))
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

/// What a spill file holds: [`Spawn`] and [`Process`].
pub trait SpillItem: InFlight + Sized + private::Sealed {
    #[doc(hidden)]
    const SPAWN: bool;
    #[doc(hidden)]
    fn decode(bytes: &[u8]) -> io::Result<Self>;
    #[doc(hidden)]
    fn index(&self) -> usize;

    /// Item `i`, checked to be item `i` (a damaged index is an error, not another item).
    #[doc(hidden)]
    fn decode_at(bytes: &[u8], i: usize) -> io::Result<Self> {
        let x = Self::decode(bytes)?;
        if x.index() != i {
            return Err(damaged(format!("item {} where item {i} was expected", x.index())));
        }
        Ok(x)
    }
}

mod private {
    pub trait Sealed {}
    impl Sealed for crate::model::Spawn {}
    impl Sealed for crate::model::Process {}
}

impl SpillItem for Spawn {
    const SPAWN: bool = true;
    fn decode(bytes: &[u8]) -> io::Result<Spawn> {
        decode::<SpawnRec>(bytes).map(SpawnRec::into_spawn)
    }
    fn index(&self) -> usize {
        self.index
    }
}

impl SpillItem for Process {
    const SPAWN: bool = false;
    fn decode(bytes: &[u8]) -> io::Result<Process> {
        decode::<ProcRec>(bytes).map(ProcRec::into_process)
    }
    fn index(&self) -> usize {
        self.index
    }
}

/// A whole record, nothing left over (a damaged file reads as an error).
fn decode<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> io::Result<T> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((x, [])) => Ok(x),
        Ok((_, rest)) => Err(damaged(format!("{} bytes left over in a record", rest.len()))),
        Err(e) => Err(damaged(e.to_string())),
    }
}

fn damaged(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("temporary spawn file damaged: {what}"))
}

/// An I/O error while reading the file back, said to be one (a damaged
/// file's errors say so already).
fn reading(e: io::Error) -> io::Error {
    if e.to_string().contains("temporary spawn file") {
        e
    } else {
        io::Error::new(e.kind(), format!("reading the temporary spawn file: {e}"))
    }
}

fn cut_short() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "temporary spawn file cut short")
}

fn missing<T: SpillItem>(i: usize) -> io::Error {
    let what = if T::SPAWN { "spawn" } else { "process" };
    io::Error::new(io::ErrorKind::NotFound, format!("{what} {i} is not in the temporary spawn file"))
}

// ---- record lengths: LEB128, at most 5 bytes for a u32 ----

const MAX_LEN_BYTES: usize = 5;

/// Writes `len` at the start of `out`; returns how many bytes it took.
fn put_len(out: &mut [u8; MAX_LEN_BYTES], mut len: u32) -> usize {
    let mut n = 0;
    loop {
        let b = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out[n] = b;
            return n + 1;
        }
        out[n] = b | 0x80;
        n += 1;
    }
}

/// (length, bytes it took) from the start of `b`.
fn get_len(b: &[u8]) -> io::Result<(u32, usize)> {
    let mut len: u64 = 0;
    for (i, &x) in b.iter().take(MAX_LEN_BYTES).enumerate() {
        len |= u64::from(x & 0x7f) << (7 * i);
        if x & 0x80 == 0 {
            return u32::try_from(len).map(|l| (l, i + 1)).map_err(|_| damaged("bad record length".into()));
        }
    }
    if b.len() < MAX_LEN_BYTES {
        Err(cut_short())
    } else {
        Err(damaged("bad record length".into()))
    }
}

// ---- the records: every field of the model, in a fixed order ----
//
// Written from borrowed data (Cow::Borrowed), read back owned.

#[derive(Serialize, Deserialize)]
struct AttemptRec<'a> {
    tid: i32,
    path: Cow<'a, str>,
    argv: Cow<'a, [String]>,
    env_count: u64,
    env_bytes: u64,
    result: i32,
    t_entry: Option<Nanos>,
    t_exit: Nanos,
    env_hash: Option<u64>,
}

impl<'a> AttemptRec<'a> {
    fn of(x: &'a ExecAttempt) -> Self {
        let ExecAttempt { tid, path, argv, env_count, env_bytes, result, t_entry, t_exit, env_hash } = x;
        AttemptRec {
            tid: *tid,
            path: Cow::Borrowed(path),
            argv: Cow::Borrowed(argv),
            env_count: *env_count,
            env_bytes: *env_bytes,
            result: *result,
            t_entry: *t_entry,
            t_exit: *t_exit,
            env_hash: *env_hash,
        }
    }

    fn into_attempt(self) -> ExecAttempt {
        ExecAttempt {
            tid: self.tid,
            path: self.path.into_owned(),
            argv: self.argv.into_owned(),
            env_count: self.env_count,
            env_bytes: self.env_bytes,
            result: self.result,
            t_entry: self.t_entry,
            t_exit: self.t_exit,
            env_hash: self.env_hash,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ExecRec<'a> {
    path: Cow<'a, str>,
    chain: Cow<'a, [String]>,
    argv: Cow<'a, [String]>,
    success: bool,
    failed_attempts: Vec<AttemptRec<'a>>,
    failed_ns: Nanos,
    env_count: u64,
    env_bytes: u64,
}

impl<'a> ExecRec<'a> {
    fn of(e: &'a SpawnExec) -> Self {
        let SpawnExec { path, chain, argv, success, failed_attempts, failed_ns, env_count, env_bytes } = e;
        ExecRec {
            path: Cow::Borrowed(path),
            chain: Cow::Borrowed(chain),
            argv: Cow::Borrowed(argv),
            success: *success,
            failed_attempts: failed_attempts.iter().map(AttemptRec::of).collect(),
            failed_ns: *failed_ns,
            env_count: *env_count,
            env_bytes: *env_bytes,
        }
    }

    fn into_exec(self) -> SpawnExec {
        SpawnExec {
            path: self.path.into_owned(),
            chain: self.chain.into_owned(),
            argv: self.argv.into_owned(),
            success: self.success,
            failed_attempts: self.failed_attempts.into_iter().map(AttemptRec::into_attempt).collect(),
            failed_ns: self.failed_ns,
            env_count: self.env_count,
            env_bytes: self.env_bytes,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SpawnRec<'a> {
    index: usize,
    parent_pid: i32,
    parent_tid: i32,
    child_pid: i32,
    child: Option<usize>,
    parent: Option<usize>,
    syscall: CloneSyscall,
    flags: u64,
    exit_signal: u32,
    stack: u64,
    style: SpawnStyle,
    ptrace_event: Option<PtraceEvent>,
    style_mismatch: bool,
    code_path: CodePath,
    socketpair: bool,
    exec: Option<ExecRec<'a>>,
    latency_ns: Option<Nanos>,
    parent_blocked_ns: Option<Nanos>,
    clone_ns: Option<Nanos>,
    parent_mem: Option<(u64, u64)>,
    parent_threads: Option<u32>,
    t_start: Nanos,
    t_done: Option<Nanos>,
    line: u64,
    from_event: bool,
    origin: Option<u32>,
}

impl<'a> SpawnRec<'a> {
    fn of(s: &'a Spawn) -> Self {
        let Spawn {
            index,
            parent_pid,
            parent_tid,
            child_pid,
            child,
            parent,
            syscall,
            flags,
            exit_signal,
            stack,
            style,
            ptrace_event,
            style_mismatch,
            code_path,
            socketpair,
            exec,
            latency_ns,
            parent_blocked_ns,
            clone_ns,
            parent_mem,
            parent_threads,
            // Computed at the end, filled in when read back.
            in_flight: _,
            t_start,
            t_done,
            line,
            from_event,
            origin,
        } = s;
        SpawnRec {
            index: *index,
            parent_pid: *parent_pid,
            parent_tid: *parent_tid,
            child_pid: *child_pid,
            child: *child,
            parent: *parent,
            syscall: *syscall,
            flags: *flags,
            exit_signal: *exit_signal,
            stack: *stack,
            style: *style,
            ptrace_event: *ptrace_event,
            style_mismatch: *style_mismatch,
            code_path: *code_path,
            socketpair: *socketpair,
            exec: exec.as_ref().map(ExecRec::of),
            latency_ns: *latency_ns,
            parent_blocked_ns: *parent_blocked_ns,
            clone_ns: *clone_ns,
            parent_mem: parent_mem.map(|MemInfo { rss_kb, pte_kb }| (rss_kb, pte_kb)),
            parent_threads: *parent_threads,
            t_start: *t_start,
            t_done: *t_done,
            line: *line,
            from_event: *from_event,
            origin: *origin,
        }
    }

    fn into_spawn(self) -> Spawn {
        Spawn {
            index: self.index,
            parent_pid: self.parent_pid,
            parent_tid: self.parent_tid,
            child_pid: self.child_pid,
            child: self.child,
            parent: self.parent,
            syscall: self.syscall,
            flags: self.flags,
            exit_signal: self.exit_signal,
            stack: self.stack,
            style: self.style,
            ptrace_event: self.ptrace_event,
            style_mismatch: self.style_mismatch,
            code_path: self.code_path,
            socketpair: self.socketpair,
            exec: self.exec.map(ExecRec::into_exec),
            latency_ns: self.latency_ns,
            parent_blocked_ns: self.parent_blocked_ns,
            clone_ns: self.clone_ns,
            parent_mem: self.parent_mem.map(|(rss_kb, pte_kb)| MemInfo { rss_kb, pte_kb }),
            parent_threads: self.parent_threads,
            in_flight: 0,
            t_start: self.t_start,
            t_done: self.t_done,
            line: self.line,
            from_event: self.from_event,
            origin: self.origin,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ProcRec<'a> {
    index: usize,
    pid: i32,
    parent: Option<usize>,
    spawn: Option<usize>,
    children: Cow<'a, [usize]>,
    execs: Vec<AttemptRec<'a>>,
    name: Cow<'a, str>,
    threads_created: u32,
    exit: Option<(Option<i32>, Option<i32>, Nanos)>,
    t_start: Nanos,
    threads_exited: u32,
}

impl<'a> ProcRec<'a> {
    fn of(p: &'a Process) -> Self {
        let Process { index, pid, parent, spawn, children, execs, name, threads_created, exit, t_start, threads_exited } = p;
        ProcRec {
            index: *index,
            pid: *pid,
            parent: *parent,
            spawn: *spawn,
            children: Cow::Borrowed(children),
            execs: execs.iter().map(AttemptRec::of).collect(),
            name: Cow::Borrowed(name),
            threads_created: *threads_created,
            exit: exit.map(|ProcessExit { code, signal, t }| (code, signal, t)),
            t_start: *t_start,
            threads_exited: *threads_exited,
        }
    }

    fn into_process(self) -> Process {
        Process {
            index: self.index,
            pid: self.pid,
            parent: self.parent,
            spawn: self.spawn,
            children: self.children.into_owned(),
            execs: self.execs.into_iter().map(AttemptRec::into_attempt).collect(),
            name: self.name.into_owned(),
            threads_created: self.threads_created,
            exit: self.exit.map(|(code, signal, t)| ProcessExit { code, signal, t }),
            t_start: self.t_start,
            threads_exited: self.threads_exited,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{analyze_path_with, Retention, Thresholds};

    /// Every spawn and process of `a`, written in reverse index order (the
    /// index, not the order of writing, decides the order read back).
    fn spill(a: &crate::Analysis) -> Arc<Spilled> {
        spill_sized(a, PAGE, RUN)
    }

    /// [`spill`] with `page` offsets a page and `run` times a run: small
    /// ones put index pages and sorted runs of the sweep in the file.
    fn spill_sized(a: &crate::Analysis, page: usize, run: usize) -> Arc<Spilled> {
        let mut w = SpillWriter::with_sizes(page, run).expect("a temporary file");
        for s in a.spawns.iter().rev() {
            w.spawn(s).expect("spilled");
        }
        for p in a.processes.iter().rev() {
            w.process(p).expect("spilled");
        }
        Arc::new(w.finish().expect("finished"))
    }

    #[test]
    fn every_field_of_every_spawn_and_process_of_every_fixture_reads_back_the_same() {
        let mut spawns = 0;
        for path in spawnscope_testkit::fixture_traces() {
            let a = analyze_path_with(&path, &Thresholds::default(), Retention::Full).expect("a valid fixture");
            for (page, run) in [(PAGE, RUN), (1, 1), (3, 5), (8, 2)] {
                check_round_trip(&a, &spill_sized(&a, page, run), &format!("{} ({page}, {run})", path.display()));
            }
            spawns += a.spawns.len();
        }
        assert!(spawns > 100, "spawns checked: {spawns}");
    }

    fn check_round_trip(a: &crate::Analysis, sp: &Arc<Spilled>, name: &str) {
        {
            // in_flight too: computed from the start and end times as the full analysis does.
            let back: Vec<Spawn> = sp.spawns().collect::<io::Result<_>>().expect("read back");
            assert_eq!(back, a.spawns, "{name}");
            let back: Vec<Process> = sp.processes().collect::<io::Result<_>>().expect("read back");
            assert_eq!(back, a.processes, "{name}");
            for (i, s) in a.spawns.iter().enumerate().rev() {
                assert_eq!(&sp.spawn(i).expect("spawn i").expect("read"), s, "{name} spawn {i}");
            }
            for (i, p) in a.processes.iter().enumerate() {
                assert_eq!(&sp.process(i).expect("process i").expect("read"), p, "{name} process {i}");
            }
            assert_eq!(sp.spawn_count(), a.spawns.len());
            assert_eq!(sp.process_count(), a.processes.len());
        }
    }

    #[test]
    fn fields_a_json_line_would_leave_out_read_back() {
        // `env_hash` is skipped in JSON when None: the binary record keeps
        // both cases apart, and extreme values survive.
        let attempt = |env_hash| ExecAttempt {
            tid: -1,
            path: "/a\u{0}b\u{1b}[2J".into(),
            argv: vec![String::new(), "é".repeat(100_000)],
            env_count: u64::MAX,
            env_bytes: 0,
            result: i32::MIN,
            t_entry: None,
            t_exit: u64::MAX,
            env_hash,
        };
        let p = Process {
            index: 1,
            pid: i32::MAX,
            parent: Some(usize::MAX),
            spawn: None,
            children: vec![0, 5, usize::MAX],
            execs: vec![attempt(None), attempt(Some(0)), attempt(Some(u64::MAX))],
            name: String::new(),
            threads_created: u32::MAX,
            exit: Some(ProcessExit { code: None, signal: Some(9), t: 1 }),
            t_start: 0,
            threads_exited: 3,
        };
        let mut w = SpillWriter::create().expect("a temporary file");
        w.process(&p).expect("spilled");
        let sp = Arc::new(w.finish().expect("finished"));
        // Index 0 was never written: an error, not another item.
        assert_eq!(sp.process(0).expect("in range").expect_err("missing").kind(), io::ErrorKind::NotFound);
        assert_eq!(sp.process(1).expect("in range").expect("read"), p);
        let all: Vec<io::Result<Process>> = sp.processes().collect();
        assert_eq!(all.len(), 2);
        assert!(all[0].is_err());
        assert_eq!(all[1].as_ref().expect("read"), &p);
        assert!(sp.process(2).is_none());
    }

    #[test]
    fn a_damaged_spill_file_reads_as_errors_not_panics() {
        // The fixture with the most spawns.
        let a = spawnscope_testkit::fixture_traces()
            .iter()
            .map(|p| analyze_path_with(p, &Thresholds::default(), Retention::Full).expect("a valid fixture"))
            .max_by_key(|a| a.spawns.len())
            .expect("fixtures");
        assert!(a.spawns.len() > 20, "{}", a.spawns.len());
        let len = {
            let sp = spill(&a);
            let f = sp.file.lock().expect("the file");
            f.metadata().expect("metadata").len()
        };
        assert!(len > 1000);
        // Overwrite parts of the file with garbage (bytes of every value at
        // every position), or cut it, and read everything back each time.
        type Damage = Box<dyn Fn(&File)>;
        let damages: Vec<Damage> = vec![
            Box::new(|f: &File| f.set_len(0).expect("truncated")),
            Box::new(move |f: &File| f.set_len(len / 2).expect("truncated")),
            Box::new(move |f: &File| f.set_len(len - 1).expect("truncated")),
            Box::new(move |f: &File| write_at(f, 0, &[0xff; 64])),
            Box::new(move |f: &File| write_at(f, len / 3, &(0..=255u8).cycle().take(4096).collect::<Vec<_>>())),
            Box::new(move |f: &File| write_at(f, len / 2, &[0x80; 300])),
            Box::new(move |f: &File| write_at(f, 1, &[0x00; 200])),
        ];
        for (n, (damage, (page, run))) in damages.iter().flat_map(|d| [(d, (PAGE, RUN)), (d, (4, 3))]).enumerate() {
            let sp = spill_sized(&a, page, run);
            damage(&sp.file.lock().expect("the file"));
            let spawns: Vec<io::Result<Spawn>> = sp.spawns().collect();
            let procs: Vec<io::Result<Process>> = sp.processes().collect();
            let errors = spawns.iter().filter(|r| r.is_err()).count() + procs.iter().filter(|r| r.is_err()).count();
            let singles = (0..a.spawns.len()).filter(|&i| sp.spawn(i).is_some_and(|r| r.is_err())).count()
                + (0..a.processes.len()).filter(|&i| sp.process(i).is_some_and(|r| r.is_err())).count();
            assert!(errors > 0 && singles > 0, "damage {n}: no error reading back");
            if page == PAGE {
                // (With the index in the file, a page read whole by the
                // iterator can fail where single offsets still read.)
                assert_eq!(errors, singles, "damage {n}: the iterators and the lookups disagree");
            }
            let messages = spawns
                .iter()
                .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
                .chain(procs.iter().filter_map(|r| r.as_ref().err().map(|e| e.to_string())));
            for e in messages {
                assert!(e.contains("temporary spawn file"), "damage {n}: {e}");
            }
        }
    }

    #[test]
    fn checked_iterators_end_with_the_read_error_instead_of_stopping_quietly() {
        let path = spawnscope_testkit::fixture_traces()
            .into_iter()
            .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            .expect("fixtures");
        let a = analyze_path_with(&path, &Thresholds::default(), Retention::Stream).expect("a valid fixture");
        let all = a.try_each_spawn().count();
        assert_eq!(all as u64, a.summary.spawns);
        assert!(a.try_each_spawn().all(|r| r.is_ok()) && a.try_each_process().all(|r| r.is_ok()));
        let sp = &a.aggregate.as_ref().and_then(|ag| ag.spill.as_ref()).expect("streamed").0;
        sp.file.lock().expect("the file").set_len(0).expect("cut");
        for items in [
            a.try_each_spawn().map(|r| r.map(|_| ())).collect::<Vec<_>>(),
            a.try_each_process().map(|r| r.map(|_| ())).collect::<Vec<_>>(),
        ] {
            // Whatever was read, then exactly one error, last.
            assert!(items.last().is_some_and(|r| r.is_err()), "{items:?}");
            assert_eq!(items.iter().filter(|r| r.is_err()).count(), 1);
        }
        // The unchecked ones just stop (what a report that cannot fail uses).
        assert!(a.each_spawn().count() < all);
    }

    fn write_at(f: &File, off: u64, bytes: &[u8]) {
        let mut f = f;
        f.seek(SeekFrom::Start(off)).expect("seek");
        f.write_all(bytes).expect("written");
    }

    #[test]
    fn record_lengths_round_trip() {
        for len in [0u32, 1, 127, 128, 300, 16_383, 16_384, 1 << 21, u32::MAX] {
            let mut b = [0u8; MAX_LEN_BYTES];
            let n = put_len(&mut b, len);
            assert_eq!(get_len(&b[..n]).expect("a length"), (len, n));
        }
        assert!(get_len(&[0x80, 0x80]).is_err());
        assert!(get_len(&[0xff; 5]).is_err());
    }
}
