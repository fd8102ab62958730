//! A trace too big to read before the first frame, in a real terminal: this
//! test runs itself in a tmux pane (the child opens the trace as `view`
//! does and runs the UI), waits until the trace is read, and checks the
//! views and the events list (an index of the file, rows read back when
//! shown). A trace with a damaged line ends the UI with the error of a
//! trace read whole. tmux is found by spawnscope-testkit (never PATH).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use spawnscope_tui::{load_trace, open_view, sample};

const CHILD: &str = "SPAWNSCOPE_TUI_BIG_CHILD";
/// Events of the trace: over the size read before the first frame.
const EVENTS: usize = 100_000;

struct Pane {
    tmux: PathBuf,
    sock: PathBuf,
    name: String,
}

impl Pane {
    fn start(dir: &Path, name: &str, trace: &Path) -> Pane {
        let p = Pane { tmux: spawnscope_testkit::tool("tmux"), sock: dir.join(format!("{name}.sock")), name: name.into() };
        let exe = std::env::current_exe().unwrap();
        let cmd = format!(
            "{CHILD}='{}' '{}' --exact view_of_a_big_trace_in_a_terminal --nocapture --test-threads=1; echo EXIT=$?; sleep 60",
            trace.display(),
            exe.display()
        );
        let out = p.run(&["-f", "/dev/null", "new-session", "-d", "-s", name, "-x", "120", "-y", "40", &cmd]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        p
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(&self.tmux).arg("-S").arg(&self.sock).args(args).output().expect("run tmux")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-J", "-t", &self.name]).stdout).into_owned()
    }

    /// Waits (60 s at most) until `done` holds for a settled screen; returns it.
    fn wait(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        spawnscope_testkit::wait_screen(what, Duration::from_secs(60), || self.screen(), done)
    }

    fn keys(&self, keys: &str) {
        assert!(self.run(&["send-keys", "-t", &self.name, "-l", keys]).status.success());
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = self.run(&["kill-session", "-t", &self.name]);
    }
}

/// In the tmux pane: `view` of the trace named by the environment.
fn child(trace: &str) {
    let path = Path::new(trace);
    let app = open_view(path, "big.jsonl", &Default::default()).expect("open");
    assert!(app.loading.is_some(), "a trace this big is read behind the UI");
    match spawnscope_tui::run::run_offline(app) {
        Ok(_) => std::process::exit(0),
        Err(e) => {
            eprintln!("spawnscope: {e}");
            std::process::exit(2);
        }
    }
}

#[test]
fn view_of_a_big_trace_in_a_terminal() {
    if let Some(trace) = std::env::var_os(CHILD) {
        return child(&trace.to_string_lossy());
    }
    if !spawnscope_testkit::require_tool("tmux") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("spawnscope-tui-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("big.jsonl");
    let n = sample::write_large(std::io::BufWriter::new(std::fs::File::create(&trace).unwrap()), EVENTS).unwrap();
    assert!(std::fs::metadata(&trace).unwrap().len() > spawnscope_tui::load::SMALL_BYTES);
    let whole = load_trace(&trace).unwrap();

    let pane = Pane::start(&dir, "big", &trace);
    // Read: the overview with its findings, no "reading" line left.
    let s = pane.wait("the whole trace", |s| s.contains("1 Overview") && s.contains("Findings") && !s.contains(" reading "));
    assert!(s.contains(&spawnscope_tui::fmt::count(whole.analysis.spawns.len() as u64)), "{s}");
    // Every event listed; the last page read back from the file.
    pane.keys("5");
    let count = format!("Events ({})", spawnscope_tui::fmt::count(n as u64 + 1));
    pane.wait("the events list", |s| s.contains(&count));
    pane.keys("G");
    let s = pane.wait("the last event", |s| s.contains("end of trace"));
    assert!(!s.contains("cannot read this line again"), "{s}");
    pane.keys("q");
    pane.wait("the exit", |s| s.contains("EXIT=0"));
    drop(pane);

    // A damaged line far in: the UI ends with the error a whole read gives.
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[90_000] = "{\"kind\":\"exec\",";
    std::fs::write(&trace, lines.join("\n") + "\n").unwrap();
    let want = load_trace(&trace).unwrap_err().to_string();
    assert!(want.contains("line 90001"), "{want}");
    let pane = Pane::start(&dir, "bad", &trace);
    let s = pane.wait("the error", |s| s.contains("EXIT=2"));
    assert!(s.contains(&format!("spawnscope: {want}")), "{s}");
    drop(pane);
    std::fs::remove_dir_all(&dir).unwrap();
}
