"""Tests of tests/tools/mkrec.py: recordings it writes are valid (strict
decoder, byte-identical to the C writer) and `vigil replay --json` turns them
into the events described, with exact timestamps and attribution.

Run: /usr/bin/python3 -m pytest -q tests/tools   (needs build/vigil: `make`)."""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import mkrec  # noqa: E402
from mkrec import Recording  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
VIGIL = os.environ.get("VIGIL", os.path.join(ROOT, "build", "vigil"))
MKREC = os.path.join(HERE, "mkrec.py")


def get(d, dotted, default=None):
    for part in dotted.split("."):
        if not isinstance(d, dict) or part not in d:
            return default
        d = d[part]
    return d


def replay(path, *args):
    if not os.access(VIGIL, os.X_OK):
        pytest.fail(f"{VIGIL} not found: run `make` at the repository root")
    p = subprocess.run([VIGIL, "replay", str(path), "--json"] + list(args),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stderr == "", p.stderr  # e.g. "N malformed records skipped"
    return [json.loads(line) for line in p.stdout.splitlines()]


# ---- the format itself ----

def test_constants_match_c_headers():
    hdr = open(os.path.join(ROOT, "bpf", "vigil_event.h")).read()
    enum = dict((m.group(1).lower(), int(m.group(2)))
                for m in re.finditer(r"\bVG_([A-Z_]+) = (\d+),", hdr))
    enum.pop("type_max")
    assert enum == mkrec.TYPES
    defines = {m.group(1): int(m.group(2), 0)
               for m in re.finditer(r"#define VG_(F_\w+|ACC_\w+|ABI_VERSION) (0x[0-9a-fA-F]+|\d+)", hdr)}
    assert defines.pop("ABI_VERSION") == mkrec.ABI
    for name, val in defines.items():
        if name.startswith("F_"):
            assert getattr(mkrec, name) == val, name
    acc = {k[4:].lower(): v for k, v in defines.items() if k.startswith("ACC_")}
    assert acc == {"read": 1, "write": 2, "create": 4, "trunc": 8}
    sysc = {m.group(1): int(m.group(2)) for m in re.finditer(
        r"#define NR_(\w+) (\d+)", open(os.path.join(ROOT, "bpf", "syscalls_x86.h")).read())}
    for name, nr in mkrec.NR.items():
        assert sysc[name] == nr, name


def test_codec_roundtrip_and_bound():
    rnd = random.Random(7)
    cases = [b"", b"\0", b"\0\0", b"\0\0\0", b"a", b"a\0\0b", b"a\0\0\0b",
             b"\0\0\0\0a\0\0\0", bytes(65536), b"\xff" * 65536,
             bytes(200) + b"x" * 300 + bytes(3)]
    for _ in range(300):
        n = rnd.randrange(0, 3000)
        cases.append(bytes(rnd.choice((0, 0, 0, rnd.randrange(256))) for _ in range(n)))
    for data in cases:
        enc = mkrec.encode(data)
        assert len(enc) <= mkrec.encode_bound(len(data))
        assert mkrec.decode(enc, len(data)) == data
    with pytest.raises(ValueError):
        mkrec.frame(2, bytes(65537))


def test_file_layout():
    r = Recording(host="h", start="2026-01-01T00:00:00Z")
    cg = r.container("c1", image="i")
    r.exec(cg, 5, "/bin/true")
    data = r.to_bytes()
    assert data[:16] == b"VIGILREC\x01\0\0\0\0\0\0\0"
    frames = list(mkrec.read_frames(data))
    assert [k for _, k, _ in frames] == [1, 2, 3, 2]
    assert frames[0][2] == b"host_name=h\nboot_to_real_ns=1767224600000000000\nabi=1\n"
    sizes = [len(p) for _, k, p in frames[1:]]
    assert sizes == [1104, 968, 1368]
    for _, kind, p in frames:
        if kind == 2:
            d = mkrec.parse_record(p)
            assert d["abi"] == 1 and d["size"] == len(p)
            assert d["cgroup_id"] == cg.cgroup_id and not d["flags"] & mkrec.F_CG_V1
    # strings are NUL padded: nothing after the terminator
    ex = frames[3][2]
    exe = ex[88:88 + 256]
    assert exe.rstrip(b"\0") == b"/bin/true" and exe[9:] == bytes(247)


def test_byte_identical_to_c_writer(tmp_path):
    """The C reader accepts the file and the C writer, fed its frames,
    writes the very same bytes."""
    obj = os.path.join(ROOT, "build", "src", "record", "recording.o")
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc or not os.path.exists(obj):
        pytest.skip("needs a C compiler and build/src/record/recording.o")
    src = tmp_path / "rewrite.c"
    src.write_text(r'''
#include <stdio.h>
#include "record/recording.h"
int main(int argc, char **argv)
{
	struct rec_reader *r = rec_reader_open(argv[1]);
	struct rec_writer *w = rec_writer_open(argv[2]);
	const void *d; uint32_t k; size_t n; int rc;
	if (argc != 3 || !r || !w) return 2;
	while ((rc = rec_next(r, &k, &d, &n)) == 1)
		if (rec_write(w, k, d, n)) return 3;
	if (rc < 0) { fprintf(stderr, "%s\n", rec_reader_error(r)); return 4; }
	return rec_writer_close(w) ? 5 : 0;
}
''')
    exe = tmp_path / "rewrite"
    subprocess.run([cc, "-O1", "-I" + os.path.join(ROOT, "src"), "-I" + os.path.join(ROOT, "bpf"),
                    str(src), obj, "-lz", "-o", str(exe)], check=True)
    a, b = tmp_path / "a.vrec", tmp_path / "b.vrec"
    full_recording().write(a)
    p = subprocess.run([str(exe), str(a), str(b)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert a.read_bytes() == b.read_bytes()


# ---- replay of every action ----

START = "2026-11-02T02:00:00Z"


def full_recording(expect=None):
    """A container, a service and one event of each action, each at its own
    offset; fills expect with (action, @timestamp, {dotted field: value})."""
    r = Recording(host="node-1", start=START)
    exp = expect if expect is not None else []
    web = r.container("web1", runtime_path="/web1", image="shop/web:1.2", name="web1")
    cron = r.service("cron.service")
    t = [0]

    def step(action, checks, fn, *a, **k):
        r.at(t[0])
        exp.append((action, r.timestamp(), checks))
        fn(*a, **k)
        t[0] += 1.25

    step("exec", {"process.executable": "/usr/sbin/nginx",
                  "process.args": ["nginx", "-g", "daemon off;"], "process.args_count": 3,
                  "process.name": "nginx", "process.working_directory": "/",
                  "process.parent.executable": "/usr/bin/runc", "process.pid": 100,
                  "process.parent.pid": 1},
         r.exec, web, pid=100, ppid=1, exe="/usr/sbin/nginx",
         args=["nginx", "-g", "daemon off;"], cwd="/", parent_exe="/usr/bin/runc", uid=0)
    step("fork", {"process.pid": 101, "process.parent.pid": 100, "process.name": "nginx"},
         r.fork, web, pid=100, child=101)
    step("exit", {"process.pid": 101, "process.exit_code": 7, "event.outcome": "failure"},
         r.exit, web, pid=101, code=7)
    step("open", {"file.path": "/etc/nginx/nginx.conf", "vigil.access": ["read"],
                  "process.executable": "/usr/sbin/nginx"},
         r.open, web, 100, "/etc/nginx/nginx.conf")
    step("open", {"file.path": "/var/log/nginx/access.log", "file.mode": "0640",
                  "vigil.access": ["write", "create", "truncate"], "event.type": ["creation"],
                  "vigil.open_flags": "01101"},
         r.open, web, 100, "/var/log/nginx/access.log", access=("write", "create", "truncate"),
         mode=0o640)
    step("open", {"file.path": "/etc/shadow", "event.outcome": "failure",
                  "error.code": "EACCES"},
         r.open, web, 100, "/etc/shadow", ret="EACCES")
    step("unlink", {"file.path": "/tmp/a"}, r.file_op, web, 100, "unlink", "/tmp/a")
    step("rename", {"file.path": "/tmp/b", "file.target_path": "/tmp/c"},
         r.file_op, web, 100, "rename", "/tmp/b", "/tmp/c")
    step("chmod", {"file.path": "/tmp/c", "file.mode": "4755"},
         r.file_op, web, 100, "chmod", "/tmp/c", mode=0o4755)
    step("chown", {"file.path": "/tmp/c", "file.uid": "33", "file.gid": "33"},
         r.file_op, web, 100, "chown", "/tmp/c", owner_uid=33, owner_gid=33)
    step("link", {"file.path": "/tmp/c", "file.target_path": "/tmp/d"},
         r.file_op, web, 100, "link", "/tmp/c", "/tmp/d")
    step("symlink", {"file.path": "/tmp/e", "file.target_path": "/etc/passwd"},
         r.file_op, web, 100, "symlink", "/tmp/e", "/etc/passwd")
    step("mkdir", {"file.path": "/tmp/dir", "file.type": "dir", "file.mode": "0755"},
         r.file_op, web, 100, "mkdir", "/tmp/dir")
    step("connect", {"destination.ip": "10.1.2.3", "destination.port": 5432,
                     "network.transport": "tcp", "network.type": "ipv4"},
         r.connect, web, 100, "10.1.2.3", 5432)
    step("connect", {"destination.ip": "2001:db8::1", "destination.port": 443,
                     "network.type": "ipv6", "event.outcome": "unknown"},
         r.connect, web, 100, "2001:db8::1", 443, ret="EINPROGRESS")
    step("accept", {"source.ip": "192.168.1.10", "source.port": 51000,
                    "destination.ip": "10.0.0.2", "destination.port": 80},
         r.accept, web, 100, "192.168.1.10", 51000, "10.0.0.2", 80)
    step("bind", {"source.ip": "0.0.0.0", "source.port": 80}, r.bind, web, 100, "0.0.0.0", 80)
    step("listen", {"source.ip": "0.0.0.0", "source.port": 80},
         r.listen, web, 100, "0.0.0.0", 80)
    step("dns", {"dns.question.name": "db.shop.svc.cluster.local", "dns.question.type_code": 28,
                 "destination.ip": "10.0.0.53", "destination.port": 53,
                 "network.protocol": "dns", "network.transport": "udp"},
         r.dns, web, 100, "db.shop.svc.cluster.local", qtype="AAAA")
    # privilege events
    step("setuid", {"vigil.syscall": "setuid", "vigil.ids": [33], "user.id": "33",
                    "user.effective.id": "33"},
         r.priv, web, 100, "setuid", ids=[33])
    step("setgid", {"vigil.syscall": "setresgid", "vigil.ids": [33, 33, -1]},
         r.priv, web, 100, "setgid", ids=[33, 33, -1])
    step("capset", {"vigil.cap_effective": "0x200000", "vigil.cap_permitted": "0x200000",
                    "vigil.cap_inheritable": "0x0"},
         r.priv, web, 100, "capset", effective=["CAP_SYS_ADMIN"], permitted=["sys_admin"])
    step("ptrace", {"vigil.ptrace_request": 16, "vigil.target.pid": 1},
         r.priv, web, 100, "ptrace", target=1)
    step("mount", {"file.path": "/mnt/host", "vigil.mount_source": "/dev/sda1",
                   "vigil.fstype": "ext4", "vigil.mount_flags": "0x1"},
         r.priv, web, 100, "mount", source="/dev/sda1", target="/mnt/host", fstype="ext4",
         flags=1)
    step("umount", {"file.path": "/mnt/host", "vigil.umount_flags": "0x2"},
         r.priv, web, 100, "umount", target="/mnt/host", flags=2)
    step("unshare", {"vigil.namespaces": ["mnt", "user", "net"]},
         r.priv, web, 100, "unshare", ns=["mnt", "net", "user"])
    step("setns", {"vigil.namespaces": ["net"]},
         r.priv, web, 100, "setns", ns=["net"], inode=4026531840, file="net:[4026531840]")
    step("module_load", {"file.path": "/lib/modules/evil.ko", "vigil.module_params": "x=1"},
         r.priv, web, 100, "module_load", path="/lib/modules/evil.ko", params="x=1")
    step("bpf_load", {"vigil.bpf_prog_name": "sniff", "vigil.bpf_prog_type": 2},
         r.priv, web, 100, "bpf_load", name="sniff", prog_type="kprobe")
    step("memfd_create", {"vigil.memfd_name": "payload", "vigil.memfd_flags": "0x1"},
         r.priv, web, 100, "memfd_create", name="payload", flags=["cloexec"])
    # the host service
    step("exec", {"process.executable": "/usr/sbin/cron", "process.args": ["cron", "-f"],
                  "service.name": "cron.service", "user.id": "0"},
         r.exec, cron, pid=700, ppid=1, exe="/usr/sbin/cron", args=["cron", "-f"])
    step("exit", {"process.pid": 700, "process.exit_signal": 9},
         r.exit, cron, 700, signal=9)
    return r


def test_replay_every_action(tmp_path):
    expect = []
    r = full_recording(expect)
    path = r.write(tmp_path / "all.vrec")
    events = replay(path)
    assert len(events) == len(expect) == 32
    actions = {a for a, _, _ in expect}
    assert actions == set(mkrec.TYPES) - {"cgroup"}  # every action is covered
    for ev, (action, ts, checks) in zip(events, expect):
        assert ev["event"]["action"] == action
        assert ev["@timestamp"] == ts
        assert ev["host"]["name"] == "node-1"
        for field, want in checks.items():
            assert get(ev, field) == want, (action, field, ev)
        if action == "setns":  # str1 as ns_file (committed) or arg[2] as ns_inode (newer)
            assert (get(ev, "vigil.ns_inode") == 4026531840
                    or get(ev, "vigil.ns_file") == "net:[4026531840]"), ev
        if get(ev, "service.name"):
            assert "container" not in ev
        else:
            assert ev["container"] == {"id": "web1", "name": "web1", "runtime": "runc",
                                       "image": {"name": "shop/web:1.2"}}
    # exact clock: start + offset, 1.25 s apart
    assert events[0]["@timestamp"] == "2026-11-02T02:00:00.000000000Z"
    assert events[1]["@timestamp"] == "2026-11-02T02:00:01.250000000Z"
    assert events[-1]["@timestamp"] == "2026-11-02T02:00:38.750000000Z"
    # filters work at replay time on generated recordings too
    assert len(replay(path, "--container", "web1")) == len(expect) - 2
    assert [e["service"]["name"] for e in replay(path, "--host-only")] == ["cron.service"] * 2


def test_runtimes_and_pods(tmp_path):
    r = Recording(host="k8s-node", start="2026-03-01T12:00:00.123456789Z")
    want = {}
    for rt in mkrec.RUNTIMES:
        pod = "shop-7f9c" if rt in ("containerd", "cri-o") else None
        cg = r.container(f"app-{rt}", runtime=rt, image=f"img/{rt}:1", pod=pod,
                         namespace="prod" if pod else None)
        r.exec(cg, r.new_pid(), "/app")
        want[cg.container_id] = (rt, cg)
    docker_id = "ab" * 32
    d = r.container(docker_id, runtime="docker")  # a 64-hex id is kept, no side frame
    r.exec(d, 999, "/bin/sh")
    events = replay(r.write(tmp_path / "rt.vrec"))
    assert len(events) == 6
    for ev in events[:5]:
        rt, cg = want[ev["container"]["id"]]
        assert ev["container"]["runtime"] == rt
        assert ev["container"]["name"] == f"app-{rt}"
        assert ev["container"]["image"]["name"] == f"img/{rt}:1"
        assert ev["@timestamp"] == "2026-03-01T12:00:00.123456789Z"
        if rt in ("containerd", "cri-o"):
            assert ev["orchestrator"] == {"type": "kubernetes", "namespace": "prod",
                                          "resource": {"type": "pod", "name": "shop-7f9c",
                                                       "id": cg.pod_uid}}
        else:
            assert "orchestrator" not in ev
        if rt != "runc":
            assert re.fullmatch(r"[0-9a-f]{64}", cg.container_id)
    assert events[5]["container"] == {"id": docker_id, "name": docker_id, "runtime": "docker"}


def test_weekly_job_timestamps(tmp_path):
    """The same job every Monday at 02:00 for 3 weeks, at exact times."""
    r = Recording(host="node-1", start="2026-11-02T02:00:00Z")  # a Monday
    cron = r.service("cron.service")
    r.known_process(cron, 200, "/usr/sbin/cron")
    for week in range(3):
        r.at(f"{week}w")
        pid = r.spawn(cron, 200, "/usr/local/bin/backup.sh", ["backup.sh", f"--week={week}"])
        r.advance("90s")
        r.exit(cron, pid, code=0)
    r.at("2026-11-30T02:00:00Z")  # absolute wall time
    r.open(cron, 200, "/etc/crontab")
    with pytest.raises(ValueError):
        r.at("1w")  # backwards
    events = replay(r.write(tmp_path / "weekly.vrec"))
    assert [(e["event"]["action"], e["@timestamp"]) for e in events] == [
        ("fork", "2026-11-02T02:00:00.000000000Z"), ("exec", "2026-11-02T02:00:00.000000000Z"),
        ("exit", "2026-11-02T02:01:30.000000000Z"),
        ("fork", "2026-11-09T02:00:00.000000000Z"), ("exec", "2026-11-09T02:00:00.000000000Z"),
        ("exit", "2026-11-09T02:01:30.000000000Z"),
        ("fork", "2026-11-16T02:00:00.000000000Z"), ("exec", "2026-11-16T02:00:00.000000000Z"),
        ("exit", "2026-11-16T02:01:30.000000000Z"),
        ("open", "2026-11-30T02:00:00.000000000Z")]
    assert all(e["service"]["name"] == "cron.service" for e in events)
    # the PROC side frame told vigil what pid 200 runs
    forks = [e for e in events if e["event"]["action"] == "fork"]
    assert all(get(e, "process.parent.executable") == "/usr/sbin/cron" for e in forks)
    execs = [e for e in events if e["event"]["action"] == "exec"]
    assert [e["process"]["args"] for e in execs] == [
        ["backup.sh", "--week=0"], ["backup.sh", "--week=1"], ["backup.sh", "--week=2"]]
    assert all(e["process"]["parent"] == {"pid": 200, "executable": "/usr/sbin/cron"}
               for e in execs)
    assert get(events[-1], "process.executable") == "/usr/sbin/cron"


def test_limits_flags_and_v1(tmp_path):
    r = Recording(host="h", start="2026-01-01T00:00:00Z", tick="1ms")
    v1 = r.cgroup("/ctr-v1", v1=True)  # a v1 pids hierarchy id, runc heuristic
    deep = r.service("deep.service", path="/" + "/".join(f"s{i}.slice" for i in range(9))
                     + "/deep.service")
    r.exec(v1, 10, "/" + "x" * 300, ["a" * 300, "b" * 300], comm="averyveryverylongname")
    r.open(v1, 10, "rel/path", relative=True)
    r.exec(deep, 11, "/bin/true")
    r.priv(v1, 10, "setuid", ids=[1000, 1000], ret="EPERM")
    data = r.to_bytes()
    recs = [mkrec.parse_record(p) for _, k, p in mkrec.read_frames(data) if k == 2]
    assert all(x["flags"] & mkrec.F_CG_V1 for x in recs if x["cgroup_id"] == v1.cgroup_id)
    cgrec = [x for x in recs if x["type"] == "cgroup" and x["cgroup_id"] == deep.cgroup_id][0]
    assert cgrec["flags"] & mkrec.F_TRUNC1 and cgrec["path"].startswith("/s2.slice")
    events = replay(r.write(tmp_path / "lim.vrec"))
    ex = events[0]
    assert ex["container"]["id"] == "ctr-v1"
    assert ex["process"]["name"] == "averyveryverylo"  # comm is 15 bytes
    assert ex["process"]["args_truncated"] is True and ex["process"]["args_count"] == 2
    assert ex["process"]["args"] == ["a" * 300, "b" * 211]
    assert ex["vigil"]["path_truncated"] is True
    assert len(ex["process"]["executable"]) == 255
    assert events[1]["vigil"]["path_relative"] is True
    assert events[2]["service"]["name"] == "deep.service"
    assert events[3]["event"]["outcome"] == "failure" and events[3]["error"]["code"] == "EPERM"
    assert events[3]["user"]["id"] == "0"  # a failed setuid changes nothing
    # tick: every event moves the clock by 1 ms (cgroup records do not)
    assert [e["@timestamp"][17:29] for e in events] == [
        "00.000000000", "00.001000000", "00.002000000", "00.003000000"]


def test_announce_after_lru_eviction(tmp_path):
    r = Recording(host="h", start="2026-01-01T00:00:00Z")
    c = r.container("web2", image="nginx:1")
    r.exec(c, 1, "/bin/a")
    r.announce(c)  # the kernel re-sends the path; the side frame restores metadata
    r.exec(c, 2, "/bin/b")
    events = replay(r.write(tmp_path / "a.vrec"))
    assert [e["container"]["image"]["name"] for e in events] == ["nginx:1", "nginx:1"]


def test_api_errors():
    r = Recording()
    c = r.container("x1")
    with pytest.raises(ValueError):
        r.container("x1")
    with pytest.raises(ValueError):
        r.container("not/valid")  # runc ids need [A-Za-z0-9_.-]
    with pytest.raises(TypeError):
        r.open(c, 1, "/a", bogus=1)
    with pytest.raises(TypeError):
        r.priv(c, 1, "mount", source="x")  # target missing
    with pytest.raises(ValueError):
        r.priv(c, 1, "teleport")
    with pytest.raises(ValueError):
        r.open(c, 1, "/a", access=("exec",))
    with pytest.raises(ValueError):
        r.exit(None, 4242)  # no cgroup known for that pid
    assert r.service("cron") is r.service("cron.service")


# ---- command line ----

def test_cli_build_and_dump(tmp_path):
    spec = {
        "host": "node-9", "start": "2026-11-02T02:00:00Z",
        "steps": [
            {"op": "container", "id": "db1", "image": "postgres:16", "as": "db"},
            {"op": "service", "unit": "cron.service", "as": "cron"},
            {"op": "exec", "cg": "db", "pid": 50, "exe": "/usr/bin/postgres",
             "args": ["postgres", "-D", "/data"]},
            {"op": "listen", "cg": "db", "pid": 50, "ip": "0.0.0.0", "port": 5432, "at": "1s"},
            {"op": "setuid", "cg": "db", "pid": 50, "ids": [999]},
            {"op": "repeat", "times": 3, "every": "7d", "steps": [
                {"op": "exec", "cg": "cron", "pid": 300, "exe": "/usr/bin/backup",
                 "args": ["backup", "--week={i}"], "at": "1h"},
                {"op": "unlink", "cg": "cron", "pid": 300, "path": "/tmp/old-{i}"},
                {"op": "exit", "cg": "cron", "pid": 300, "at": "1h90s"}]},
        ]}
    sp = tmp_path / "spec.json"
    sp.write_text(json.dumps(spec))
    out = tmp_path / "spec.vrec"
    p = subprocess.run([sys.executable, MKREC, "build", str(sp), "-o", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    events = replay(out)
    assert [e["event"]["action"] for e in events] == ["exec", "listen", "setuid"] + \
        ["exec", "unlink", "exit"] * 3
    assert events[0]["container"]["image"]["name"] == "postgres:16"
    assert events[1]["@timestamp"] == "2026-11-02T02:00:01.000000000Z"
    assert events[1]["source"]["port"] == 5432
    assert [e["@timestamp"] for e in events[3::3]] == [
        "2026-11-02T03:00:01.000000000Z", "2026-11-09T03:00:01.000000000Z",
        "2026-11-16T03:00:01.000000000Z"]
    assert [e["@timestamp"] for e in events[5::3]][-1] == "2026-11-16T03:01:31.000000000Z"
    assert [e["file"]["path"] for e in events[4::3]] == ["/tmp/old-0", "/tmp/old-1", "/tmp/old-2"]
    assert events[3]["process"]["args"] == ["backup", "--week=0"]
    d = subprocess.run([sys.executable, MKREC, "dump", str(out)], capture_output=True, text=True)
    assert d.returncode == 0, d.stderr
    assert "host_name=node-9" in d.stdout and "exe='/usr/bin/postgres'" in d.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"steps": [{"op": "exec", "cg": "nope", "pid": 1, "exe": "/x"}]}))
    p = subprocess.run([sys.executable, MKREC, "build", str(bad), "-o", str(tmp_path / "x")],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "unknown cgroup handle 'nope'" in p.stderr


# ---- scale ----

def test_bench_1000_containers(tmp_path):
    t0 = time.monotonic()
    r = mkrec.bench_recording(containers=1000, events=20)
    path = r.write(tmp_path / "bench.vrec")
    elapsed = time.monotonic() - t0
    assert elapsed < 10, f"writing took {elapsed:.1f} s"
    assert len(r.containers) == 1000
    events = replay(path)
    assert len(events) == 20000
    per = {}
    for e in events:
        cid = get(e, "container.id")
        assert cid is not None, e
        per[cid] = per.get(cid, 0) + 1
    assert set(per) == set(r.containers)
    assert set(per.values()) == {20}
    names = {get(e, "container.name") for e in events}
    assert names == {f"app-{i:05d}" for i in range(1000)}
    runtimes = {get(e, "container.runtime") for e in events}
    assert runtimes == set(mkrec.RUNTIMES)


def test_cli_bench(tmp_path):
    out = tmp_path / "b.vrec"
    p = subprocess.run([sys.executable, MKREC, "bench", "-n", "25", "-e", "12", "-o", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    events = replay(out)
    assert len(events) == 300
    assert len({e["container"]["id"] for e in events}) == 25


def test_container_labels_frame():
    # with pod labels: today's 1480-byte frame, labels sorted "k=v,k=v";
    # without: the original 968-byte frame (Vigil reads both)
    r = Recording(host="h", start="2026-01-01T00:00:00Z")
    cg = r.container("c1", image="i", labels={"tier": "web", "app": "shop"})
    r.container("c2", image="j")
    assert cg.labels == "app=shop,tier=web"
    frames = [p for _, k, p in mkrec.read_frames(r.to_bytes()) if k == 3]
    assert [len(p) for p in frames] == [1480, 968]
    labels = mkrec.SIDE_CONTAINER_LABELS.unpack(frames[0])[7]
    assert labels.rstrip(b"\0") == b"app=shop,tier=web"
    assert mkrec.SIDE_CONTAINER.unpack(frames[0][:968])[2].rstrip(b"\0") == b"i"
    assert r.container("c3", labels="b=2,a=1").labels == "a=1,b=2"
    assert r.container("c4", labels=["x=1"]).labels == "x=1"
    for bad in ({"a,b": "1"}, {"a": "1,2"}, {"": "x"}, {"k": "v" * 600}):
        with pytest.raises(ValueError):
            r.container(f"bad{len(r.containers)}", labels=bad)
