#!/usr/bin/env python3
"""bench.py - the orchestration half of Vigil's overhead benchmark.

Run it through bench/run.sh, which checks for root, builds the loops program,
enables kernel.bpf_stats_enabled (and restores it afterwards) and calls this.
See bench/README.md for the method and what each figure means.

For each loop it runs BENCH_PAIRS interleaved pairs -- the loop alone and the
loop under `vigil trace --json > /dev/null` -- alternating which of the two
goes first, and reports medians, the median of the per-pair ratios, the
agent's counters, CPU time and peak RSS, and the in-kernel BPF time per loop
iteration. Standard library only.
"""

import argparse
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import time

TARGETS = {"open": 1.5, "exec": 1.1, "connect": 1.3}  # max median ratio
RSS_TARGET_MIB = 64
NOISE_RATIO = 1.15
NOISY_BG_CPUS = 0.25  # other work busier than this during a run: flag it
READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
VG_GONE_TIMEOUT_S = 10
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    pass


class Terminated(BaseException):
    """Raised from the SIGTERM/SIGHUP handler so that `finally` cleans up."""


def on_term(signum, _frame):
    raise Terminated(signum)


def env_int(name, default, minimum=1):
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        v = int(raw.replace("_", ""))
    except ValueError:
        raise BenchError(f"{name}={raw!r} is not an integer")
    if v < minimum:
        raise BenchError(f"{name}={v} is below {minimum}")
    return v


# --- processes we started: tracked so that every exit path stops them -------

class Procs:
    def __init__(self, tmp):
        self.tmp = tmp
        self.agent = None  # Popen of vigil
        self.loop = None   # Popen of loops (own process group)

    def _pidfile(self, what, pid):
        path = os.path.join(self.tmp, f"{what}.pid")
        if pid is None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        else:
            with open(path, "w") as f:
                f.write(f"{pid}\n")

    def set_agent(self, p):
        self.agent = p
        self._pidfile("agent", p.pid if p else None)

    def set_loop(self, p):
        self.loop = p
        self._pidfile("loop", p.pid if p else None)

    def kill_loop(self):
        p = self.loop
        if p and p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        self.set_loop(None)

    def kill_agent(self):
        p = self.agent
        if p and p.returncode is None:
            try:
                p.send_signal(signal.SIGINT)
                p.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            except (ProcessLookupError, ChildProcessError):
                pass
        self.set_agent(None)

    def cleanup(self):
        self.kill_loop()
        self.kill_agent()


# --- measurements -------------------------------------------------------------

def cpu_seconds(pid):
    """utime + stime of a live process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise BenchError(f"no VmHWM in /proc/{pid}/status")


def vg_programs():
    """{prog id: (name, run_time_ns, run_cnt)} of loaded programs named vg_*."""
    out = subprocess.run(["bpftool", "prog", "show", "-j"], check=True,
                         capture_output=True, text=True).stdout
    progs = {}
    for p in json.loads(out or "[]"):
        name = p.get("name", "")
        if name.startswith("vg_"):
            # bpftool leaves out run_time_ns/run_cnt while they are 0
            progs[p["id"]] = (name, p.get("run_time_ns", 0),
                              p.get("run_cnt", 0))
    return progs


def wait_vg_gone(ids=None, timeout=VG_GONE_TIMEOUT_S):
    """Waits until no vg_* program (or none of `ids`) is loaded. The kernel
    frees a dead agent's programs asynchronously, and no baseline run may be
    traced by a leftover program."""
    deadline = time.monotonic() + timeout
    while True:
        left = set(vg_programs())
        if ids is not None:
            left &= ids
        if not left:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def own_prog_ids(pid):
    """IDs of the BPF programs process `pid` holds (prog and link fds), from
    /proc/PID/fdinfo: tells our agent's programs from another Vigil's."""
    ids = set()
    d = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return ids


def busy_cpu_s():
    """CPU seconds the whole machine has been busy (all but idle and iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest* are in user)
    return (sum(v[:8]) - v[3] - v[4]) / CLK_TCK


COUNTER_RE = re.compile(
    r"vigil: total emitted=(\d+) dropped=(\d+) folded=(\d+) malformed=(\d+)"
    r" shown=(\d+) filtered=(\d+)")
BYTYPE_RE = re.compile(r"vigil: counters by event type[^:]*:(.*)")


def parse_counters(text):
    m = None
    for m in COUNTER_RE.finditer(text):
        pass  # the last block is the one printed at exit
    if not m:
        raise BenchError("agent printed no counters; its stderr:\n" + text)
    keys = ("emitted", "dropped", "folded", "malformed", "shown", "filtered")
    c = dict(zip(keys, (int(x) for x in m.groups())))
    by_type = BYTYPE_RE.findall(text)
    c["by_type"] = by_type[-1].strip() if by_type else ""
    return c


def children_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_loop(procs, cmd, agent_pid=None):
    """Runs one loop; returns (elapsed seconds, background CPU seconds): the
    machine's busy CPU time during the run less the loop's (with its waited-for
    children) and the agent's. Approximate (softirq work of the loopback
    connects lands there too), but it tells a quiet machine from a busy one."""
    agent0 = cpu_seconds(agent_pid) if agent_pid else 0.0
    busy0, kids0, t0 = busy_cpu_s(), children_cpu_s(), time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True,
                         start_new_session=True)
    procs.set_loop(p)
    out, _ = p.communicate()
    procs.set_loop(None)
    wall = time.monotonic() - t0
    busy = busy_cpu_s() - busy0
    loop_cpu = children_cpu_s() - kids0
    agent_cpu = cpu_seconds(agent_pid) - agent0 if agent_pid else 0.0
    if p.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} failed with status {p.returncode}")
    m = re.search(r"^elapsed=([0-9.]+)$", out, re.M)
    if not m:
        raise BenchError(f"{' '.join(cmd)} printed no elapsed=: {out!r}")
    bg = max(0.0, busy - loop_cpu - agent_cpu)
    return float(m.group(1)), bg / wall if wall > 0 else 0.0


def run_base(procs, cmd):
    before = set(vg_programs())
    elapsed, bg = run_loop(procs, cmd)
    foreign = before | set(vg_programs())
    return {"elapsed": elapsed, "bg_cpus": bg, "foreign_vigil": bool(foreign)}


def start_agent(procs, vigil, tmp):
    errpath = os.path.join(tmp, "agent.stderr")
    errf = open(errpath, "w+")
    try:
        p = subprocess.Popen([vigil, "trace", "--json"],
                             stdout=subprocess.DEVNULL, stderr=errf,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        errf.close()
    procs.set_agent(p)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        with open(errpath) as f:
            text = f.read()
        if "vigil: tracing" in text:
            return p, errpath
        if p.poll() is not None:
            raise BenchError(f"agent exited with status {p.returncode} before "
                             f"tracing; its stderr:\n{text}")
        if time.monotonic() > deadline:
            raise BenchError(f"agent not tracing after {READY_TIMEOUT_S}s; "
                             f"its stderr:\n{text}")
        time.sleep(0.02)


def stop_agent(procs, p, ours):
    """SIGINT the agent; return its total CPU seconds (getrusage via wait4)."""
    p.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            procs.set_agent(None)
            if p.returncode != 0:
                raise BenchError(f"agent exited with status {p.returncode}")
            if not wait_vg_gone(ours):
                raise BenchError("the agent's vg_* programs are still loaded "
                                 f"{VG_GONE_TIMEOUT_S}s after it exited")
            return ru.ru_utime + ru.ru_stime
        if time.monotonic() > deadline:
            p.kill()
            p.wait()
            procs.set_agent(None)
            raise BenchError(f"agent did not stop {STOP_TIMEOUT_S}s after "
                             "SIGINT")
        time.sleep(0.01)


def run_with_agent(procs, vigil, tmp, cmd, iters, bpf_stats):
    p, errpath = start_agent(procs, vigil, tmp)
    cpu_ready = cpu_seconds(p.pid)
    before = vg_programs()
    ours = own_prog_ids(p.pid) & set(before)
    if not ours:
        raise BenchError(f"found no vg_* program held by the agent (pid "
                         f"{p.pid}) in its /proc fdinfo")
    elapsed, bg = run_loop(procs, cmd, agent_pid=p.pid)
    after = vg_programs()
    hwm_kib = vm_hwm_kib(p.pid)
    cpu_total = stop_agent(procs, p, ours)
    with open(errpath) as f:
        c = parse_counters(f.read())
    r = {"elapsed": elapsed, **c,
         "agent_cpu_s": cpu_total - cpu_ready,
         "agent_startup_cpu_s": cpu_ready,
         "agent_rss_kib": hwm_kib,
         "bg_cpus": bg,
         "foreign_vigil": bool((set(before) | set(after)) - ours),
         "bpf_ns_per_iter": None, "bpf_runs_per_iter": None}
    if bpf_stats:
        if not ours <= set(after):
            raise BenchError("the agent's vg_* programs went away during the "
                             "run")
        ns = sum(after[i][1] - before[i][1] for i in ours)
        cnt = sum(after[i][2] - before[i][2] for i in ours)
        r["bpf_ns_per_iter"] = ns / iters
        r["bpf_runs_per_iter"] = cnt / iters
    return r


# --- the benchmark ------------------------------------------------------------

def fmt_opt(v, spec):
    return "n/a" if v is None else format(v, spec)


def bench_loop(name, iters, cmd, args, procs, bpf_stats):
    pairs = []
    print(f"== {name}: {iters} iterations, {args.pairs} pairs", flush=True)
    # Warm-up (not recorded): page cache, dynamic linker, TCP state.
    run_loop(procs, cmd(max(1, iters // 20)))
    for i in range(args.pairs):
        agent_first = i % 2 == 1
        order = ("agent", "base") if agent_first else ("base", "agent")
        res = {}
        for which in order:
            if which == "base":
                res["base"] = run_base(procs, cmd(iters))
            else:
                res["agent"] = run_with_agent(procs, args.vigil, args.tmp,
                                              cmd(iters), iters, bpf_stats)
        a, b = res["agent"], res["base"]
        ratio = a["elapsed"] / b["elapsed"]
        noisy = max(a["bg_cpus"], b["bg_cpus"]) > NOISY_BG_CPUS
        foreign = a["foreign_vigil"] or b["foreign_vigil"]
        pairs.append({"base": b["elapsed"], "base_run": b, "agent": a,
                      "ratio": ratio, "agent_first": agent_first,
                      "noisy": noisy, "foreign_vigil": foreign})
        print(f"  pair {i + 1}/{args.pairs} ({'agent' if agent_first else 'base'}"
              f" first): base {b['elapsed']:.3f}s  agent {a['elapsed']:.3f}s  "
              f"ratio {ratio:.3f}  bpf {fmt_opt(a['bpf_ns_per_iter'], '.0f')}"
              f" ns/iter ({fmt_opt(a['bpf_runs_per_iter'], '.2f')} runs/iter)"
              f"  emitted={a['emitted']} dropped={a['dropped']} "
              f"folded={a['folded']} malformed={a['malformed']}  "
              f"cpu {a['agent_cpu_s']:.2f}s (+{a['agent_startup_cpu_s']:.2f}s"
              f" startup)  rss "
              f"{a['agent_rss_kib'] / 1024:.1f}MiB", flush=True)
        print(f"    background CPUs busy: base {b['bg_cpus']:.2f} agent "
              f"{a['bg_cpus']:.2f}{'  NOISY' if noisy else ''}"
              f"{'  ANOTHER VIGIL AGENT WAS LOADED' if foreign else ''}",
              flush=True)
        print(f"    by type: {a['by_type']}", flush=True)
    agents = [p["agent"] for p in pairs]
    bpf = [a["bpf_ns_per_iter"] for a in agents if a["bpf_ns_per_iter"] is not None]
    return {
        "loop": name, "iters": iters, "pairs": pairs,
        "base_s": statistics.median(p["base"] for p in pairs),
        "agent_s": statistics.median(a["elapsed"] for a in agents),
        "ratio": statistics.median(p["ratio"] for p in pairs),
        "ratio_min": min(p["ratio"] for p in pairs),
        "ratio_max": max(p["ratio"] for p in pairs),
        "bpf_ns_per_iter": statistics.median(bpf) if bpf else None,
        "emitted": sum(a["emitted"] for a in agents),
        "dropped": sum(a["dropped"] for a in agents),
        "folded": sum(a["folded"] for a in agents),
        "malformed": sum(a["malformed"] for a in agents),
        "agent_cpu_s": statistics.median(a["agent_cpu_s"] for a in agents),
        "agent_cpu_frac": statistics.median(a["agent_cpu_s"] / a["elapsed"]
                                            for a in agents),
        "agent_rss_mib": max(a["agent_rss_kib"] for a in agents) / 1024,
        "events_per_s": statistics.median(a["emitted"] / a["elapsed"]
                                          for a in agents),
        "bg_cpus": statistics.median(max(p["base_run"]["bg_cpus"],
                                         p["agent"]["bg_cpus"]) for p in pairs),
        "noisy_pairs": sum(p["noisy"] for p in pairs),
        "foreign_pairs": sum(p["foreign_vigil"] for p in pairs),
    }


def print_summary(results, pairs):
    print()
    print(f"summary ({pairs} interleaved pairs per loop; base_s/agent_s/ratio/"
          "bpf_ns/iter/agent_cpu_s/events_per_s are medians,")
    print("emitted/dropped/folded are totals over the with-agent runs, "
          "agent_rss_MiB is the largest VmHWM)")
    hdr = ("loop", "iters", "base_s", "agent_s", "ratio", "bpf_ns/iter",
           "emitted", "dropped", "folded", "agent_cpu_s", "agent_rss_MiB",
           "events_per_s")
    rows = []
    for r in results:
        rows.append((r["loop"], str(r["iters"]), f"{r['base_s']:.3f}",
                     f"{r['agent_s']:.3f}", f"{r['ratio']:.3f}",
                     fmt_opt(r["bpf_ns_per_iter"], ".0f"), str(r["emitted"]),
                     str(r["dropped"]), str(r["folded"]),
                     f"{r['agent_cpu_s']:.2f}", f"{r['agent_rss_mib']:.1f}",
                     f"{r['events_per_s']:.0f}"))
    widths = [max(len(h), *(len(row[i]) for row in rows))
              for i, h in enumerate(hdr)]
    for row in (hdr, *rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    print()
    print("targets (median ratio; ratios under ~%.2f are within noise on "
          "shared VMs):" % NOISE_RATIO)
    all_ok = True
    for r in results:
        t = TARGETS.get(r["loop"])
        checks = [
            (f"ratio {r['ratio']:.3f} <= {t}", r["ratio"] <= t),
            (f"dropped {r['dropped']} == 0", r["dropped"] == 0),
            (f"rss {r['agent_rss_mib']:.1f} MiB < {RSS_TARGET_MIB}",
             r["agent_rss_mib"] < RSS_TARGET_MIB),
        ]
        ok = all(c[1] for c in checks)
        all_ok &= ok
        print(f"  {r['loop']:<8} {'PASS' if ok else 'FAIL'}  " +
              "; ".join(f"{d} {'ok' if c else 'MISSED'}" for d, c in checks) +
              f"  (pair ratios {r['ratio_min']:.3f}..{r['ratio_max']:.3f},"
              f" agent cpu {100 * r['agent_cpu_frac']:.0f}% of loop wall time,"
              f" background {r['bg_cpus']:.2f} CPUs)")
    unreliable = any(r["noisy_pairs"] or r["foreign_pairs"] for r in results)
    print(f"overall: {'all targets met' if all_ok else 'some targets missed'}"
          f"{' (on a busy machine: see the warnings)' if unreliable else ''}")
    noisy = [f"{r['loop']} {r['noisy_pairs']}/{pairs}" for r in results
             if r["noisy_pairs"]]
    foreign = [f"{r['loop']} {r['foreign_pairs']}/{pairs}" for r in results
               if r["foreign_pairs"]]
    if noisy:
        print(f"WARNING: other work kept more than {NOISY_BG_CPUS} CPUs busy "
              f"in some pairs ({', '.join(noisy)}): their ratios are "
              "unreliable; rerun on a quiet machine")
    if foreign:
        print("WARNING: another Vigil agent had programs loaded during some "
              f"pairs ({', '.join(foreign)}): their ratios are unreliable")
    return all_ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--loops", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--results", help="write raw results as JSON here")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    if os.geteuid() != 0:
        print("bench.py: must run as root", file=sys.stderr)
        return 1
    procs = Procs(args.tmp)
    try:
        args.pairs = env_int("BENCH_PAIRS", 5)
        port = env_int("BENCH_PORT", 0, minimum=0)
        plan = [
            ("open", env_int("BENCH_OPEN", 1_000_000),
             lambda n: [args.loops, "open", str(n)]),
            ("exec", env_int("BENCH_EXEC", 5_000),
             lambda n: [args.loops, "exec", str(n)]),
            ("connect", env_int("BENCH_CONNECT", 50_000),
             lambda n: [args.loops, "connect", str(n), str(port)]),
        ]
        only = os.environ.get("BENCH_LOOPS", "")
        if only:
            wanted = only.replace(",", " ").split()
            bad = [w for w in wanted if w not in {p[0] for p in plan}]
            if bad:
                raise BenchError(f"BENCH_LOOPS: unknown loop(s) {bad}")
            plan = [p for p in plan if p[0] in wanted]
        with open("/proc/sys/kernel/bpf_stats_enabled") as f:
            bpf_stats = f.read().strip() == "1"
        if not bpf_stats:
            print("bench.py: kernel.bpf_stats_enabled is 0: no BPF ns/iter "
                  "figure (bench/run.sh enables it)", file=sys.stderr)
        if not wait_vg_gone(timeout=10):
            raise BenchError("BPF programs named vg_* are already loaded: "
                             "another Vigil agent is running; stop it first")
        print(f"vigil bench: kernel {os.uname().release}, {os.cpu_count()} "
              f"CPUs, agent {args.vigil}, loops {args.loops}", flush=True)
        t0 = time.monotonic()
        results = [bench_loop(name, iters, cmd, args, procs, bpf_stats)
                   for name, iters, cmd in plan]
        print(f"(benchmark took {time.monotonic() - t0:.0f}s)")
        print_summary(results, args.pairs)
        if args.results:
            with open(args.results, "w") as f:
                json.dump({"kernel": os.uname().release,
                           "cpus": os.cpu_count(),
                           "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                           "results": results}, f, indent=1)
            print(f"raw results: {args.results}")
        return 0
    except BenchError as e:
        print(f"bench.py: {e}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Terminated):
        print("bench.py: interrupted, stopping", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        procs.cleanup()


if __name__ == "__main__":
    sys.exit(main())
