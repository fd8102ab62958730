//! Small readers of /proc: a task's thread group, memory and threads; the
//! tasks of a process; and what an exec'd process was given (for `events`
//! mode, which has no syscall-entry stop to read arguments from).

use std::io::Read;

use spawnscope_format::{EnvSummary, MemInfo, MAX_ARGS, MAX_ENV_COUNT, MAX_STRING};

use crate::ptrace::Tid;

/// Fields of /proc/TID/status the tracer uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    pub tgid: Option<i32>,
    pub mem: MemInfo,
    pub threads: Option<u32>,
}

/// Parses /proc/TID/status; None when the task is gone.
pub fn status(tid: Tid) -> Option<Status> {
    let text = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    Some(parse_status(&text))
}

pub fn parse_status(text: &str) -> Status {
    let mut st = Status::default();
    for line in text.lines() {
        let Some((key, val)) = line.split_once(':') else { continue };
        let num = || val.split_whitespace().next().and_then(|v| v.parse::<u64>().ok());
        match key {
            "Tgid" => st.tgid = num().map(|v| v as i32),
            "VmRSS" => st.mem.rss_kb = num().unwrap_or(0),
            "VmPTE" => st.mem.pte_kb = num().unwrap_or(0),
            "Threads" => st.threads = num().map(|v| v as u32),
            _ => {}
        }
    }
    st
}

/// TracerPid of a task (0: not traced); None when the task is gone.
pub fn tracer_of(tid: Tid) -> Option<i32> {
    let text = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    text.lines().find_map(|l| l.strip_prefix("TracerPid:")).and_then(|v| v.trim().parse().ok())
}

/// Thread ids of a process (for attaching to every thread).
pub fn tasks(pid: i32) -> std::io::Result<Vec<Tid>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        if let Some(t) = e?.file_name().to_str().and_then(|s| s.parse().ok()) {
            v.push(t);
        }
    }
    v.sort_unstable();
    Ok(v)
}

/// Reads at most `max` bytes of a /proc file.
fn read_bounded(path: &str, max: u64) -> Option<Vec<u8>> {
    let f = std::fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// argv of a process after exec, bounded like the tracer's reads.
pub fn cmdline(pid: i32) -> Option<(Vec<String>, bool)> {
    let raw = read_bounded(&format!("/proc/{pid}/cmdline"), (MAX_ARGS * (MAX_STRING + 1) + 1) as u64)?;
    let mut truncated = false;
    let mut argv = Vec::new();
    for s in raw.split(|&b| b == 0) {
        if argv.len() == MAX_ARGS {
            truncated = true;
            break;
        }
        let cut = &s[..s.len().min(MAX_STRING)];
        truncated |= cut.len() < s.len();
        argv.push(String::from_utf8_lossy(cut).into_owned());
    }
    if raw.last() == Some(&0) {
        argv.pop();
    }
    Some((argv, truncated))
}

/// Environment summary of a process after exec (the envp it was given).
pub fn environ(pid: i32, capture: bool) -> Option<(EnvSummary, Option<Vec<String>>)> {
    // The exec'd environment is at most a quarter of the stack limit; cap the read.
    let raw = read_bounded(&format!("/proc/{pid}/environ"), 64 * 1024 * 1024)?;
    let mut sum = EnvSummary::new();
    let mut values = capture.then(Vec::new);
    let body = raw.strip_suffix(&[0]).unwrap_or(&raw);
    if !body.is_empty() {
        for s in body.split(|&b| b == 0).take(MAX_ENV_COUNT) {
            sum.add(s);
            if let Some(v) = values.as_mut() {
                v.push(String::from_utf8_lossy(&s[..s.len().min(MAX_STRING)]).into_owned());
            }
        }
    }
    Some((sum, values))
}

/// AT_EXECFN from /proc/PID/auxv: the address of the path given to exec.
pub fn auxv_execfn(pid: i32) -> Option<u64> {
    const AT_EXECFN: u64 = 31;
    let raw = read_bounded(&format!("/proc/{pid}/auxv"), 4096)?;
    raw.chunks_exact(16).find_map(|c| {
        let k = u64::from_ne_bytes(c[..8].try_into().ok()?);
        let v = u64::from_ne_bytes(c[8..].try_into().ok()?);
        (k == AT_EXECFN).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_of_self() {
        let st = status(std::process::id() as i32).unwrap();
        assert_eq!(st.tgid, Some(std::process::id() as i32));
        assert!(st.mem.rss_kb > 0);
        assert!(st.threads.unwrap() >= 1);
        assert!(tasks(std::process::id() as i32).unwrap().contains(&(std::process::id() as i32)));
        assert!(auxv_execfn(std::process::id() as i32).is_some());
        let (argv, _) = cmdline(std::process::id() as i32).unwrap();
        assert!(!argv.is_empty());
    }
}
