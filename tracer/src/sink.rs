//! [`FileSink`]: an [`Observer`] that writes a trace file and flushes it at
//! least every 100 ms from a helper thread, so a recording killed with
//! SIGKILL leaves a trace readable up to its last complete line.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use spawnscope_format::{FileWriter, Record, WriteError};

use crate::{Observer, ObserverError};

const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Writes records to a trace file (zstd when the name ends in `.zst`).
pub struct FileSink {
    writer: Arc<Mutex<Option<FileWriter>>>,
    stop: Option<mpsc::Sender<()>>,
    flusher: Option<JoinHandle<()>>,
}

impl FileSink {
    /// Creates (truncates) the file with mode 0600 and starts the flusher.
    pub fn create(path: impl AsRef<Path>) -> Result<FileSink, WriteError> {
        let writer = Arc::new(Mutex::new(Some(FileWriter::create(path)?)));
        let (stop, rx) = mpsc::channel::<()>();
        let w = Arc::clone(&writer);
        let flusher = std::thread::Builder::new()
            .name("spawnscope-flush".into())
            .spawn(move || {
                block_signals();
                loop {
                    match rx.recv_timeout(FLUSH_EVERY) {
                        Err(RecvTimeoutError::Timeout) => {
                            if let Ok(mut g) = w.lock() {
                                if let Some(wr) = g.as_mut() {
                                    let _ = wr.flush();
                                }
                            }
                        }
                        _ => return,
                    }
                }
            })
            .map_err(WriteError::Io)?;
        Ok(FileSink { writer, stop: Some(stop), flusher: Some(flusher) })
    }

    /// Stops the flusher and flushes what is buffered (the end line, if it
    /// was recorded, is already written).
    pub fn close(mut self) -> Result<(), WriteError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), WriteError> {
        self.stop.take();
        if let Some(h) = self.flusher.take() {
            let _ = h.join();
        }
        let mut g = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        match g.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for FileSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSink").finish_non_exhaustive()
    }
}

/// The flusher thread must not take the signals meant for the tracing
/// thread (whose waitpid they interrupt).
fn block_signals() {
    // SAFETY: sigset operations on a local set; affects this thread only.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

impl Observer for FileSink {
    fn record(&mut self, record: Record) -> Result<(), ObserverError> {
        let mut g = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let Some(w) = g.as_mut() else { return Err("trace file already finished".into()) };
        w.write_record(&record)?;
        if matches!(record, Record::End(_)) {
            w.flush()?;
        }
        Ok(())
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
