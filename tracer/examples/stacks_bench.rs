//! Records a command to a trace file with call stacks on or off, for
//! bench/stacks.sh: `stacks_bench on|off OUT.jsonl CMD...`. With `on`, the
//! tracer's stack figures go to stderr (SPAWNSCOPE_STACK_STATS=1).

use spawnscope_tracer::{record, FileSink, RecordOptions, TargetIo};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 || !matches!(args[0].as_str(), "on" | "off") {
        eprintln!("usage: stacks_bench on|off OUT.jsonl CMD...");
        std::process::exit(2);
    }
    let mut opts = RecordOptions::new(args[2..].iter().cloned());
    opts.stacks = args[0] == "on";
    opts.stdout = TargetIo::Null;
    let mut sink = match FileSink::create(&args[1]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("stacks_bench: {e}");
            std::process::exit(2);
        }
    };
    let code = match record(&opts, &mut sink) {
        Ok(o) => o.exit_code.unwrap_or(1),
        Err(e) => {
            eprintln!("stacks_bench: {e}");
            2
        }
    };
    if let Err(e) = sink.close() {
        eprintln!("stacks_bench: {e}");
    }
    std::process::exit(code);
}
