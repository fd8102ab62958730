# gdb python: on each clone/clone3/fork/vfork *entry* catch, dump the stack as
# JSON lines (one object per catch) to $H8_OUT. Usage:
#   H8_OUT=out.jsonl H8_MAX=4 gdb -batch -x frames.py --args PROG ARGS
import gdb, json, os, re
out = open(os.environ["H8_OUT"], "w")
maxn = int(os.environ.get("H8_MAX", "4"))
gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set print frame-arguments none")
gdb.execute("handle SIGSEGV SIGBUS SIGILL SIGUSR1 SIGUSR2 SIGPIPE SIGCHLD nostop noprint pass")
gdb.execute("set follow-fork-mode parent")
gdb.execute("set detach-on-fork on")
gdb.execute("catch syscall clone clone3 fork vfork")

def mappings():
    m = []
    txt = gdb.execute("info proc mappings", to_string=True)
    for line in txt.splitlines():
        p = line.split()
        if len(p) >= 5 and p[0].startswith("0x"):
            try:
                start, end, size, off = (int(x, 16) for x in p[:4])
            except ValueError:
                continue
            path = " ".join(p[5:]) if len(p) >= 6 else ""
            if not path:
                path = "[jit]" if "x" in p[4] else "[anon]"
            m.append((start, end, off if not path.startswith("[") else 0, path))
    return m

def dump(n, call):
    maps = mappings()
    frames = []
    f = gdb.newest_frame()
    i = 0
    while f is not None and i < 64:
        pc = f.pc()
        mod, off = "[unknown]", pc
        for (s, e, o, p) in maps:
            if s <= pc < e:
                mod, off = p, (pc - s + o if not p.startswith("[") else pc)
                break
        sal = f.find_sal()
        fr = {
            "function": f.name(),
            "module": mod,
            "offset": off,
            "file": sal.symtab.filename if sal.symtab else None,
            "line": sal.line if sal.symtab and sal.line else None,
            "inlined": f.type() == gdb.INLINE_FRAME,
        }
        frames.append(fr)
        try:
            f = f.older()
        except gdb.error:
            break
        i += 1
    regs = {}
    for r in ("rdi", "rsi", "orig_rax"):
        regs[r] = int(gdb.parse_and_eval("$" + r)) & 0xFFFFFFFFFFFFFFFF
    flags = None
    if call == "clone3":
        try:
            flags = int(gdb.parse_and_eval("*(unsigned long*)$rdi")) & 0xFFFFFFFFFFFFFFFF
        except gdb.error:
            pass
    elif call == "clone":
        flags = regs["rdi"]
    thread = flags is not None and bool(flags & 0x10000)
    bt = gdb.execute("bt", to_string=True)
    out.write(json.dumps({"catch": n, "syscall": call, "flags": flags, "thread": thread,
                          "frames": frames, "gdb_bt": bt}) + "\n")
    out.flush()

stops = []
def on_stop(ev):
    stops.append(ev)
gdb.events.stop.connect(on_stop)
NAMES = {56: "clone", 435: "clone3", 57: "fork", 58: "vfork"}
n = 0
try:
    gdb.execute("run", to_string=True)
    while n < maxn:
        try:
            rax = int(gdb.parse_and_eval("$rax")) & 0xFFFFFFFFFFFFFFFF
            nr = int(gdb.parse_and_eval("$orig_rax"))
        except gdb.error:
            break
        if rax == (-38 & 0xFFFFFFFFFFFFFFFF) and nr in NAMES:
            dump(n, NAMES[nr])
            n += 1
        gdb.execute("continue", to_string=True)
except gdb.error as e:
    out.write(json.dumps({"error": str(e)}) + "\n")
out.close()
try:
    gdb.execute("kill")
except gdb.error:
    pass
