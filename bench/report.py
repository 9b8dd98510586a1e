"""Render the results of bench/run.sh as Markdown (docs/BENCHMARKS.md).

    report.py ROWS MACHINE CMDS CONFS KEY=VALUE...

ROWS: one result a line, "bench|tool|unit|median|min|max|n|bound". MACHINE: "key|value"
lines. CMDS: the exact commands, one a line. CONFS: supervisord's configuration files.
KEY=VALUE: the run's parameters. Every
number in the output comes from these files; this script holds none of its own.
"""

import math
import sys


def fmt(v):
    if v is None or math.isnan(v):
        return "n/a"
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def num(s):
    try:
        return float(s)
    except ValueError:
        return float("nan")


def main():
    rows_path, machine_path, cmds_path, confs_path, *params = sys.argv[1:]
    p = dict(kv.split("=", 1) for kv in params)
    rows = []
    for line in open(rows_path):
        bench, tool, unit, med, lo, hi, n, bound = line.rstrip("\n").split("|")
        rows.append(dict(bench=bench, tool=tool, unit=unit, med=num(med), lo=num(lo),
                         hi=num(hi), n=int(n), bound=num(bound) if bound else None))
    order = {}
    for r in rows:
        order.setdefault(r["bench"], len(order))
    rows.sort(key=lambda r: order[r["bench"]])  # stable: tools keep their order
    tend = {r["bench"]: r["med"] for r in rows if r["tool"] == "tend"}

    out = []
    w = out.append
    w("# Benchmarks")
    w("")
    w("Written by `make bench` (`bench/run.sh`): every figure below comes from one run on the")
    w("machine described under it; run it again to replace this file. Each row gives the")
    w("median, the smallest and largest sample, the number of samples, and the ratio of the")
    w("tool's median to tend's median for the same measure (below 1: the tool needs less;")
    w("for the detection rows, the ratio of the median to the configured bound). The")
    w("spread (min – max) shows the noise of the machine, a small virtual one.")
    if p.get("quick") == "1":
        w("")
        w("**This is a shortened run (BENCH_QUICK=1): fewer samples, shorter idle window.**")
    w("")
    w("<!-- table -->")
    w("| measure | tool | median | min – max | n | ratio |")
    w("| --- | --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        unit = r["unit"]
        if r["bound"] is not None:
            ratio = (f"{fmt(r['med'] / r['bound'])} of the bound {fmt(r['bound'])} {unit}"
                     if r["n"] else "n/a")
        elif r["tool"] == "tend":
            ratio = "1"
        elif tend.get(r["bench"]):
            ratio = f"{fmt(r['med'] / tend[r['bench']])} × tend"
        else:
            ratio = "n/a (tend: 0)" if r["bench"] in tend else ""
        w(f"| {r['bench']} | {r['tool']} | {fmt(r['med'])} {unit} | "
          f"{fmt(r['lo'])} – {fmt(r['hi'])} | {r['n']} | {ratio} |")
    w("<!-- end table -->")
    w("")
    w("## Machine")
    w("")
    w("| | |")
    w("| --- | --- |")
    for line in open(machine_path):
        k, v = line.rstrip("\n").split("|", 1)
        w(f"| {k} | {v} |")
    w("")
    w("## What is measured")
    w("")
    w(f"- **Idle cost.** The four supervisors run side by side, each over `sleep`; tend also")
    w(f"  probes a local endpoint (`tests/soak/httpsrv.py`) every second "
      f"({p.get('idle_probes', '?')} probes in the window). RSS and PSS come from")
    w("  `/proc/PID/smaps_rollup` of the supervisor process alone, 3 s after the start,")
    w("  before any other tend runs (PSS splits shared pages between the processes that map")
    w("  them, so it depends on what else runs). supervisord's figures are its Python")
    w(f"  interpreter's. CPU time is over {p.get('idle_secs', '?')} s: the on-CPU time of all")
    w("  threads from `/proc/PID/task/*/schedstat` (nanoseconds), and utime+stime from")
    w("  `/proc/PID/stat` (10 ms ticks, so small values read as 0 or 10).")
    w("- **Probe cost.** tend probes the same endpoint every 20 ms; its on-CPU time")
    w(f"  (schedstat) is divided by the probes the endpoint counted, in batches (total "
      f"{p.get('probes', '?')}). The Docker")
    w("  `HEALTHCHECK` way is one `curl -fsS` process per probe: the CPU time of the curl")
    w("  processes (bash `times`), not counting the fork in the shell, nor what Docker itself")
    w("  spends to exec a command in a container (more than curl), so it is a lower bound.")
    w("- **Exec overhead.** hyperfine without a shell (`-N`): start the supervisor, which runs")
    w("  `true`, waits for it and exits. tini runs with `-s` (subreaper) since it is not PID 1.")
    w("- **Restart latency.** The child (`bench/benchhelp.c crash`) writes a monotonic time")
    w("  stamp when it starts and just before it exits 1; the gap is from one exit stamp to")
    w("  the next start stamp. tend: no backoff; supervisord: `startsecs=0`,")
    w("  `autorestart=true` (its main loop wakes once a second).")
    w("- **Signal forwarding.** `benchhelp send-term` takes a monotonic time stamp and sends")
    w("  SIGTERM to the supervisor; the child's handler takes the second stamp. One fresh")
    w("  supervisor per sample.")
    w("- **Orphan reaping.** As PID 1 of a new PID namespace (`unshare --pid --fork")
    w("  --mount-proc`), the child makes orphans (double fork) that wait on a pipe, then")
    w("  closes it: all exit at once. Measured: from that moment until `/proc` lists no more")
    w("  processes than before the burst (every orphan exited and was reaped).")
    hi, ht, hf = p.get("hang", "?,?,?").split(",")
    w(f"- **Hang detection.** `tests/apps/hang.py` under tend (health interval {hi},")
    w(f"  timeout {ht}, failure_threshold {hf}); after each `running` line the script asks")
    w("  `GET /hang` at a random moment of the probe period, and the app wedges its event loop")
    w("  100 ms later, printing `blocking the event loop`. Measured: from that line to tend's")
    w("  `stopping ... cause=hang` line (stamped as they arrive). The bound is interval ×")
    w("  failure_threshold + timeout. SIGKILL follows after stop_timeout (the app ignores")
    w("  SIGTERM); tend then restarts it, so one run gives many samples.")
    st, sp, burst = p.get("deadlock", "?,?,?").split(",")
    w(f"- **Deadlocked start.** `tests/apps/deadlock.py` never finishes its startup; tend")
    w(f"  (startup timeout {st}, stop_timeout {sp}, limit_burst {burst}, no backoff) stops")
    w("  it at each deadline, then starts it in emergency mode. Measured: from tend's start to")
    w("  its `emergency-running` line. The bound is limit_burst × (startup timeout +")
    w("  stop_timeout) + startup timeout (the emergency start must pass its probe within one")
    w("  more deadline).")
    w("- The idle window also hosts the two detection runs (they sleep most of the time);")
    w("  everything else runs alone.")
    w("")
    w("## Commands")
    w("")
    w("The exact commands of this run (`benchhelp` is `bench/benchhelp.c`, built by the")
    w("script; ports are the ones this run used):")
    w("")
    w("```")
    for line in open(cmds_path):
        w(line.rstrip("\n"))
    w("```")
    w("")
    w("supervisord's configuration files:")
    w("")
    w("```ini")
    for line in open(confs_path):
        w(line.rstrip("\n"))
    w("```")
    print("\n".join(out))


if __name__ == "__main__":
    main()
