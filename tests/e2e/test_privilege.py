"""Privilege events on the real kernel: set*id, capset, ptrace, mount/umount,
unshare/setns, module and BPF program loads, memfd_create, and execs of a
memfd or of a deleted file.

helpers/privops.c performs one operation per run and prints who did it
("pid=N", plus "target=", "dir=", "file=" ... per operation); each test
traces one run and checks the event Vigil reported for it, field by field."""
import errno
import json
import os
import subprocess

import pytest

from conftest import find, get

HELPER_SRC = os.path.join(os.path.dirname(__file__), "helpers", "privops.c")
CAP_NET_RAW = 13
PTRACE_ATTACH, PTRACE_DETACH = 16, 17
SOCKET_FILTER = 1  # BPF_PROG_TYPE_SOCKET_FILTER


@pytest.fixture(scope="module")
def privops(tmp_path_factory):
    exe = str(tmp_path_factory.mktemp("privops") / "privops")
    r = subprocess.run(["gcc", "-Wall", "-Wextra", "-Werror", "-O2", "-o", exe, HELPER_SRC],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"compiling {HELPER_SRC} failed:\n{r.stderr}")
    return exe


def run_op(privops, op):
    """Runs the helper; returns its key=value lines (numbers as int)."""
    r = subprocess.run([privops, op], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, f"privops {op} failed (rc {r.returncode}):\n{r.stdout}{r.stderr}"
    out = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition("=")
        out[k] = int(v) if v.lstrip("-").isdigit() else v
    assert "pid" in out, f"privops {op} printed no pid:\n{r.stdout}"
    return out


def traced(tracer, privops, op):
    """Traces one run of the helper: (helper output, events, tracer)."""
    t = tracer("--type", "privilege,process")
    assert t.proc.poll() is None, "vigil trace did not start"
    info = run_op(privops, op)
    evs = t.stop()
    return info, evs, t


def near_misses(evs, t, action, pid):
    """Text for a failed match: the events of that action, then the pid's."""
    same = find(evs, event__action=action)
    mine = [e for e in evs if get(e, "process.pid") == pid and e not in same]
    lines = [f"{len(same)} '{action}' event(s) of {len(evs)}:"]
    lines += ["  " + json.dumps(e, sort_keys=True) for e in same[:20]]
    lines.append(f"other events from pid {pid}:")
    lines += ["  " + json.dumps(e, sort_keys=True) for e in mine[:20]]
    lines.append("vigil stderr: " + t.stderr.strip())
    return "\n".join(lines)


def expect(evs, t, action, pid, **fields):
    """The one event of `action` from `pid` whose dotted fields (a__b for
    a.b) equal `fields`; fails listing the near misses when there is none."""
    cands = find(evs, event__action=action, process__pid=pid)
    hits = find(cands, **fields)
    assert hits, (f"no '{action}' event from pid {pid} with "
                  + ", ".join(f"{k.replace('__', '.')}={v!r}" for k, v in fields.items())
                  + "\n" + near_misses(evs, t, action, pid))
    e = hits[0]
    assert get(e, "process.name") == "privops" or action == "exec", \
        f"process.name {get(e, 'process.name')!r}, want 'privops'\n{json.dumps(e)}"
    assert "privilege" in get(e, "event.category", []) or action == "exec", json.dumps(e)
    return e


@pytest.mark.parametrize("op,syscall", [("setuid", "setresuid"), ("setgid", "setresgid")])
def test_set_id(tracer, privops, op, syscall):
    info, evs, t = traced(tracer, privops, op)
    e = expect(evs, t, op, info["pid"], event__outcome="success", vigil__syscall=syscall)
    assert get(e, "vigil.ids") == [65534, 65534, 65534], \
        f"vigil.ids {get(e, 'vigil.ids')!r}\n{json.dumps(e)}"
    assert get(e, "error") is None, json.dumps(e)


def test_capset(tracer, privops):
    info, evs, t = traced(tracer, privops, "capset")
    e = expect(evs, t, "capset", info["pid"], event__outcome="success")
    eff = int(get(e, "vigil.cap_effective"), 16)
    prm = int(get(e, "vigil.cap_permitted"), 16)
    inh = int(get(e, "vigil.cap_inheritable"), 16)
    assert not eff & (1 << CAP_NET_RAW), f"CAP_NET_RAW still effective: {json.dumps(e)}"
    # exactly the sets the helper passed (permitted keeps CAP_NET_RAW)
    assert (eff, prm, inh) == (int(info["effective"], 16), int(info["permitted"], 16),
                               int(info["inheritable"], 16)), \
        f"helper passed {info}\ngot {json.dumps(e)}"
    assert prm & (1 << CAP_NET_RAW)


def test_ptrace(tracer, privops):
    info, evs, t = traced(tracer, privops, "ptrace")
    target = info["target"]
    expect(evs, t, "ptrace", info["pid"], event__outcome="success",
           vigil__target__pid=target, vigil__ptrace_request=PTRACE_ATTACH)
    expect(evs, t, "ptrace", info["pid"], event__outcome="success",
           vigil__target__pid=target, vigil__ptrace_request=PTRACE_DETACH)


def test_mount_umount(tracer, privops):
    info, evs, t = traced(tracer, privops, "mount")
    d = info["dir"]
    m = expect(evs, t, "mount", info["pid"], event__outcome="success", file__path=d,
               vigil__fstype="tmpfs", vigil__mount_source="vigiltmpfs")
    assert get(m, "vigil.mount_flags") == "0x0", json.dumps(m)
    u = expect(evs, t, "umount", info["pid"], event__outcome="success", file__path=d)
    assert get(u, "vigil.umount_flags") == "0x0", json.dumps(u)
    assert evs.index(m) < evs.index(u), "umount reported before mount"


@pytest.mark.parametrize("op", ["unshare", "setns"])
def test_namespaces(tracer, privops, op):
    info, evs, t = traced(tracer, privops, op)
    e = expect(evs, t, op, info["pid"], event__outcome="success")
    assert "uts" in get(e, "vigil.namespaces", []), json.dumps(e)
    # CLONE_NEWUTS alone was asked for
    assert get(e, "vigil.namespaces") == ["uts"], json.dumps(e)


def test_module_load(tracer, privops):
    info, evs, t = traced(tracer, privops, "module")
    assert info["ret"] < 0, f"finit_module of an empty file succeeded? {info}"
    e = expect(evs, t, "module_load", info["pid"], event__outcome="failure",
               file__path=info["file"])
    assert get(e, "error.code") == errno.errorcode[info["errno"]], \
        f"helper saw errno {info['errno']}\n{json.dumps(e)}"


def test_bpf_load(tracer, privops):
    info, evs, t = traced(tracer, privops, "bpf")
    expect(evs, t, "bpf_load", info["pid"], event__outcome="success",
           vigil__bpf_prog_name="vigil_test", vigil__bpf_prog_type=SOCKET_FILTER)


def test_memfd_exec(tracer, privops):
    info, evs, t = traced(tracer, privops, "memfd")
    m = expect(evs, t, "memfd_create", info["creator"], event__outcome="success",
               vigil__memfd_name="vigil-memfd")
    assert get(m, "vigil.memfd_flags") == "0x0", json.dumps(m)
    x = expect(evs, t, "exec", info["pid"], event__outcome="success", vigil__exe_memfd=True)
    assert get(x, "process.parent.pid") == info["creator"], json.dumps(x)


def test_deleted_exec(tracer, privops):
    info, evs, t = traced(tracer, privops, "deleted")
    x = expect(evs, t, "exec", info["pid"], event__outcome="success", vigil__exe_deleted=True)
    assert get(x, "process.executable", "").startswith(info["file"]), json.dumps(x)
    assert get(x, "vigil.exe_memfd") is None, json.dumps(x)
