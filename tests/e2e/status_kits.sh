#!/bin/bash
# The kits in contrib/ (Docker, systemd, Kubernetes) cannot run here (no Docker daemon,
# no systemd as PID 1, no cluster): check what can be checked. The Dockerfile's
# configuration (its ENV) is valid and, run for real with the demo app, makes its
# HEALTHCHECK command (`tend status --check`) fail while the app deadlocks and pass once
# tend has it in emergency mode; its build runs contrib/test.sh's commands; the systemd
# unit and its demo.ini verify; the Kubernetes probes point at tend's endpoint.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/status_lib.sh"

C=$TEST_SRCDIR/../contrib
DF=$C/docker/Dockerfile

# --- Dockerfile ---------------------------------------------------------------------------
# The ENV block as NAME=VALUE words, but the user: the image creates it, this machine
# may not have it (and a test running as non-root could not switch to it).
mapfile -t DENV < <(sed -n '/^ENV /,/[^\\]$/p' "$DF" | sed 's/^ENV //; s/ *\\$//; s/^ *//' |
    grep -v '^TEND_PROGRAM_USER=')
check "Dockerfile: the app runs as the user the image creates" \
    eval 'grep -q "^    TEND_PROGRAM_USER=app" "$DF" && grep -q "useradd .* app$" "$DF"'
check "Dockerfile: ENV sets the status endpoint and control socket (${#DENV[@]} variables)" \
    eval 'printf "%s\n" "${DENV[@]}" | grep -q "^TEND_STATUS_CONTROL=/run/tend.sock$" &&
        printf "%s\n" "${DENV[@]}" | grep -q "^TEND_STATUS_LISTEN="'
env "${DENV[@]}" timeout 10 "$TEND" --check-config -- true >"$T/cc" 2>"$T/cc.err"
rc=$?
check "Dockerfile: tend --check-config accepts its ENV ($rc: $(head -1 "$T/cc.err"))" test "$rc" = 0
check "Dockerfile: HEALTHCHECK runs tend status --check, ENTRYPOINT is tend --" \
    eval 'grep -q "CMD \[\"tend\", \"status\", \"--check\"\]" "$DF" &&
        grep -q "^ENTRYPOINT \[\"tend\", \"--\"\]" "$DF"'
check "Dockerfile: HEALTHCHECK --timeout above the client's 5 s" \
    grep -qE -- '--timeout=([6-9]|[1-9][0-9])s' "$DF"
check "Dockerfile: builds with contrib/test.sh's commands (deps.sh, autogen, configure --enable-werror)" \
    eval 'grep -q "deps_install \"\${TEND_PKGS_BUILD\[@\]}\"" "$DF" &&
        grep -q "deps_install \"\${TEND_PKGS_BUILD\[@\]}\"" "$C/test.sh" &&
        grep -q "\./autogen\.sh && mkdir -p build && cd build && \.\./configure --enable-werror" "$DF" &&
        grep -q "build_and_check build --enable-werror" "$C/test.sh"'
if /usr/bin/python3 -c 'import fastapi, uvicorn' >/dev/null 2>&1; then
	# The image's settings with the demo app, on free ports and shorter timings.
	status_ports || { not_ok "no free ports"; finish; }
	CTL=$T/tend.sock
	mapfile -t RENV < <(printf '%s\n' "${DENV[@]}" | sed \
	    -e "s#127.0.0.1:8000#127.0.0.1:$PORT#" -e "s#0.0.0.0:9000#127.0.0.1:$SPORT#" \
	    -e "s#^TEND_STATUS_CONTROL=.*#TEND_STATUS_CONTROL=$CTL#" \
	    -e 's#^TEND_STARTUP_TIMEOUT=.*#TEND_STARTUP_TIMEOUT=4s#' \
	    -e 's#^TEND_PROGRAM_STOP_TIMEOUT=.*#TEND_PROGRAM_STOP_TIMEOUT=1s#')
	export "${RENV[@]}"
	if start_tend plain -- /usr/bin/python3 -m uvicorn app:app --app-dir "$C/demo" \
	    --host 127.0.0.1 --port "$PORT"; then
		check_cmd() {
			timeout 15 "$TEND" status --check >"$T/hc" 2>&1
		}
		poll 10 test -S "$CTL"
		check_cmd
		rc=$?
		check "image config: the HEALTHCHECK command fails while the app deadlocks ($rc: $(cat "$T/hc"))" \
		    eval '[ "$rc" = 1 ] && grep -qx "unhealthy: starting" "$T/hc"'
		check "image config: ... and passes once tend runs it in emergency mode" poll 40 check_cmd
		check "image config: ... state emergency-running ($(cat "$T/hc"))" \
		    grep -qx 'healthy: emergency-running' "$T/hc"
		kill -TERM "$TEND_PID"
		wait_tend
	else
		not_ok "image config: tend did not start"
		show_tend
	fi
	unset "${RENV[@]%%=*}"
else
	skip "/usr/bin/python3 lacks fastapi or uvicorn: the demo app cannot run"
fi

# --- systemd ------------------------------------------------------------------------------
timeout 10 "$TEND" --check-config -c "$C/systemd/demo.ini" >/dev/null 2>"$T/cc.err"
rc=$?
check "systemd: tend --check-config -c demo.ini ($rc: $(head -1 "$T/cc.err"))" test "$rc" = 0
U=$C/systemd/tend-demo.service
check "systemd: Type=notify, NotifyAccess=main, WatchdogSec, KillMode=mixed, ExecStart -c /etc/tend/demo.ini" \
    eval 'grep -qx "Type=notify" "$U" && grep -qx "NotifyAccess=main" "$U" &&
        grep -q "^WatchdogSec=" "$U" && grep -qx "KillMode=mixed" "$U" &&
        grep -qx "ExecStart=/usr/local/bin/tend -c /etc/tend/demo.ini" "$U"'
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s#/usr/local/bin/tend#$TEND#" "$U" >"$T/tend-demo.service"
	timeout 30 systemd-analyze verify "$T/tend-demo.service" >"$T/sa" 2>&1
	rc=$?
	check "systemd: systemd-analyze verify ($rc: $(head -1 "$T/sa"))" test "$rc" = 0
else
	skip "systemd-analyze is not installed"
fi

# --- Kubernetes ---------------------------------------------------------------------------
if /usr/bin/python3 -c 'import yaml' >/dev/null 2>&1; then
	check "kubernetes: readiness on /readyz and liveness on /healthz of tend's port" \
	    /usr/bin/python3 - "$C/kubernetes/deployment.yaml" <<'PYEOF'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
dep = next(d for d in docs if d["kind"] == "Deployment")
c = dep["spec"]["template"]["spec"]["containers"][0]
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
env = {e["name"]: e["value"] for e in c.get("env", [])}
r, l = c["readinessProbe"]["httpGet"], c["livenessProbe"]["httpGet"]
port = ports[r["port"]]
assert r["path"] == "/readyz" and l["path"] == "/healthz", (r, l)
assert l["port"] == r["port"] and port != ports["http"], ports
assert env["TEND_STATUS_LISTEN"].endswith(":%d" % port), env
PYEOF
	check "compose: the app waits for redis (TEND_STARTUP_WAIT_FOR)" /usr/bin/python3 -c '
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
assert c["services"]["app"]["environment"]["TEND_STARTUP_WAIT_FOR"] == "tcp://redis:6379"
assert "redis" in c["services"]' "$C/docker/compose.yaml"
else
	skip "python3-yaml missing: the YAML files are not checked"
fi
finish
