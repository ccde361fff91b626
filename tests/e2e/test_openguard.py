"""File-open enforcement (fanotify FAN_OPEN_PERM inode marks in
src/enforce/execguard.c) and container kill / freeze (src/enforce/cgaction.c)
on the real kernel with real runc containers, driven by
tests/e2e/helpers/guard_demo.c (--watch, --deny-open, --deny-open-write) and
tests/e2e/helpers/cgaction_demo.c.

The containers' rootfs is a plain host directory (bundle/rootfs), so a file
the container opens is the very inode the host opens at
bundle/rootfs/...: marks are per inode, and the host must stay unaffected."""
import errno
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import ROOT
from test_enforce import guard, guard_bin, running  # noqa: F401 (fixtures)

CGACTION = os.path.join(ROOT, "build", "tests", "cgaction_demo")
O_WRONLY, O_CREAT, O_TRUNC, O_APPEND = 0o1, 0o100, 0o1000, 0o2000

# openat2 / second-thread opener, built static and copied into a rootfs
OPEN2_SRC = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *path;
static int flags, err;

static void *opener(void *arg)
{
    int fd = openat(AT_FDCWD, path, flags);

    (void)arg;
    err = fd < 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* open2 r|w|tr|tw PATH: openat2 read / write-append, or openat from a
 * second thread; prints ok or err=ERRNO */
int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    path = argv[2];
    flags = strchr(argv[1], 'w') ? O_WRONLY | O_APPEND : O_RDONLY;
    if (argv[1][0] == 't') {
        pthread_t t;

        pthread_create(&t, NULL, opener, NULL);
        pthread_join(t, NULL);
    } else {
        struct open_how how;
        int fd;

        memset(&how, 0, sizeof(how));
        how.flags = flags;
        fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
        err = fd < 0 ? errno : 0;
    }
    if (err)
        printf("err=%d\n", err);
    else
        printf("ok\n");
    return 0;
}
"""


@pytest.fixture(scope="module")
def cgaction_bin():
    r = subprocess.run(["make", "-s", "build/tests/cgaction_demo"], cwd=ROOT, capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.fail("cannot build cgaction_demo:\n" + r.stdout + r.stderr)
    return CGACTION


@pytest.fixture(scope="module")
def open2_bin(tmp_path_factory):
    d = tmp_path_factory.mktemp("open2")
    src = d / "open2.c"
    src.write_text(OPEN2_SRC)
    r = subprocess.run(["gcc", "-O2", "-static", "-pthread", "-o", str(d / "open2"), str(src)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("no static toolchain for the openat2 helper: " + r.stderr)
    return str(d / "open2")


def rootfs(c):
    return os.path.join(c.c.bundle, "rootfs")


def proc_root(c):
    return f"/proc/{c.pid}/root"


def refused(r):
    text = r.stdout + r.stderr
    return "Operation not permitted" in text or "Permission denied" in text


CGMOUNT = "/sys/fs/cgroup/unified" if os.path.ismount("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"


def cgfile(cgroup, name, missing=None):
    """A cgroup file's text; missing when the cgroup is gone (runc removes
    it once its container died), if given."""
    try:
        with open(CGMOUNT + cgroup + "/" + name) as f:
            return f.read()
    except OSError as e:
        # ENOENT: removed; ENODEV: removed between open and read
        if missing is None or e.errno not in (errno.ENOENT, errno.ENODEV):
            raise
        return missing


def cgaction(*args):
    r = subprocess.run([CGACTION] + list(args), capture_output=True, text=True, timeout=30)
    return json.loads(r.stdout)


def gone(pid, timeout=5):
    """True once pid no longer runs (exited; a zombie counts as gone)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        except OSError as e:
            if e.errno != errno.ESRCH:
                raise
            return True
        time.sleep(0.05)
    return False


def test_open_denied_same_dir_fine_host_unaffected(running, guard):
    c = running()
    etc = os.path.join(rootfs(c), "etc")
    g = guard("--cgroup", c.cgroup, "--no-net", "--no-exec", "--report-allowed",
              "--watch", proc_root(c) + "/etc", "--deny-open", "/etc/shadow", "--deny-open",
              "/etc/late-*")
    assert g.events("ready")[0]["watched"] == 1

    r = c.sh("cat /etc/shadow; echo rc=$?")
    assert "rc=1" in r.stdout and refused(r), r
    assert "root:" not in r.stdout, r  # nothing was read
    r = c.sh("cat /etc/passwd; echo rc=$?")
    assert "rc=0" in r.stdout and "root:x:0:0" in r.stdout, r

    # the host opens the same inode meanwhile, unasked
    host = os.path.join(etc, "shadow")
    assert os.stat(host).st_ino == os.stat(proc_root(c) + "/etc/shadow").st_ino
    with open(host) as f:
        assert f.read().startswith("root:*")

    # a file created after the mark, in the watched directory: covered
    with open(os.path.join(etc, "late-secret"), "w") as f:
        f.write("late\n")
    r = c.sh("cat /etc/late-secret; echo rc=$?")
    assert "rc=1" in r.stdout and refused(r) and "late" not in r.stdout, r

    d = g.wait_event("open", outcome="denied", path="/etc/shadow")[0]
    assert d["op"] == "open" and d["flags_known"] == 1 and d["access"] == "read", d
    assert d["comm"] == "cat" and d["proc_exe"] == "/bin/busybox", d
    assert d["pid"] > 0 and d["cgroup"] == c.cgroup, d
    g.wait_event("open", outcome="denied", path="/etc/late-secret")
    ok = g.wait_event("open", outcome="allowed", path="/etc/passwd")
    assert any(e["comm"] == "cat" for e in ok), ok
    counters = g.stop()
    assert counters["exec"]["denied"] == 2, counters
    assert counters["exec"]["failed"] == 0 and counters["exec"]["late"] == 0, counters
    assert counters["exec"]["opens"] >= 3 and counters["exec"]["watches"] == 1, counters


def test_hard_link_to_watched_inode_is_judged(running, guard):
    """A mark is on the inode: opening it under another name (a hard link
    made in the container) is an event too; guard_demo judges it by the
    watched name."""
    c = running()
    g = guard("--cgroup", c.cgroup, "--no-net", "--no-exec", "--watch",
              proc_root(c) + "/etc/shadow", "--deny-open", "/etc/shadow")
    r = c.sh("ln /etc/shadow /tmp/s && cat /tmp/s; echo rc=$?")
    assert "rc=1" in r.stdout and refused(r) and "root:" not in r.stdout, r
    g.wait_event("open", outcome="denied", path="/tmp/s")
    g.stop()


def test_write_only_deny(running, guard, open2_bin):
    c = running()
    conf = os.path.join(rootfs(c), "etc", "app.conf")
    with open(conf, "w") as f:
        f.write("keep=1\n")
    subprocess.run(["cp", open2_bin, os.path.join(rootfs(c), "bin", "open2")], check=True)
    g = guard("--cgroup", c.cgroup, "--no-net", "--no-exec", "--report-allowed",
              "--watch", proc_root(c) + "/etc/app.conf", "--deny-open-write", "/etc/app.conf")

    r = c.sh("cat /etc/app.conf; echo rc=$?")
    assert "keep=1" in r.stdout and "rc=0" in r.stdout, r
    r = c.sh("echo x > /etc/app.conf; echo rc=$?")
    assert "rc=0" not in r.stdout and refused(r), r
    r = c.sh("echo x >> /etc/app.conf; echo rc=$?")
    assert "rc=0" not in r.stdout and refused(r), r
    # refused before O_TRUNC: nothing was truncated or appended
    with open(conf) as f:
        assert f.read() == "keep=1\n"

    # openat2 (flags read from the caller's memory) and a second thread
    r = c.sh("/bin/open2 r /etc/app.conf; /bin/open2 w /etc/app.conf; "
             "/bin/open2 tr /etc/app.conf; /bin/open2 tw /etc/app.conf")
    assert r.stdout.split() == ["ok", "err=1", "ok", "err=1"], (
        r, [(e["flags_known"], e["flags"], e["outcome"], e["reason"])
            for e in g.events("open", comm="open2")], g.stderr())

    trunc = g.wait_event("open", outcome="denied", comm="sh")
    flags = [e["flags"] for e in trunc]
    assert O_WRONLY | O_CREAT | O_TRUNC in flags and O_WRONLY | O_CREAT | O_APPEND in flags, trunc
    assert all(e["access"] == "write" and e["flags_known"] == 1 for e in trunc), trunc
    reads = g.wait_event("open", outcome="allowed", comm="cat", path="/etc/app.conf")
    assert reads[0]["access"] == "read" and reads[0]["proc_exe"] == "/bin/busybox", reads
    o2 = g.wait_event("open", comm="open2")
    o2 = [e for e in o2 if e["path"] == "/etc/app.conf"]
    assert len(o2) == 4, o2
    by = {(e["flags_known"], e["access"], e["tid"] != e["pid"]): e["outcome"] for e in o2}
    # openat2: user-memory flags (2); threads: the waiting thread's registers (1)
    assert by == {(2, "read", False): "allowed", (2, "write", False): "denied",
                  (1, "read", True): "allowed", (1, "write", True): "denied"}, o2
    counters = g.stop()
    assert counters["exec"]["flags_unknown"] == 0, counters


def test_shadow_mode_reports_and_allows(running, guard):
    c = running()
    g = guard("--cgroup", c.cgroup, "--no-net", "--no-exec", "--mode", "shadow",
              "--watch", proc_root(c) + "/etc/shadow", "--deny-open", "/etc/shadow")
    r = c.sh("cat /etc/shadow")
    assert r.returncode == 0 and "root:*" in r.stdout, r
    w = g.wait_event("open", outcome="would_deny", path="/etc/shadow")
    assert w[0]["comm"] == "cat", w
    counters = g.stop()
    assert counters["exec"]["denied"] == 0 and counters["exec"]["would_deny"] >= 1, counters


def test_tree_watch_and_unwatch(running, guard):
    c = running()
    srv = os.path.join(rootfs(c), "srv")
    os.makedirs(os.path.join(srv, "a", "b"))
    for p in ("top.txt", "a/b/deep.txt"):
        with open(os.path.join(srv, p), "w") as f:
            f.write("data\n")
    g = guard("--cgroup", c.cgroup, "--no-net", "--no-exec", "--watch", proc_root(c) + "/srv/**",
              "--deny-open", "/srv/**")
    assert g.events("ready")[0]["watched"] == 3  # srv, srv/a, srv/a/b

    # created after the walk: a file in a watched directory is covered, a
    # file in a new directory is not (documented)
    with open(os.path.join(srv, "a", "new.txt"), "w") as f:
        f.write("data\n")
    os.makedirs(os.path.join(srv, "later"))
    with open(os.path.join(srv, "later", "x.txt"), "w") as f:
        f.write("data\n")
    r = c.sh("for f in /srv/top.txt /srv/a/b/deep.txt /srv/a/new.txt /srv/later/x.txt; do "
             "cat $f > /dev/null 2>&1 && echo $f=ok || echo $f=refused; done")
    assert r.stdout.split() == ["/srv/top.txt=refused", "/srv/a/b/deep.txt=refused",
                                "/srv/a/new.txt=refused", "/srv/later/x.txt=ok"], r

    # SIGHUP: guard_demo undoes its registrations; the marks go away
    g.proc.send_signal(signal.SIGHUP)
    u = g.wait_event("unwatched")[0]
    assert u["failed"] == 0 and u["watches"] == 0, u
    r = c.sh("cat /srv/top.txt /srv/a/b/deep.txt")
    assert r.returncode == 0 and r.stdout == "data\ndata\n", r
    counters = g.stop()
    assert counters["exec"]["watch_stale"] == 0, counters


def test_budget_late_and_fail_open_on_sigkill(running, guard):
    c = running()
    shadow = proc_root(c) + "/etc/shadow"
    g = guard("--cgroup", c.cgroup, "--no-net", "--no-exec", "--watch", shadow, "--deny-open",
              "/etc/shadow", "--slow-ms", "400", "--budget-ms", "50")
    t0 = time.time()
    r = c.sh("cat /etc/shadow")
    assert r.returncode == 0 and "root:*" in r.stdout, r
    assert time.time() - t0 < 5
    g.wait_event("open", outcome="late", path="/etc/shadow")
    counters = g.stop()
    assert counters["exec"]["late"] >= 1 and counters["exec"]["denied"] == 0, counters

    # an open waiting for a (very slow) decision goes on when the guard dies
    g = guard("--cgroup", c.cgroup, "--no-net", "--no-exec", "--watch", shadow, "--deny-open",
              "/etc/shadow", "--slow-ms", "30000", "--budget-ms", "60000")
    p = subprocess.Popen(["runc", "exec", c.c.id, "/bin/cat", "/etc/shadow"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert p.poll() is None, "the open did not wait for the decision"
    g.proc.kill()
    g.proc.wait(timeout=10)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0 and out.startswith("root:*"), (out, err)


def test_host_fast_path_stays_cheap(running, guard, tmp_path):
    """Host opens of a watched inode are answered by the reader without
    decide(): count them and bound their cost."""
    c = running()
    host = os.path.join(rootfs(c), "etc", "passwd")
    plain = str(tmp_path / "plain")
    with open(plain, "w") as f:
        f.write("x\n")
    g = guard("--cgroup", c.cgroup, "--no-net", "--no-exec", "--watch", proc_root(c) + "/etc/passwd",
              "--deny-open", "/etc/passwd")
    n = 2000

    def loop(path):
        t0 = time.perf_counter()
        for _ in range(n):
            os.close(os.open(path, os.O_RDONLY))
        return (time.perf_counter() - t0) / n * 1e6

    plain_us, watched_us = loop(plain), loop(host)
    counters = g.stop()
    print(f"open: unwatched {plain_us:.1f} us, watched (host, fast path) {watched_us:.1f} us")
    assert counters["exec"]["opens"] >= n and counters["exec"]["checked"] == 0, counters
    assert counters["exec"]["fast"] >= n, counters
    assert watched_us < 1000, (plain_us, watched_us)


def test_kill_cgroup_kills_every_process(running, cgaction_bin):
    for how in ("kill", "kill-procs"):
        c = running()
        r = c.sh("for i in 1 2 3; do sleep 1000 </dev/null >/dev/null 2>&1 & done; echo started")
        assert "started" in r.stdout, r
        pids = cgfile(c.cgroup, "cgroup.procs").split()
        assert len(pids) >= 4, pids  # the container's sleep and three more
        res = cgaction(how, c.cgroup, "--timeout-ms", "5000")
        assert res["rc"] == 0, res
        assert cgfile(c.cgroup, "cgroup.procs", "").split() == [], how
        assert "populated 1" not in cgfile(c.cgroup, "cgroup.events", ""), how
        assert all(gone(p) for p in pids), (how, pids)
        c.runner.wait(timeout=10)  # runc run saw its container die


def test_kill_refusals(cgaction_bin, tmp_path):
    assert cgaction("kill", "/")["rc"] == -1  # EPERM: the root cgroup
    assert cgaction("kill-pid", "1")["rc"] == -1
    assert cgaction("kill", "/no-such-cgroup-vigil")["rc"] == -2
    assert cgaction("freeze", "/../x")["rc"] == -22
    # the agent's own cgroup and its ancestors
    base = CGMOUNT
    name = f"/vigil-cgaction-{os.getpid()}"
    os.makedirs(base + name + "/sub")
    try:
        script = (f"echo $$ > {base}{name}/sub/cgroup.procs; "
                  f"{CGACTION} kill {name}; {CGACTION} kill-procs {name}/sub; {CGACTION} freeze {name}")
        r = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30)
        res = [json.loads(line) for line in r.stdout.splitlines()]
        assert [x["rc"] for x in res] == [-1, -1, -1], res
    finally:
        os.rmdir(base + name + "/sub")
        os.rmdir(base + name)


def test_freeze_and_thaw(running, cgaction_bin):
    c = running()
    tick = os.path.join(rootfs(c), "tmp", "tick")
    r = c.sh("(while :; do echo t >> /tmp/tick; sleep 0.05; done) </dev/null >/dev/null 2>&1 & "
             "echo started")
    assert "started" in r.stdout, r
    time.sleep(0.3)
    assert os.path.getsize(tick) > 0

    res = cgaction("freeze", c.cgroup, "--timeout-ms", "5000")
    assert res["rc"] == 0, res
    assert "frozen 1" in cgfile(c.cgroup, "cgroup.events")
    size = os.path.getsize(tick)
    time.sleep(0.5)
    assert os.path.getsize(tick) == size, "a frozen container kept running"
    for p in cgfile(c.cgroup, "cgroup.procs").split():
        with open(f"/proc/{p}/stat") as f:
            assert f.read().rsplit(")", 1)[1].split()[0] in ("S", "D"), p

    res = cgaction("thaw", c.cgroup, "--timeout-ms", "5000")
    assert res["rc"] == 0, res
    assert "frozen 0" in cgfile(c.cgroup, "cgroup.events")
    time.sleep(0.5)
    assert os.path.getsize(tick) > size, "the container did not resume"
