"""In-kernel enforcement on the real kernel with real runc containers
(src/enforce, driven by tests/e2e/helpers/guard_demo.c): blocked and allowed
connects and listening ports over IPv4 and IPv6 (cgroup sock_addr BPF),
denied and allowed execs and drift (fanotify permission events), shadow
mode, the decision-time budget, host processes left alone, and fail-open
after the guard is killed."""
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import ROOT

# VIGIL_GUARD_DEMO: another build of the driver (e.g. build/san/tests/guard_demo)
GUARD = os.environ.get("VIGIL_GUARD_DEMO", os.path.join(ROOT, "build", "tests", "guard_demo"))


@pytest.fixture(scope="module")
def guard_bin():
    if "VIGIL_GUARD_DEMO" not in os.environ:
        r = subprocess.run(["make", "-s", "build/tests/guard_demo"], cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            pytest.fail("cannot build guard_demo:\n" + r.stdout + r.stderr)
    return GUARD


class Listener:
    """A dual-stack TCP listener on the host (127.0.0.1 and ::1) that accepts
    and closes; counts connections."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("::", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            r, _, _ = select.select([self.sock], [], [], 0.2)
            if r:
                conn, _ = self.sock.accept()
                self.accepted += 1
                conn.close()

    def wait(self, n, timeout=5):
        """True once exactly n connections were accepted (waits up to
        timeout for the accept thread to catch up, then checks)."""
        deadline = time.time() + timeout
        while self.accepted < n and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)
        return self.accepted == n

    def close(self):
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()


def free_port():
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def listeners():
    made = []

    def make():
        lst = Listener()
        made.append(lst)
        return lst

    yield make
    for lst in made:
        lst.close()


class Guard:
    def __init__(self, tmp, n, args):
        self.out_path = os.path.join(tmp, f"guard-{n}.out")
        self.err_path = os.path.join(tmp, f"guard-{n}.err")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([GUARD] + list(args), stdout=self.out, stderr=self.err)
        deadline = time.time() + 20
        while time.time() < deadline:
            if any(e.get("event") == "ready" for e in self.lines()):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("guard did not start: " + self.stderr())

    def lines(self):
        with open(self.out_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def events(self, kind, **conds):
        return [e for e in self.lines() if e.get("event") == kind
                and all(e.get(k) == v for k, v in conds.items())]

    def wait_event(self, kind, timeout=5, **conds):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.events(kind, **conds)
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {kind} event {conds} in {self.lines()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=15)
        self.out.close()
        self.err.close()
        err = self.stderr()
        assert "Sanitizer" not in err and "runtime error" not in err, err
        counters = self.events("counters")
        return counters[-1] if counters else None


@pytest.fixture
def guard(tmp_path, guard_bin):
    started = []

    def start(*args):
        g = Guard(str(tmp_path), len(started), args)
        started.append(g)
        return g

    yield start
    for g in started:
        if g.proc.poll() is None:
            g.proc.kill()
            g.proc.wait()


class Running:
    """A runc container running `sleep`, sharing the host network namespace."""

    def __init__(self, c):
        self.c = c
        c.config["linux"]["namespaces"] = [n for n in c.config["linux"]["namespaces"]
                                           if n["type"] != "network"]
        c.config["process"]["args"] = ["/bin/sleep", "100000"]
        with open(os.path.join(c.bundle, "config.json"), "w") as f:
            json.dump(c.config, f)
        self.runner = subprocess.Popen(["runc", "run", c.id], cwd=c.bundle, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        self.pid = 0
        while time.time() < deadline:
            r = subprocess.run(["runc", "state", c.id], capture_output=True, text=True)
            if r.returncode == 0:
                st = json.loads(r.stdout)
                if st.get("status") == "running" and st.get("pid"):
                    self.pid = st["pid"]
                    break
            time.sleep(0.05)
        assert self.pid, "container did not start"
        with open(f"/proc/{self.pid}/cgroup") as f:
            self.cgroup = [ln[3:].strip() for ln in f if ln.startswith("0::")][0]
        assert self.cgroup not in ("", "/"), self.cgroup

    def sh(self, script, timeout=30):
        return subprocess.run(["runc", "exec", self.c.id, "/bin/sh", "-c", script],
                              capture_output=True, text=True, timeout=timeout)

    def stop(self):
        subprocess.run(["runc", "kill", self.c.id, "KILL"], capture_output=True)
        try:
            self.runner.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.runner.kill()


@pytest.fixture
def running(container):
    made = []

    def make():
        r = Running(container())
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


def connect_from_host(port, family=socket.AF_INET, addr="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect((addr, port))
    finally:
        s.close()


def host_exec(tmp_path):
    exe = str(tmp_path / "host-true")
    shutil.copy("/bin/true", exe)
    return subprocess.run([exe]).returncode


def nc(port, addr="127.0.0.1"):
    return f"nc -w 3 {addr} {port} < /dev/null; echo rc=$?"


def denied(r):
    """An exec that failed with EPERM, as busybox sh reports it."""
    text = r.stdout + r.stderr
    return "rc=126" in text and ("not permitted" in text or "Permission denied" in text)


def test_connect_and_listen_blocked_v4_v6_host_unaffected(running, guard, listeners, tmp_path):
    ok, blocked = listeners(), listeners()
    listen_ok, listen_bad = free_port(), free_port()
    c = running()
    g = guard("--cgroup", c.cgroup, "--mode", "protect", "--allow", f"tcp:{ok.port}",
              "--listen", f"tcp:{listen_ok}", "--exec", "/bin/busybox")

    r = c.sh(nc(ok.port))
    assert "rc=0" in r.stdout, r
    r = c.sh(nc(blocked.port))
    assert "rc=1" in r.stdout and "Operation not permitted" in r.stderr, r
    r = c.sh(nc(ok.port, "::1"))
    assert "rc=0" in r.stdout, r
    r = c.sh(nc(blocked.port, "::1"))
    assert "rc=1" in r.stdout and "Operation not permitted" in r.stderr, r
    assert ok.wait(2) and blocked.accepted == 0

    # listening ports: the allowed one binds, another fails with EPERM
    r = c.sh(f"nc -l -p {listen_ok} < /dev/null & p=$!; sleep 0.5; kill $p && echo listening")
    assert "listening" in r.stdout, r
    r = c.sh(f"nc -l -p {listen_bad} < /dev/null; echo rc=$?")
    assert "rc=1" in r.stdout and "not permitted" in r.stderr, r

    # the host is not affected: same port, same moment
    connect_from_host(blocked.port)
    connect_from_host(blocked.port, socket.AF_INET6, "::1")
    assert blocked.wait(2)
    assert host_exec(tmp_path) == 0

    v4 = g.wait_event("net", verdict="blocked", family="ipv4", port=blocked.port, op="connect")
    v6 = g.wait_event("net", verdict="blocked", family="ipv6", port=blocked.port, op="connect")
    assert v4[0]["addr"] == "127.0.0.1" and v6[0]["addr"] == "::1"
    assert v4[0]["comm"] == "nc" and v4[0]["pid"] > 0
    g.wait_event("net", verdict="blocked", op="bind", port=listen_bad)
    assert not g.events("net", port=ok.port)
    counters = g.stop()
    assert counters["net"]["blocked"] == 3, counters
    assert counters["net"]["allowed"] >= 3, counters
    assert counters["exec"]["failed"] == 0 and counters["exec"]["late"] == 0, counters


def test_exec_drop_and_drift_denied_applets_work(running, guard, tmp_path):
    c = running()
    g = guard("--cgroup", c.cgroup, "--mode", "protect", "--exec", "/bin/*", "--no-net",
              "--mark-pid", str(c.pid))
    assert g.events("ready")[0]["marked"] >= 2  # rootfs and the /dev tmpfs at least

    r = c.sh("ls / > /dev/null && cat /etc/hostname && echo applets-ok")
    assert "applets-ok" in r.stdout and "vigil-test" in r.stdout, r
    r = c.sh("cp /bin/busybox /tmp/dropper && /tmp/dropper true; echo rc=$?")
    assert denied(r), r
    # drift: /bin/* is allowed, but this file was written after the start
    r = c.sh("cp /bin/busybox /bin/evil && /bin/evil true; echo rc=$?")
    assert denied(r), r
    # another filesystem of the container (its /dev tmpfs), marked via --mark-pid
    r = c.sh("cp /bin/busybox /dev/evil && /dev/evil true; echo rc=$?")
    assert denied(r), r
    # straight from runc exec
    r = subprocess.run(["runc", "exec", c.c.id, "/tmp/dropper", "true"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0, r
    r = c.sh("echo still-fine")
    assert "still-fine" in r.stdout, r

    # the host can run from /tmp meanwhile
    assert host_exec(tmp_path) == 0

    drop = g.wait_event("exec", outcome="denied", path="/tmp/dropper")
    assert drop[0]["cgroup"] == c.cgroup and drop[0]["pid"] > 0
    drift = g.wait_event("exec", outcome="denied", path="/bin/evil")
    assert drift[0]["reason"].startswith("drift"), drift
    g.wait_event("exec", outcome="denied", path="/dev/evil")
    assert not g.events("exec", path="/bin/busybox", outcome="denied")
    counters = g.stop()
    assert counters["exec"]["denied"] >= 4, counters
    assert counters["exec"]["failed"] == 0 and counters["exec"]["late"] == 0, counters


def test_shadow_mode_blocks_nothing_and_reports(running, guard, listeners, tmp_path):
    ok, other = listeners(), listeners()
    c = running()
    g = guard("--cgroup", c.cgroup, "--mode", "shadow", "--allow", f"tcp:{ok.port}",
              "--exec", "/bin/busybox")
    r = c.sh(nc(other.port))
    assert "rc=0" in r.stdout, r
    r = c.sh(nc(other.port, "::1"))
    assert "rc=0" in r.stdout, r
    r = c.sh("cp /bin/busybox /tmp/echo && /tmp/echo ran-anyway")
    assert "ran-anyway" in r.stdout, r
    assert other.wait(2)

    g.wait_event("net", verdict="would_block", port=other.port, family="ipv4")
    g.wait_event("net", verdict="would_block", port=other.port, family="ipv6")
    g.wait_event("exec", outcome="would_deny", path="/tmp/echo")
    assert not g.events("net", verdict="blocked") and not g.events("exec", outcome="denied")
    counters = g.stop()
    assert counters["net"]["blocked"] == 0 and counters["net"]["would_block"] == 2, counters
    assert counters["exec"]["denied"] == 0 and counters["exec"]["would_deny"] >= 1, counters


def test_from_model_file(running, guard, listeners, tmp_path):
    """Allow lists derived from an exported model through policy_allow."""
    ok, blocked = listeners(), listeners()
    listen_ok = free_port()
    entry = ("      first_seen: 2026-12-02T13:00:00Z\n      last_seen: 2026-12-02T13:00:00Z\n"
             "      hits: 1\n      by: \"demo\"\n      process: \"sh\"\n      hours: [1]\n"
             "      weeks: 1\n      approved: false\n")
    model = tmp_path / "model.yaml"
    model.write_text(
        "model: \"container:demo\"\nkind: container\nstate: active\nreason: \"test\"\nparent: \"\"\n"
        "created: 2026-12-02T13:00:00Z\nlearned_until: 2026-12-02T13:00:00Z\n"
        "last_new: 2026-12-02T13:00:00Z\nlast_seen: 2026-12-02T13:00:00Z\nlearn_min: 0\n"
        "learn_settle: 0\nentries:\n"
        "  file_exec:\n    - item: \"/bin/busybox\"\n" + entry +
        f"  net_out:\n    - item: \"tcp 127.0.0.0/24:{ok.port}\"\n" + entry +
        f"  net_listen:\n    - item: \"tcp :{listen_ok}\"\n" + entry +
        "rates: {}\n")
    c = running()
    g = guard("--cgroup", c.cgroup, "--model", str(model), "--no-drift")
    assert g.events("ready")[0]["exec_patterns"] == 1
    assert "rc=0" in c.sh(nc(ok.port)).stdout
    r = c.sh(nc(blocked.port))
    assert "Operation not permitted" in r.stderr, r
    r = c.sh(f"nc -l -p {listen_ok} < /dev/null & p=$!; sleep 0.5; kill $p && echo listening")
    assert "listening" in r.stdout, r
    r = c.sh("cp /bin/busybox /tmp/x && /tmp/x true; echo rc=$?")
    assert denied(r), r
    x = g.wait_event("exec", outcome="denied", path="/tmp/x")
    assert x[0]["reason"] == "not in the learned model", x
    g.wait_event("net", verdict="blocked", port=blocked.port)
    g.stop()


def test_decision_budget_allows_late(running, guard):
    """decide() slower than the budget: every exec is allowed in bounded time
    and reported late (fail open)."""
    c = running()
    g = guard("--cgroup", c.cgroup, "--no-net", "--slow-ms", "400", "--budget-ms", "50")
    t0 = time.time()
    r = c.sh("cp /bin/busybox /tmp/echo && /tmp/echo ran-late")
    took = time.time() - t0
    assert "ran-late" in r.stdout, r
    assert took < 5, took
    g.wait_event("exec", outcome="late", path="/tmp/echo")
    counters = g.stop()
    assert counters["exec"]["late"] >= 1 and counters["exec"]["denied"] == 0, counters


def bpf_progs_attached():
    r = subprocess.run(["bpftool", "-j", "cgroup", "show", "/sys/fs/cgroup/unified"
                        if os.path.ismount("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"],
                       capture_output=True, text=True)
    try:
        return [p for p in json.loads(r.stdout or "[]") if p.get("name", "").startswith("vge_")]
    except ValueError:
        return []


def test_fail_open_after_sigkill(running, guard, listeners, tmp_path):
    blocked = listeners()
    c = running()
    g = guard("--cgroup", c.cgroup, "--mode", "protect", "--exec", "/bin/busybox")
    assert bpf_progs_attached()
    r = c.sh(nc(blocked.port))
    assert "Operation not permitted" in r.stderr, r
    r = c.sh("cp /bin/busybox /tmp/echo && /tmp/echo true; echo rc=$?")
    assert denied(r), r

    g.proc.kill()
    g.proc.wait(timeout=10)
    deadline = time.time() + 10
    while bpf_progs_attached() and time.time() < deadline:
        time.sleep(0.1)
    assert not bpf_progs_attached()
    r = c.sh(nc(blocked.port))
    assert "rc=0" in r.stdout, r
    r = c.sh("/tmp/echo free-again")
    assert "free-again" in r.stdout, r
    assert blocked.wait(1)
    assert host_exec(tmp_path) == 0


def test_sigkill_while_exec_waits_for_a_decision(running, guard):
    """An exec waiting for the guard's answer goes on as soon as the guard
    dies: the kernel allows what a closed fanotify group left pending."""
    c = running()
    g = guard("--cgroup", c.cgroup, "--no-net", "--exec", "/bin/busybox", "--slow-ms", "30000",
              "--budget-ms", "60000")
    p = subprocess.Popen(["runc", "exec", c.c.id, "/bin/echo", "went-on"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert p.poll() is None, "the exec did not wait for the decision"
    g.proc.kill()
    g.proc.wait(timeout=10)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0 and "went-on" in out, (out, err)
