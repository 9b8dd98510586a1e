#!/bin/bash
# [log] format and level: tend's own lines as json (one valid JSON object a line, even
# for messages with quotes, backslashes and control bytes), as logfmt (time= level=
# msg= then the keys), and --log-level warn drops the info lines but keeps errors.
# Nothing of it goes to stdout. (No test checked these before: a broken formatter
# passed make check.)
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

for mode in $MODES; do
	# json: a clean run with a failure, and a command whose name needs escaping.
	run_tend "$mode" --log-format json --restart-policy never -- sh -c 'exit 3'
	check_rc "$mode: json: the child's exit code" 3
	check "$mode: json: stdout is empty" test ! -s "$T/out"
	check "$mode: json: every stderr line is a JSON object with time, level, msg" \
	    "$PY" -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert isinstance(o, dict) and {"time", "level", "msg"} <= set(o), line
    n += 1
assert n >= 2, n
' "$T/err"
	check "$mode: json: the exited line carries cause exit:3 and code 3" \
	    "$PY" -c '
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
assert any(o["msg"] == "exited" and o.get("cause") == "exit:3" and o.get("code") == "3"
           for o in ls), ls
' "$T/err"

	bad="$T/no\"such\\dir	tab/x"
	run_tend "$mode" --log-format json -- "$bad"
	check_rc "$mode: json: a missing command" 127
	check "$mode: json: the 'cannot run' line with quote, backslash, tab parses and names it" \
	    "$PY" -c '
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
assert any(o["level"] == "error" and sys.argv[2] in o["msg"] for o in ls), ls
' "$T/err" "$bad"

	# logfmt
	run_tend "$mode" --log-format logfmt --restart-policy never -- sh -c 'exit 3'
	check_rc "$mode: logfmt: the child's exit code" 3
	check "$mode: logfmt: every line starts with time= level= msg=" \
	    bash -c '! grep -vqE "^time=[0-9T:.Z-]+ level=[a-z]+ msg=\"" "$1"' _ "$T/err"
	check "$mode: logfmt: the exited line has cause=exit:3 code=3" \
	    grep -qE '^time=.* level=info msg="exited" .*cause=exit:3.* code=3$' "$T/err"

	# level
	run_tend "$mode" --log-level warn --restart-policy never -- sh -c 'exit 3'
	check_rc "$mode: level warn: the child's exit code" 3
	check "$mode: level warn: no info line (running, exited)" \
	    bash -c '! grep -qE "^tend: (running|exited) " "$1"' _ "$T/err"
	run_tend "$mode" --log-level error -- "$T/nonexistent"
	check_rc "$mode: level error: a missing command" 127
	check "$mode: level error: the error line is kept" grep -q "cannot run" "$T/err"
done

finish
