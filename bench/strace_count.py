"""Counts process spawns (not threads) and exec attempts in an `strace -f` log.

strace splits calls that block into "<unfinished ...>" and "<... resumed>"
halves; they are paired by pid to know whether a clone made a thread.
Usage: python3 bench/strace_count.py LOG  ->  prints "SPAWNS EXECS".
"""
import re
import sys

call = re.compile(r"^(\d+)\s+(clone3?|v?fork)\((.*)")
resumed = re.compile(r"^(\d+)\s+<\.\.\. (clone3?|v?fork) resumed>(.*)")
execve = re.compile(r"^\d+\s+execve(at)?\(")
pending, spawns, execs = {}, 0, 0
for line in open(sys.argv[1], errors="replace"):
    if execve.match(line):
        execs += 1
        continue
    m = call.match(line)
    if m:
        pid, rest = m.group(1), m.group(3)
        thread = "CLONE_THREAD" in rest
        if "<unfinished ...>" in rest:
            pending[pid] = thread
            continue
    else:
        m = resumed.match(line)
        if not m:
            continue
        pid, rest = m.group(1), m.group(3)
        thread = pending.pop(pid, False)
    if not thread and re.search(r"= \d+\s*$", rest.strip()):
        spawns += 1
print(spawns, execs)
