//! The terminal is restored when the UI panics: this test runs itself in a
//! tmux pane (a real terminal), enters the full-screen mode, panics, and
//! checks that the panic message is readable and the shell echoes again.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ratatui::widgets::Paragraph;
use spawnscope_tui::term::TerminalGuard;

const CHILD: &str = "SPAWNSCOPE_TUI_PANIC_CHILD";

fn tmux(sock: &Path, args: &[&str]) -> std::process::Output {
    Command::new("tmux").arg("-S").arg(sock).args(args).output().expect("run tmux")
}

fn wait_for(sock: &Path, needle: &str) -> String {
    let start = Instant::now();
    loop {
        let out = tmux(sock, &["capture-pane", "-p", "-t", "panic"]);
        let s = String::from_utf8_lossy(&out.stdout).into_owned();
        if s.contains(needle) {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {needle:?}; screen:\n{s}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_panic_restores_the_terminal() {
    if std::env::var_os(CHILD).is_some() {
        // In the tmux pane: full screen, then a bug.
        let mut g = TerminalGuard::enter().expect("terminal");
        g.terminal.draw(|f| f.render_widget(Paragraph::new("FULL-SCREEN-UI"), f.area())).expect("draw");
        std::thread::sleep(Duration::from_millis(500));
        panic!("deliberate panic for the test");
    }
    if !Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: tmux is not installed");
        return;
    }
    let dir = tempfile_dir();
    let sock = dir.join("sock");
    let exe = std::env::current_exe().unwrap();
    let cmd = format!(
        "{CHILD}=1 '{}' --exact a_panic_restores_the_terminal --nocapture --test-threads=1; echo EXIT=$?; sleep 60",
        exe.display()
    );
    let started = tmux(&sock, &["-f", "/dev/null", "new-session", "-d", "-s", "panic", "-x", "100", "-y", "30", &cmd]);
    assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
    let result = std::panic::catch_unwind(|| {
        wait_for(&sock, "FULL-SCREEN-UI");
        let s = wait_for(&sock, "EXIT=101");
        assert!(s.contains("deliberate panic for the test"), "panic message not readable:\n{s}");
        assert!(!s.contains("FULL-SCREEN-UI"), "still on the alternate screen:\n{s}");
        tmux(&sock, &["send-keys", "-t", "panic", "-l", "typed-after-panic"]);
        wait_for(&sock, "typed-after-panic");
    });
    let _ = tmux(&sock, &["kill-session", "-t", "panic"]);
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("spawnscope-tui-panic-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
