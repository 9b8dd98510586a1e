#!/bin/bash
# Job control, under a pty made by /usr/bin/python3's pty module (tend is the session
# leader and the foreground group, as under a shell).
#
# With --dev (tend keeps the terminal), Ctrl-Z stops the child's group and then tend
# itself (its parent sees it stopped, as a shell would, and gets the terminal back);
# SIGCONT (fg) continues both. A pause much longer than the probes' hang bound is no
# hang: the probe under way is asked again and the child is not restarted. A kill -TSTP
# (not the terminal's) is passed on as before: tend does not stop. Without --dev (the
# child has the terminal, so Ctrl-Z stops it), tend sees its child stopped and stops
# too; on fg it gives the terminal back to the child: a ^C then reaches the child.
. "$(dirname "$0")/lib.sh"

need_pty
need_uvicorn
free_port || { not_ok "no free port"; finish; }
app_cmd slow_start

timeout -k 5 90 "$PY" - "$TEND" "$T" "$PORT" "${APP[@]}" >"$T/res" 2>&1 <<'PYEOF'
import os, pty, re, select, signal, sys, time

tend, d, port = sys.argv[1:4]
app = sys.argv[4:]
counter = os.path.join(d, "n")
res = {}
out = b""

def spawn(argv, env=None):
    pid, fd = pty.fork()
    if pid == 0:
        try:
            if env:
                os.environ.update(env)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    return pid, fd

def pump(fd, secs):
    global out
    end = time.monotonic() + secs
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.02)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return
            out += data

def text():
    return re.sub(rb"\x1b\[[0-9;]*[A-Za-z]", b"", out).replace(b"\r", b"").decode(
        errors="replace")

def state(p):
    try:
        with open("/proc/%d/stat" % p) as f:
            s = f.read()
    except OSError:
        return "gone"
    return s[s.rindex(")") + 2:].split()[0]

def until(fd, secs, cond):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return True
        pump(fd, 0.05)
    return cond()

def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""

def stopped_by_wait(pid):
    w, st = os.waitpid(pid, os.WUNTRACED | os.WNOHANG)
    return w == pid and os.WIFSTOPPED(st)

def end(pid, fd):
    os.write(fd, b"\x03")
    if until(fd, 20, lambda: os.waitpid(pid, os.WNOHANG)[0] == pid):
        return "ended"
    os.kill(pid, signal.SIGKILL)
    return "killed"

# --- a shell loop: ^Z, then CONT ------------------------------------------------------
loop = "echo $$ >%s/pid; i=0; while :; do i=$((i+1)); echo $i >%s; sleep 0.05; done" % (
    d, counter)
pid, fd = spawn([tend, "--dev", "--restart-policy", "never", "--", "sh", "-c", loop])
ok = until(fd, 10, lambda: read(counter) != "")
child = int(read(d + "/pid") or 0)
os.write(fd, b"\x1a")
stopped = until(fd, 10, lambda: state(pid) == "T" and state(child) == "T")
res["ctrl-z: tend and the child stopped"] = ok and stopped
res["ctrl-z: its parent (a shell) sees tend stopped"] = until(
    fd, 5, lambda: stopped_by_wait(pid))
n1 = read(counter)
pump(fd, 0.6)
res["ctrl-z: the child does nothing while stopped"] = read(counter) == n1
res["ctrl-z: tend says so"] = "suspended (Ctrl-Z)" in text()
os.kill(pid, signal.SIGCONT)
res["fg: both run again"] = until(
    fd, 10, lambda: state(pid) != "T" and state(child) != "T" and read(counter) != n1)
res["fg: ^C still ends them"] = end(pid, fd) == "ended"

# --- without --dev: the child has the terminal ------------------------------------------
for f in (counter, d + "/pid"):
    os.unlink(f)
pid, fd = spawn([tend, "--restart-policy", "never", "--", "sh", "-c", loop])
until(fd, 10, lambda: read(counter) != "")
child = int(read(d + "/pid") or 0)
os.write(fd, b"\x1a")
res["no --dev, ctrl-z: the child stopped, and tend with it"] = until(
    fd, 10, lambda: state(child) == "T" and state(pid) == "T")
res["no --dev, ctrl-z: its parent sees tend stopped"] = until(
    fd, 5, lambda: stopped_by_wait(pid))
n1 = read(counter)
os.kill(pid, signal.SIGCONT)
res["no --dev, fg: both run again"] = until(
    fd, 10, lambda: state(pid) != "T" and state(child) != "T" and read(counter) != n1)
os.write(fd, b"\x03")
res["no --dev, fg: the child has the terminal again (^C ends it: exit 130)"] = until(
    fd, 10, lambda: os.waitpid(pid, os.WNOHANG) in ((pid, 130 << 8),))

# --- kill -TSTP is passed on, tend does not stop ---------------------------------------
for f in (counter, d + "/pid"):
    os.unlink(f)
pid, fd = spawn([tend, "--dev", "--restart-policy", "never", "--", "sh", "-c", loop])
until(fd, 10, lambda: read(counter) != "")
child = int(read(d + "/pid") or 0)
os.kill(pid, signal.SIGTSTP)
until(fd, 5, lambda: state(child) == "T")
pump(fd, 0.3)
res["kill -TSTP: passed to the child, tend runs on"] = state(child) == "T" and \
    state(pid) in ("S", "R")
if child:
    os.kill(child, signal.SIGCONT)
end(pid, fd)

# --- uvicorn with probes: a pause past the hang bound is no hang -----------------------
out = b""
pid, fd = spawn([tend, "--dev", "--restart-policy", "always",
                 "--health-url", "http://127.0.0.1:%s/health" % port,
                 "--health-interval", "300ms", "--health-timeout", "1s",
                 "--health-failure-threshold", "2", "--startup-timeout", "20s",
                 "--"] + app, {"STARTUP_DELAY": "0"})
res["probes: running"] = until(fd, 30, lambda: re.search(r"running from=starting",
                                                         text()) is not None)
os.write(fd, b"\x1a")
res["probes: stopped by ^Z"] = until(fd, 10, lambda: state(pid) == "T")
time.sleep(4)    # over twice the hang bound (2 x 300ms + 1s)
os.kill(pid, signal.SIGCONT)
pump(fd, 3)
t = text()
res["probes: after the pause, no unhealthy, no stop, no restart"] = (
    "unhealthy" not in t and "stopping" not in t and "attempt=2" not in t)
res["probes: ^C ends it"] = end(pid, fd) == "ended"

res["no sanitizer report"] = re.search(r"Sanitizer|runtime error:", text()) is None

for k, v in res.items():
    print("%s: %s" % (k, "yes" if v else "no"))
print("output:")
print(text())
PYEOF

while IFS= read -r line; do
	case $line in
	output:) break ;;
	*": yes") ok "${line%: yes}" ;;
	*": no") not_ok "${line%: no}"; nfail_show=1 ;;
	esac
done <"$T/res"
[ "${nfail_show:-}" ] && sed 's/^/#   /' "$T/res" | tail -40
[ "$ntest" -gt 0 ] || { not_ok "the pty script did not run"; sed 's/^/#   /' "$T/res"; }
finish
