//! A real terminal for end-to-end tests: a tmux server of its own (private
//! socket) with one session, keys in with `send-keys`, the screen out with
//! `capture-pane`. Server and session go away on drop, whatever the test did.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long a wait lasts before the test fails.
const LIMIT: Duration = Duration::from_secs(30);

/// One tmux session in a private server.
#[derive(Debug)]
pub struct Tmux {
    /// Holds the server's socket; removed after the session is killed.
    dir: tempfile::TempDir,
    /// The session's name (`-t` target).
    pub session: String,
}

impl Tmux {
    /// Starts `command` (a shell command line) in a `w` x `h` terminal; None
    /// (skipped, or failed in CI) when tmux is missing, see [`crate::require_tool`].
    pub fn start(name: &str, command: &str, w: u16, h: u16) -> Option<Tmux> {
        if !crate::require_tool("tmux") {
            return None;
        }
        let t = Tmux { dir: tempfile::tempdir().expect("temp dir"), session: name.to_string() };
        let (w, h) = (w.to_string(), h.to_string());
        let out = t.tmux(&["-f", "/dev/null", "new-session", "-d", "-s", name, "-x", &w, "-y", &h, command]);
        assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
        Some(t)
    }

    /// Runs a tmux command against this server.
    pub fn tmux(&self, args: &[&str]) -> Output {
        Command::new(crate::tool("tmux")).arg("-S").arg(self.dir.path().join("sock")).args(args).output().expect("run tmux")
    }

    /// The screen as text.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", &self.session]).stdout).into_owned()
    }

    /// Sends keys by tmux name (`Enter`, `Escape`, `q`, ...). Send `Escape`
    /// alone: ESC and the next key in one write read as Alt+key.
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success());
    }

    /// Waits until the screen satisfies `ok` and is settled (see
    /// [`wait_screen`]); returns it.
    pub fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        wait_screen(what, LIMIT, || self.screen(), ok)
    }

    /// Waits until the screen shows `needle`.
    pub fn wait_for(&self, needle: &str) -> String {
        self.wait_until(needle, |s| s.contains(needle))
    }

    /// Waits until the screen no longer shows `needle`.
    pub fn wait_gone(&self, needle: &str) -> String {
        self.wait_until(&format!("{needle:?} to go"), |s| !s.contains(needle))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-session", "-t", &self.session]);
    }
}

/// Polls `screen` until `ok` holds and the screen then stays the same for
/// 100 ms (a capture can land in the middle of a frame being drawn); a screen
/// that keeps changing (a live view) is taken as it is once `limit` passed.
/// Panics with the last screen when `ok` never held within `limit`.
pub fn wait_screen(what: &str, limit: Duration, mut screen: impl FnMut() -> String, ok: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    let mut last: Option<String> = None;
    loop {
        let s = screen();
        if ok(&s) {
            if last.as_deref() == Some(s.as_str()) || start.elapsed() > limit {
                return s;
            }
            last = Some(s);
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        last = None;
        assert!(start.elapsed() < limit, "timed out waiting for {what}; screen:\n{s}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A screen that shows `frames` in turn, then the last one for ever.
    fn frames(frames: &[&str]) -> impl FnMut() -> String {
        let frames: Vec<String> = frames.iter().map(|f| f.to_string()).collect();
        let mut i = 0;
        move || {
            let f = frames[i.min(frames.len() - 1)].clone();
            i += 1;
            f
        }
    }

    #[test]
    fn a_half_drawn_frame_is_not_taken() {
        let s = wait_screen("findings", LIMIT, frames(&["Find", "Findings (4)", "Findings (4)"]), |s| s.contains("Find"));
        assert_eq!(s, "Findings (4)");
    }

    #[test]
    #[should_panic(expected = "timed out waiting for nothing")]
    fn a_screen_that_never_matches_fails() {
        wait_screen("nothing", Duration::from_millis(200), frames(&["x"]), |s| s.contains("y"));
    }
}
