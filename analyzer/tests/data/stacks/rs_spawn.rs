use std::os::unix::process::CommandExt;
use std::process::Command;

fn run_status() {
    Command::new("true").status().unwrap();
}
fn run_output() {
    Command::new("true").output().unwrap();
}
fn run_spawn() {
    Command::new("true").spawn().unwrap().wait().unwrap();
}
fn run_pre_exec() {
    let mut c = Command::new("true");
    unsafe { c.pre_exec(|| Ok(())) };
    c.status().unwrap();
}
fn main() {
    match std::env::args().nth(1).as_deref().unwrap_or("status") {
        "status" => run_status(),
        "output" => run_output(),
        "spawn" => run_spawn(),
        "pre_exec" => run_pre_exec(),
        "thread" => std::thread::spawn(run_status).join().unwrap(),
        _ => {}
    }
}
