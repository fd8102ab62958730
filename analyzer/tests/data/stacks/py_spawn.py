import os, subprocess, sys
def run():
    m = sys.argv[1] if len(sys.argv) > 1 else "subprocess"
    if m == "subprocess":
        subprocess.run(["true"])
    elif m == "fork":
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    elif m == "posix_spawn":
        pid = os.posix_spawn("/bin/true", ["true"], os.environ)
        os.waitpid(pid, 0)
    elif m == "system":
        os.system("true")
run()
