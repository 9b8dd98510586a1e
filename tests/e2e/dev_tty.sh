#!/bin/bash
# --dev and the terminal, under a pty made by /usr/bin/python3's pty module.
#
# With --dev, tend keeps the terminal's foreground process group and the child runs in
# a background group: ^C reaches tend, which logs "stopping ... cause=shutdown:INT" and
# passes INT on; a child that ignores it keeps running, and a second ^C SIGKILLs the
# group at once (long before --stop-timeout 30s): tend exits 137. Without --dev the
# child's group has the terminal: ^C goes to the child alone and tend sees nothing.
# A child with INT at its default disposition ends on one ^C with --dev: exit 130.
. "$(dirname "$0")/lib.sh"

need_pty

# pty_run SCENARIO MODE: run tend under a fresh pty and play SCENARIO (dev_ignore,
# nodev_ignore, dev_default); prints "key: value" lines (see the end of the script) and
# the pty's output (escape sequences and CRs removed) after "output:". Bounded by its
# own deadlines (about 60 s at most) and by timeout(1).
pty_run() {
	timeout -k 5 90 "$PY" - "$1" "$2" "$TEND" "$SIGREC" "$T/$1-$2" <<'PYEOF'
import os, pty, re, select, signal, sys, time

scenario, mode, tend, sigrec, d = sys.argv[1:6]
os.makedirs(d, exist_ok=True)
marker = "DEVTTY_CHILD=" + d
pidfile = os.path.join(d, "pid")

argv = [sigrec, "exec", "--"]
if mode == "pid1":
    argv += ["unshare", "--pid", "--fork", "--mount-proc"]
argv += [tend]
if scenario.startswith("dev_"):
    argv += ["--dev", "--stop-timeout", "30s"]
else:
    argv += ["--stop-timeout", "1s"]
argv += ["--restart-policy", "never", "--", "env", marker, sigrec, "record",
         "-o", os.path.join(d, "rec"), "-p", pidfile, "-t", "60"]
argv += ["-d", "INT"] if scenario == "dev_default" else ["-i", "INT"]

res = {}
out = b""
pid, fd = pty.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)

status = None

def pump(secs):
    """Read the pty for secs seconds (or until tend, the session leader, is gone)."""
    global out, status
    end = time.monotonic() + secs
    while True:
        r, _, _ = select.select([fd], [], [], 0.02)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            out += data
            if not data and status is not None:
                return  # the pty is hung up: nothing more to come
        if status is None:
            w, st = os.waitpid(pid, os.WNOHANG)
            if w == pid:
                status = st
        if time.monotonic() >= end:
            return

def text():
    t = re.sub(rb"\x1b\[[0-9;]*[A-Za-z]", b"", out).replace(b"\r", b"")
    return t.decode(errors="replace")

def until(secs, cond):
    """Pump until cond() holds (True) or secs pass (False)."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return True
        pump(0.05)
    return cond()

def stopping_line(sig):
    return re.search(r"stopping.*cause=shutdown:%s\b" % sig, text()) is not None

def find_pid(pred):
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            if pred(int(p)):
                return int(p)
        except OSError:
            pass
    return None

def has_marker(p):
    with open("/proc/%d/environ" % p, "rb") as f:
        return marker.encode() in f.read().split(b"\0")

def ppid_comm(p):
    with open("/proc/%d/stat" % p) as f:
        s = f.read()
    comm = s[s.index("(") + 1:s.rindex(")")]
    return int(s[s.rindex(")") + 2:].split()[1]), comm

def alive(p):
    """Exists and is neither a zombie nor dead."""
    try:
        with open("/proc/%d/stat" % p) as f:
            s = f.read()
    except OSError:
        return False
    return s[s.rindex(")") + 2:].split()[0] not in ("Z", "X")

def yn(b):
    return "yes" if b else "no"

def describe(st):
    if os.WIFEXITED(st):
        return str(os.WEXITSTATUS(st))
    return "signal %d" % os.WTERMSIG(st)

def ctrl_c():
    try:
        os.write(fd, b"\x03")
    except OSError as e:
        res["ctrl_c"] = repr(e)  # the pty is gone: the checks that follow fail

def finish_at(t0, secs):
    """Wait for tend to exit; record exit and secs (since t0)."""
    if until(secs, lambda: status is not None):
        res["secs"] = "%.1f" % (time.monotonic() - t0)
        res["exit"] = describe(status)
        pump(0.3)  # the last lines, still in the pty
    else:
        res["exit"] = "timeout"

def play():
    res["ready"] = yn(until(20, lambda: os.path.exists(pidfile) and
                            os.path.getsize(pidfile) > 0))
    if res["ready"] == "no":
        return
    child = find_pid(has_marker)
    if mode == "pid1":
        tendpid = find_pid(lambda p: ppid_comm(p) == (pid, "tend"))
    else:
        tendpid = pid
    if child is None or tendpid is None:
        res["ready"] = "no (child %s, tend %s)" % (child, tendpid)
        return
    pump(0.2)
    res["lead"] = str(os.getpgid(pid))
    res["fg"] = str(os.tcgetpgrp(fd))
    res["child"] = str(child)
    res["child_pgid"] = str(os.getpgid(child))

    ctrl_c()
    t0 = time.monotonic()
    if scenario == "dev_default":
        finish_at(t0, 20)
        res["stop1"] = yn(stopping_line("INT"))
    elif scenario == "dev_ignore":
        res["stop1"] = yn(until(10, lambda: stopping_line("INT")))
        pump(2)
        res["tend_alive"] = yn(status is None and alive(tendpid))
        res["child_alive"] = yn(alive(child))
        ctrl_c()
        finish_at(time.monotonic(), 25)
    else:
        pump(2)
        res["stop1"] = yn(re.search(r"stopping", text()) is not None)
        res["tend_alive"] = yn(status is None and alive(tendpid))
        res["child_alive"] = yn(alive(child))
        try:
            os.kill(tendpid, signal.SIGTERM)
        except ProcessLookupError:
            pass  # tend is gone already: finish_at says how
        t1 = time.monotonic()
        finish_at(t1, 20)
        res["stop_term"] = yn(stopping_line("TERM"))
    # The child is gone once tend is (give a zombie's reaper a moment).
    res["child_gone"] = yn(until(5, lambda: not alive(child)))

try:
    play()
except Exception as e:
    res["error"] = repr(e)
if status is None:
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    res.setdefault("exit", "timeout")
res.setdefault("exit", describe(status))
pump(0.3)  # what is left in the pty
for k, v in res.items():
    print("%s: %s" % (k, v))
print("output:")
t = text()
sys.stdout.write(t if t.endswith("\n") else t + "\n")
PYEOF
}

# get KEY: the value of KEY in the last run's report.
get() {
	sed -n "s/^$1: //p" "$T/pty" | head -n 1
}

# run SCENARIO MODE: one pty run; RC is tend's exit; false (after a failed test) if the
# child never started.
run() {
	pty_run "$1" "$2" >"$T/pty" 2>&1
	RC=$(get exit)
	: >"$T/out"
	sed -n '/^output:$/,$p' "$T/pty" >"$T/err"
	sanitizer_check
	if [ "$(get ready)" != yes ]; then
		not_ok "$2 $1: the child did not start under the pty ($(get ready))"
		cp "$T/pty" "$T/err"
		show_tend
		return 1
	fi
	if [ -n "$(get error)" ]; then
		not_ok "$2 $1: the pty driver failed: $(get error)"
		show_tend
	fi
	return 0
}

# is KEY VALUE: the last run reported KEY: VALUE (VALUE not empty).
is() {
	[ -n "$2" ] && [ "$(get "$1")" = "$2" ]
}

# took_lt LIMIT: tend exited, less than LIMIT (whole) seconds after the last action.
took_lt() {
	local secs
	secs=$(get secs)
	[ -n "$secs" ] && [ "${secs%.*}" -lt "$1" ]
}

# The terminal's foreground group is tend's (--dev).
tend_has_tty() {
	is fg "$(get lead)"
}

# The child leads its own group, and that group is not the terminal's.
child_in_background() {
	is child_pgid "$(get child)" && ! is fg "$(get child)"
}

# The terminal's foreground group is the child's, not tend's (no --dev).
child_has_tty() {
	is fg "$(get child)" && ! is fg "$(get lead)"
}

for mode in $MODES; do
	# --dev, a child that ignores INT: the first ^C stops (INT passed on, ignored), the
	# second kills the group.
	if run dev_ignore "$mode"; then
		m="$mode --dev"
		check "$m: tend keeps the terminal (fg $(get fg), tend $(get lead))" \
		    tend_has_tty
		check "$m: the child runs in a background group ($(get child_pgid))" \
		    child_in_background
		check "$m: the first ^C logs stopping ... cause=shutdown:INT" is stop1 yes
		check "$m: 2 s after the first ^C tend still runs" is tend_alive yes
		check "$m: 2 s after the first ^C the child (INT ignored) still runs" \
		    is child_alive yes
		check_rc "$m: the second ^C kills the group" 137
		check "$m: tend exits at once on the 2nd ^C ($(get secs) s)" took_lt 10
		check "$m: the child is gone" is child_gone yes
	fi

	# No --dev, the same child: ^C goes to the child's group only.
	if run nodev_ignore "$mode"; then
		m="$mode no --dev"
		check "$m: the child's group has the terminal (fg $(get fg))" \
		    child_has_tty
		check "$m: tend does not see the ^C (no stopping line)" is stop1 no
		check "$m: 2 s after the ^C tend still runs" is tend_alive yes
		check "$m: 2 s after the ^C the child (INT ignored) runs" is child_alive yes
		check "$m: TERM logs stopping ... cause=shutdown:TERM" is stop_term yes
		check_rc "$m: TERM, then SIGKILL after --stop-timeout 1s" 137
		check "$m: tend exits within 10 s of TERM ($(get secs) s)" took_lt 10
		check "$m: the child is gone" is child_gone yes
	fi

	# --dev, INT at its default disposition: one ^C ends the child.
	if run dev_default "$mode"; then
		m="$mode --dev"
		check "$m: tend keeps the terminal (fg $(get fg), tend $(get lead))" \
		    tend_has_tty
		check "$m: ^C logs stopping ... cause=shutdown:INT" is stop1 yes
		check_rc "$m: one ^C ends a child that does not ignore INT" 130
		check "$m: tend exits within 10 s ($(get secs) s)" took_lt 10
		check "$m: the child is gone" is child_gone yes
	fi
done

finish
