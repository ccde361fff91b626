"""SIGKILL at exec where fanotify cannot see the exec (sensor_exec_kill_set,
the sensor's exec_kill map): execs of a memfd or of an unlinked file in one
real runc container's cgroup, driven by tests/e2e/helpers/exec_kill_demo.c.

The exec'd copy is busybox running `sh -c 'echo ... > FILE'` (a shell
builtin, so no further exec): a killed exec leaves no file, and its parent
(helpers/privops.c, built static so it runs in the busybox container) sees
the child killed by SIGKILL ("status 0x9"). Ordinary execs in the container,
the same memfd exec on the host, and the container once the entry is removed
all run."""
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

import test_enforce
from conftest import ROOT

DEMO = os.path.join(ROOT, "build", "tests", "exec_kill_demo")
PRIVOPS_SRC = os.path.join(os.path.dirname(__file__), "helpers", "privops.c")
KILL_MEMFD, KILL_DELETED = 1, 2
MEMFD_EXE = "/memfd:vigil-memfd"


@pytest.fixture(scope="module")
def demo_bin():
    r = subprocess.run(["make", "-s", "build/tests/exec_kill_demo"], cwd=ROOT,
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail("cannot build exec_kill_demo:\n" + r.stdout + r.stderr)
    return DEMO


@pytest.fixture(scope="module")
def privops(tmp_path_factory):
    exe = str(tmp_path_factory.mktemp("privops-static") / "privops")
    r = subprocess.run(["gcc", "-Wall", "-Wextra", "-Werror", "-O2", "-static", "-o", exe,
                        PRIVOPS_SRC], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"compiling {PRIVOPS_SRC} (static) failed:\n{r.stderr}")
    return exe


class Demo:
    """exec_kill_demo on one cgroup: set() sends a stdin command and returns
    sensor_exec_kill_set()'s result; events() reads what it printed."""

    def __init__(self, tmp, cgroup, flags):
        self.out_path = os.path.join(tmp, "exec-kill-demo.out")
        self.err_path = os.path.join(tmp, "exec-kill-demo.err")
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([DEMO, cgroup, str(flags)], stdin=subprocess.PIPE,
                                     stdout=self.out, stderr=self.err, text=True)
        ready = self.wait_event("ready", timeout=20)[0]
        assert ready["rc"] == 0, ready
        self.cgroup_id = ready["cgroup_id"]

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
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {kind} event {conds} in {self.lines()}\nstderr: {self.stderr()}")

    def set(self, flags, cgroup_id=None):
        """sensor_exec_kill_set(cgroup_id or ours, flags) -> rc."""
        n = len(self.events("set"))
        cmd = f"{flags}" if cgroup_id is None else f"{cgroup_id} {flags}"
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        deadline = time.time() + 5
        while time.time() < deadline:
            sets = self.events("set")
            if len(sets) > n:
                return sets[n]["rc"]
            time.sleep(0.02)
        raise AssertionError(f"no answer to '{cmd}': {self.lines()}\n{self.stderr()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=15)
        self.out.close()
        self.err.close()


@pytest.fixture
def demo(tmp_path, demo_bin):
    started = []

    def start(cgroup, flags):
        d = Demo(str(tmp_path), cgroup, flags)
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


class Running(test_enforce.Running):
    """test_enforce's container running `sleep` (host network), with the
    static privops at /privops; sh() runs a script in it with `runc exec`
    (same cgroup)."""

    def __init__(self, c, privops):
        self.rootfs = os.path.join(c.bundle, "rootfs")
        shutil.copy(privops, os.path.join(self.rootfs, "privops"))
        super().__init__(c)

    def made(self, path):
        """Whether the container wrote /tmp/... (seen from the host)."""
        return os.path.exists(os.path.join(self.rootfs, path.lstrip("/")))


@pytest.fixture
def running(container, privops):
    made = []

    def make():
        r = Running(container(), privops)
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


def fd_exec(op, out):
    """privops OP (memfd or deleted) running a copy of busybox that writes
    `out`: the side effect that must not happen when the exec is killed."""
    return f"/privops {op} /bin/busybox sh -c 'echo ran > {out}'"


def killed(r):
    return r.returncode == 1 and "status 0x9)" in r.stderr


def ran(r):
    return r.returncode == 0 and re.search(r"^pid=\d+$", r.stdout, re.M)


def test_memfd_exec_killed_in_container_only(running, demo, privops, tmp_path):
    c = running()
    d = demo(c.cgroup, KILL_MEMFD)

    # the memfd exec dies of SIGKILL before its first instruction
    r = c.sh(fd_exec("memfd", "/tmp/memfd-1"))
    assert killed(r), f"rc {r.returncode}\n{r.stdout}{r.stderr}"
    assert not c.made("/tmp/memfd-1"), "the killed program ran"
    ev = d.wait_event("exec", exe=MEMFD_EXE)[0]
    assert ev["memfd"] and ev["killed"], ev
    d.wait_event("exit", pid=ev["pid"], exit_code=signal.SIGKILL)

    # ordinary execs in the same container, runc exec itself included
    r = c.sh("/bin/busybox sh -c 'echo ok > /tmp/normal' && /bin/cat /tmp/normal")
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr
    busy = d.wait_event("exec", exe="/bin/busybox")
    assert not any(e["killed"] for e in busy), busy

    # a file on disk merely named "memfd:..." is no memfd (busybox picks the
    # applet from argv[0]: run it through a symlink named sh)
    r = c.sh("cp /bin/busybox /tmp/memfd:x && mkdir -p /tmp/l && ln -s /tmp/memfd:x /tmp/l/sh"
             " && /tmp/l/sh -c 'echo ran > /tmp/named'")
    assert r.returncode == 0 and c.made("/tmp/named"), r.stdout + r.stderr
    ev = d.wait_event("exec", exe="/tmp/memfd:x")[0]
    assert not ev["memfd"] and not ev["killed"], ev

    # the same memfd exec on the host: not in the map, runs
    out = tmp_path / "host-memfd"
    r = subprocess.run([privops, "memfd", "/bin/busybox", "sh", "-c", f"echo ran > {out}"],
                       capture_output=True, text=True, timeout=10)
    assert ran(r) and out.exists(), r.stdout + r.stderr

    # entry removed: the container's memfd exec runs again
    assert d.set(0) == 0
    r = c.sh(fd_exec("memfd", "/tmp/memfd-2"))
    assert ran(r) and c.made("/tmp/memfd-2"), r.stdout + r.stderr
    evs = d.wait_event("exec", exe=MEMFD_EXE, killed=False)
    assert evs[0]["memfd"], evs
    assert d.set(0) == 0, "removing an absent entry is not an error"


def test_deleted_flag_and_refusals(running, demo):
    c = running()
    d = demo(c.cgroup, KILL_MEMFD)

    # memfd only: an exec of an unlinked file on disk runs
    r = c.sh(fd_exec("deleted", "/tmp/del-1"))
    assert ran(r) and c.made("/tmp/del-1"), r.stdout + r.stderr
    ev = d.wait_event("exec", deleted=True, memfd=False)[0]
    assert not ev["killed"], ev

    # deleted: that exec dies, and so does a memfd's (memfds are unlinked)
    assert d.set(KILL_DELETED) == 0
    r = c.sh(fd_exec("deleted", "/tmp/del-2"))
    assert killed(r) and not c.made("/tmp/del-2"), r.stdout + r.stderr
    ev = d.wait_event("exec", deleted=True, memfd=False, killed=True)[0]
    d.wait_event("exit", pid=ev["pid"], exit_code=signal.SIGKILL)
    r = c.sh(fd_exec("memfd", "/tmp/memfd-3"))
    assert killed(r) and not c.made("/tmp/memfd-3"), r.stdout + r.stderr
    d.wait_event("exec", exe=MEMFD_EXE, killed=True)
    r = c.sh("/bin/busybox true")
    assert r.returncode == 0, r.stdout + r.stderr

    # the API's refusals
    assert d.set(KILL_MEMFD, cgroup_id=1) == -errno.EPERM  # the v2 root
    assert d.set(KILL_MEMFD, cgroup_id=0) == -errno.EINVAL
    assert d.set(4) == -errno.EINVAL  # unknown flag bit
    assert d.set(KILL_DELETED | KILL_MEMFD) == 0
