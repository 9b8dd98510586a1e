#!/bin/bash
# The terminal: when stdin is a terminal, the child's process group gets it, so ^C on
# the terminal reaches the child (and not tend): tend exits 130. Run under a pty made by
# /usr/bin/python3's pty module.
. "$(dirname "$0")/lib.sh"

need_pty

# pty_run MODE: prints "child: pid=.. pgid=.. sid=.. tpgid=.. ppid=.. ppgid=..",
# "exit: N" and the pty's whole output as "output: ...".
pty_run() {
	"$PY" - "$1" "$TEND" "$SIGREC" <<'PYEOF'
import os, pty, re, select, signal, sys, time

mode, tend, sigrec = sys.argv[1:4]
argv = [sigrec, "exec", "--"]
if mode == "pid1":
    argv += ["unshare", "--pid", "--fork", "--mount-proc"]
argv += [tend, "--restart-policy", "never", "--", sigrec, "tty", "-t", "60"]

pid, fd = pty.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)

out = b""
child = None
status = None
sent = False
deadline = time.monotonic() + 30
pat = re.compile(rb"pid=\d+ pgid=\d+ sid=\d+ tpgid=-?\d+ ppid=\d+ ppgid=-?\d+")
while time.monotonic() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        out += data
    if child is None:
        m = pat.search(out)
        if m:
            child = m.group(0).decode()
            os.write(fd, b"\x03")
            sent = True
    wpid, st = os.waitpid(pid, os.WNOHANG)
    if wpid == pid:
        status = st
        break
if status is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    print("exit: timeout")
elif os.WIFEXITED(status):
    print("exit: %d" % os.WEXITSTATUS(status))
else:
    print("exit: signal %d" % os.WTERMSIG(status))
print("child: %s" % child)
print("sent: %s" % sent)
print("output: %r" % out)
PYEOF
}

# child_field NAME: from the child line of the last run.
child_field() {
	sed -n "s/^child: .*\b$1=\(-\?[0-9]*\).*/\1/p" "$T/pty"
}

for mode in $MODES; do
	pty_run "$mode" >"$T/pty" 2>&1
	RC=$(sed -n 's/^exit: //p' "$T/pty")
	cp "$T/pty" "$T/err"
	sanitizer_check
	: >"$T/out"
	if ! grep -q '^child: pid=' "$T/pty"; then
		not_ok "$mode: the child under a pty did not report its process group"
		show_tend
		continue
	fi
	pgid=$(child_field pgid)
	tpgid=$(child_field tpgid)
	ppgid=$(child_field ppgid)
	pid=$(child_field pid)
	check "$mode: the child leads its own process group (pid $pid, pgid $pgid)" \
	    test "$pid" = "$pgid"
	check "$mode: the child's group owns the terminal (tpgid $tpgid = pgid $pgid)" \
	    test "$tpgid" = "$pgid"
	check "$mode: tend is in another process group ($ppgid != $pgid)" \
	    test "$ppgid" != "$pgid"
	check_rc "$mode: ^C on the terminal ends the child by INT" 130
done

finish
