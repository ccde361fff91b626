"""Record then replay gives the JSON live tracing gave, byte for byte;
damaged recordings replay their complete prefix and then fail clearly."""
import os
import subprocess

from conftest import VIGIL, get


def record_workload(tracer, container, path):
    c = container()
    t = tracer("--record", path)
    c.run("cat /etc/hostname; echo x > /tmp/a; mv /tmp/a /tmp/b; ls /nonexistent; exit 3")
    subprocess.run(["sh", "-c", "cat /etc/hostname >/dev/null"], check=True)
    t.stop()
    return c, t


def replay(path, *args):
    return subprocess.run([VIGIL, "replay", path, "--json"] + list(args),
                          capture_output=True, text=True)


def test_replay_matches_live(tracer, container, tmp_path):
    path = str(tmp_path / "r.vrec")
    c, t = record_workload(tracer, container, path)
    assert t.lines, "live trace printed nothing"
    r = replay(path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == t.lines
    # the container's events are in there, attributed
    assert any(get(e, "container.id") == c.id for e in t.events)
    # filters apply at replay time too
    rc = replay(path, "--container", c.id)
    lines = rc.stdout.splitlines()
    assert lines and all(f'"id":"{c.id}"' in line for line in lines)


def test_replay_needs_no_root(tracer, container, tmp_path):
    path = str(tmp_path / "r.vrec")
    _, t = record_workload(tracer, container, path)
    with open(path, "rb") as f:  # from stdin: the unprivileged user needs no path access
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            VIGIL, "replay", "-", "--json"], stdin=f, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == t.lines


def test_truncated_recording_replays_prefix(tracer, container, tmp_path):
    path = str(tmp_path / "r.vrec")
    _, t = record_workload(tracer, container, path)
    full = replay(path).stdout.splitlines()
    data = open(path, "rb").read()
    cut = str(tmp_path / "cut.vrec")
    with open(cut, "wb") as f:
        f.write(data[: len(data) * 2 // 3 - 5])
    r = replay(cut)
    assert r.returncode == 3
    assert "truncated frame at offset" in r.stderr
    got = r.stdout.splitlines()
    assert 0 < len(got) < len(full)
    assert got == full[: len(got)]


def test_corrupt_recording_is_reported(tracer, container, tmp_path):
    path = str(tmp_path / "r.vrec")
    record_workload(tracer, container, path)
    data = bytearray(open(path, "rb").read())
    pos = len(data) // 2
    data[pos] ^= 0xFF
    bad = str(tmp_path / "bad.vrec")
    open(bad, "wb").write(bytes(data))
    r = replay(bad)
    assert r.returncode == 3
    assert "offset" in r.stderr and ("corrupt" in r.stderr or "truncated" in r.stderr)


def test_not_a_recording(tmp_path):
    p = tmp_path / "x"
    p.write_text("hello world, not a recording\n")
    r = replay(str(p))
    assert r.returncode == 3
    assert "not a Vigil recording" in r.stderr
    r = replay(str(tmp_path / "missing"))
    assert r.returncode == 1 and "No such file" in r.stderr
