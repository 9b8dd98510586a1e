#!/bin/bash
# Job control, with a real interactive bash in a pty (made by /usr/bin/python3's pty
# module) running tend as a foreground job, as a user would.
#
# With --dev (tend keeps the terminal), Ctrl-Z stops the child's group and then tend:
# bash says "Stopped" and gives its prompt back; fg continues both. A pause much longer
# than the probes' hang bound is no hang: the probe under way is asked again and the
# child is not restarted. Without --dev the child has the terminal, so Ctrl-Z stops it:
# tend sees that and stops too; on fg it gives the terminal back to the child (a ^C then
# reaches the child: 130). The same after bg then fg, and when tend is started by a
# wrapper (bash -c), which must stop too, or the shell never prompts. A kill -TSTP (not
# the terminal's) is passed on as before: tend does not stop.
. "$(dirname "$0")/lib.sh"

need_pty
need_uvicorn
[ -x /bin/bash ] || { skip "no /bin/bash"; finish; }
free_port || { not_ok "no free port"; finish; }
app_cmd slow_start

timeout -k 5 150 "$PY" - "$TEND" "$T" "$PORT" "${APP[@]}" >"$T/res" 2>&1 <<'PYEOF'
import os, pty, re, select, shlex, signal, sys, time

tend, d, port = sys.argv[1:4]
app = sys.argv[4:]
counter = os.path.join(d, "n")
res = {}
out = b""

env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": d, "TERM": "dumb",
       "PS1": "PROMPT$ ", "STARTUP_DELAY": "0", "E2E_TAG": os.environ.get("E2E_TAG", "")}
bash, fd = pty.fork()
if bash == 0:
    try:
        os.execve("/bin/bash", ["bash", "--norc", "--noprofile", "-i"], env)
    finally:
        os._exit(127)

def pump(secs):
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
    return re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", out).replace(b"\r", b"").decode(
        errors="replace")

def until(secs, cond):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return True
        pump(0.05)
    return cond()

def state(p):
    try:
        with open("/proc/%d/stat" % p) as f:
            s = f.read()
    except OSError:
        return "gone"
    return s[s.rindex(")") + 2:].split()[0]

def tpgid(p):
    """The foreground process group of p's terminal."""
    try:
        with open("/proc/%d/stat" % p) as f:
            s = f.read()
    except OSError:
        return -1
    return int(s[s.rindex(")") + 2:].split()[5])

def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""

def tend_pid(wrapped=False):
    """The tend that bash runs (through the bash -c it runs, when wrapped)."""
    parents = [bash]
    if wrapped:
        parents = [int(p) for p in os.listdir("/proc") if p.isdigit() and
                   (state(int(p)) != "gone") and ppid(int(p)) == bash]
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                s = f.read()
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        fields = s[s.rindex(")") + 2:].split()
        if comm == "tend" and fields[0] != "Z" and int(fields[1]) in parents:
            return int(p)
    return 0

def ppid(p):
    try:
        with open("/proc/%d/stat" % p) as f:
            s = f.read()
    except OSError:
        return 0
    return int(s[s.rindex(")") + 2:].split()[1])

def type_(s):
    os.write(fd, s.encode())

def prompts():
    return text().count("PROMPT$ ")

def run(args, wrapped=False):
    """Start tend as bash's foreground job; its pid (0: it did not show up)."""
    for f in (counter, d + "/pid"):
        if os.path.exists(f):
            os.unlink(f)
    # The last run's tend must be gone first, or the lookup below could find it.
    until(10, lambda: tend_pid() == 0 and tend_pid(True) == 0)
    line = " ".join(shlex.quote(a) for a in [tend] + args)
    if wrapped:
        line = "bash -c %s" % shlex.quote(line + "; exit $?")
    type_(line + "\n")
    until(10, lambda: tend_pid(wrapped) != 0)
    return tend_pid(wrapped)

def end_job(label):
    """^C the job; bash then says its status."""
    n = prompts()
    type_("\x03")
    until(20, lambda: prompts() > n)
    n = prompts()
    type_("echo rc=$?\n")
    until(10, lambda: re.search(r"rc=\d+", text()[-200:]) is not None)
    m = re.findall(r"rc=(\d+)", text())
    return m[-1] if m else "none"

until(10, lambda: prompts() >= 1)
loop = "echo $$ >%s/pid; i=0; while :; do i=$((i+1)); echo $i >%s; sleep 0.05; done" % (
    d, counter)

for tag, dev, bg, wrapped in (("--dev", True, False, False),
                               ("no --dev", False, False, False),
                               ("no --dev, bg then fg", False, True, False),
                               ("no --dev, under bash -c", False, False, True)):
    pid = run((["--dev"] if dev else []) + ["--restart-policy", "never", "--",
                                            "sh", "-c", loop], wrapped)
    until(10, lambda: read(counter) != "")
    child = int(read(d + "/pid") or 0)
    n = prompts()
    mark = len(text())
    type_("\x1a")
    res[tag + ", ctrl-z: tend and the child stopped"] = pid != 0 and child != 0 and until(
        10, lambda: state(pid) == "T" and state(child) == "T")
    res[tag + ", ctrl-z: bash says Stopped and prompts"] = until(
        10, lambda: prompts() > n and "Stopped" in text()[mark:])
    if not res[tag + ", ctrl-z: bash says Stopped and prompts"]:
        for p in (child, pid):    # a wedged terminal: free it for the checks to come
            if p:
                os.kill(p, signal.SIGKILL)
        until(10, lambda: prompts() > n)
    n1 = read(counter)
    pump(0.6)
    res[tag + ", ctrl-z: the child does nothing while stopped"] = read(counter) == n1
    if bg:
        n = prompts()
        type_("bg\n")
        res[tag + ": both run in the background"] = until(
            10, lambda: prompts() > n and state(pid) not in ("T", "gone") and
            state(child) not in ("T", "gone"))
        n1 = read(counter)
    type_("fg\n")
    res[tag + ", fg: both run again"] = until(
        10, lambda: state(pid) not in ("T", "gone") and state(child) not in ("T", "gone")
        and read(counter) != n1)
    if not dev and not bg:    # after bg, fg sends no SIGCONT: the child's read tells
        res[tag + ", fg: the child has the terminal again"] = until(
            10, lambda: tpgid(child) == child)
    rc = end_job(tag)
    res[tag + ", fg: ^C ends it (rc=%s, expected 130)" % rc] = rc == "130"

# kill -TSTP (SI_USER): passed on, tend runs on.
pid = run(["--dev", "--restart-policy", "never", "--", "sh", "-c", loop])
until(10, lambda: read(counter) != "")
child = int(read(d + "/pid") or 0)
if pid:
    os.kill(pid, signal.SIGTSTP)
until(5, lambda: state(child) == "T")
pump(0.3)
res["kill -TSTP: passed to the child, tend runs on"] = state(child) == "T" and \
    state(pid) in ("S", "R")
if child:
    os.kill(child, signal.SIGCONT)
end_job("kill")

# uvicorn with probes: a pause past the hang bound is no hang.
start = len(text())
pid = run(["--dev", "--restart-policy", "always",
           "--health-url", "http://127.0.0.1:%s/health" % port,
           "--health-interval", "300ms", "--health-timeout", "2s",
           "--health-failure-threshold", "2", "--startup-timeout", "20s", "--"] + app)
res["probes: running"] = until(30, lambda: "running from=starting" in text()[start:])
n = prompts()
type_("\x1a")
res["probes: stopped by ^Z"] = until(10, lambda: state(pid) == "T" and prompts() > n)
time.sleep(5)    # about twice the hang bound (2 x 300ms + 2s)
type_("fg\n")
pump(3)
t = text()[start:]
res["probes: after the pause, no unhealthy, no stop, no restart"] = (
    "unhealthy" not in t and "stopping" not in t and "attempt=2" not in t)
res["probes: ^C ends it (uvicorn exits 0 on INT)"] = end_job("probes") == "0"

res["no sanitizer report"] = re.search(r"Sanitizer|runtime error:", text()) is None
type_("exit\n")
pump(0.5)
for k, v in res.items():
    print("%s: %s" % (k, "yes" if v else "no"))
print("output:")
print(text())
PYEOF

while IFS= read -r line; do
	case $line in
	output:) break ;;
	*": yes") ok "${line%: yes}" ;;
	*": no") not_ok "${line%: no}"; show=1 ;;
	esac
done <"$T/res"
[ "${show:-}" ] && sed 's/^/#   /' "$T/res" | tail -60
[ "$ntest" -gt 0 ] || { not_ok "the pty script did not run"; sed 's/^/#   /' "$T/res"; }
finish
