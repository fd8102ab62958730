//! Records a command and prints the trace to stdout (debugging aid).
//! `cargo run -p spawnscope-tracer --example trace -- [--mode M] [--no-info] CMD...`

use spawnscope_tracer::{record, ModeRequest, Observer, ObserverError, Record, RecordOptions};

struct Print;

impl Observer for Print {
    fn record(&mut self, r: Record) -> Result<(), ObserverError> {
        println!("{}", serde_json::to_string(&r)?);
        Ok(())
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut mode = ModeRequest::Auto;
    let mut info = true;
    loop {
        match args.first().map(String::as_str) {
            Some("--mode") => {
                mode = match args[1].as_str() {
                    "seccomp" => ModeRequest::Seccomp,
                    "syscall" => ModeRequest::Syscall,
                    "events" => ModeRequest::Events,
                    _ => ModeRequest::Auto,
                };
                args.drain(..2);
            }
            Some("--no-info") => {
                info = false;
                args.remove(0);
            }
            _ => break,
        }
    }
    let mut opts = RecordOptions::new(args).mode(mode);
    opts.syscall_info = info;
    match record(&opts, &mut Print) {
        Ok(o) => eprintln!("{o:?}"),
        Err(e) => eprintln!("error: {e}"),
    }
}
