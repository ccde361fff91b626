"""Flight recorder end to end: the evidence outlives the container.

(a) a real runc container runs a multi-step attack, exits and is deleted;
    `vigil history`, `vigil tree` and `vigil incident export/show` then show
    every step with exact paths, args and exit codes (also while the agent
    still runs: events are durable within about 2 s);
(b) retention by age and by size, with recordings on a controlled clock;
(c) kill -9 of the agent at random times during heavy writes, 5 times:
    the database passes PRAGMA integrity_check and stays queryable, and the
    next start turns the chunks left open into compressed ones;
(d) a full disk (a 2 MiB tmpfs as the data dir): the agent exits 0,
    reports the drops once as an ALERT line and an alert document, and the
    store stays readable."""
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import VIGIL, get

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from mkrec import Recording, bench_recording  # noqa: E402

MKREC = os.path.join(os.path.dirname(__file__), "..", "tools", "mkrec.py")


def vigil(*args, check=True):
    r = subprocess.run([VIGIL] + [str(a) for a in args], capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, (args, r.returncode, r.stderr)
    return r


def integrity(db):
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def query(db, sql):
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def history_json(data, *args):
    out = vigil("history", "--data-dir", data, "--json", *args).stdout
    return [json.loads(line) for line in out.splitlines()]


ATTACK = ("cat /etc/shadow > /dev/null; cp /bin/busybox /tmp/x; /tmp/x echo pwned; "
          "nc 127.0.0.1 {port} < /dev/null; sh -c 'exit 3'; exit 0")


def test_attack_in_deleted_container(tmp_path, container):
    data, alerts = str(tmp_path / "data"), str(tmp_path / "alerts.json")
    errf = open(tmp_path / "agent.err", "w+")
    agent = subprocess.Popen([VIGIL, "run", "--data-dir", data, "--alerts", alerts, "--quiet",
                              "--learn-min", "1h", "--learn-settle", "1h"],
                             stdout=subprocess.DEVNULL, stderr=errf)
    try:
        deadline = time.time() + 20
        while "vigil: running" not in open(tmp_path / "agent.err").read():
            assert agent.poll() is None and time.time() < deadline, "agent did not start"
            time.sleep(0.05)
        port = random.randint(20000, 30000)
        c = container()
        c.config["linux"]["namespaces"] = [n for n in c.config["linux"]["namespaces"]
                                           if n["type"] != "network"]
        r = c.run(ATTACK.format(port=port))
        assert r.returncode == 0, r.stderr
        c.delete()  # the container is gone
        assert subprocess.run(["runc", "state", c.id], capture_output=True).returncode != 0

        # durable within ~2 s while the agent still runs
        def steps_seen():  # exit 1 until the first write
            r = vigil("history", "--data-dir", data, "--json", "--container", c.id, check=False)
            evs = [json.loads(line) for line in r.stdout.splitlines()]
            return [e for e in evs if get(e, "event.action") == "exit" and
                    get(e, "process.exit_code") == 3]
        deadline = time.time() + 10
        while not steps_seen():
            assert time.time() < deadline, "events not stored within 10 s"
            time.sleep(0.25)
    finally:
        agent.send_signal(signal.SIGINT)
        agent.wait(timeout=30)
    errf.seek(0)
    err = errf.read()
    assert "vigil: recorder: stored=" in err, err
    assert " dropped=0 " in err and " write_errors=0 " in err, err

    evs = history_json(data, "--container", c.id)
    assert all(get(e, "container.id") == c.id for e in evs)

    def execs(args):
        return [e for e in evs if get(e, "event.action") == "exec" and get(e, "process.args") == args]
    assert execs(["cat", "/etc/shadow"]), "cat step"
    assert [e for e in evs if get(e, "event.action") == "open" and get(e, "file.path") == "/etc/shadow"]
    writes = [e for e in evs if get(e, "event.action") == "open" and get(e, "file.path") == "/tmp/x"]
    assert writes and "create" in get(writes[0], "vigil.access"), "cp wrote /tmp/x"
    dropped = execs(["/tmp/x", "echo", "pwned"])
    assert dropped and get(dropped[0], "process.executable") == "/tmp/x"
    assert execs(["nc", "127.0.0.1", str(port)]), "nc step"
    conns = [e for e in evs if get(e, "event.action") == "connect"]
    assert [e for e in conns if get(e, "destination.ip") == "127.0.0.1" and
            get(e, "destination.port") == port]
    assert [e for e in evs if get(e, "event.action") == "exit" and get(e, "process.exit_code") == 3]

    # filters: --type, --grep, --since/--until, text output
    files = history_json(data, "--container", c.id, "--type", "file")
    assert files and all("file" in get(e, "event.category") for e in files)
    assert len(history_json(data, "--container", c.id, "--grep", "/tmp/x")) >= 2
    t_nc = get(execs(["nc", "127.0.0.1", str(port)])[0], "@timestamp")
    after = history_json(data, "--container", c.id, "--since", t_nc)
    assert after and all(get(e, "@timestamp") >= t_nc for e in after)
    assert not execs(["cat", "/etc/shadow"])[0] in after
    assert history_json(data, "--container", c.id, "--since", "1h", "--until", "59m") == []
    text = vigil("history", "--data-dir", data, "--container", c.id).stdout
    assert "/tmp/x [/tmp/x echo pwned]" in text and "/etc/shadow" in text

    # the process tree, with args and exit codes
    tree = vigil("tree", "--data-dir", data, "--container", c.id).stdout
    lines = tree.splitlines()
    assert [ln for ln in lines if "[cat /etc/shadow]" in ln and " exit 0 at " in ln], tree
    assert [ln for ln in lines if "/tmp/x [/tmp/x echo pwned]" in ln and " exit 127 at " in ln], tree
    assert [ln for ln in lines if f"[nc 127.0.0.1 {port}]" in ln and " exit 1 at " in ln], tree
    assert [ln for ln in lines if '[sh -c "exit 3"]' in ln and " exit 3 at " in ln], tree
    sh = [ln for ln in lines if "cat /etc/shadow > /dev/null" in ln][0]
    child = [ln for ln in lines if "[cat /etc/shadow]" in ln][0]
    assert len(child) - len(child.lstrip()) > len(sh) - len(sh.lstrip()), "child indented under sh"
    tj = json.loads(vigil("tree", "--data-dir", data, "--container", c.id, "--json").stdout)
    x = [p for p in tj["processes"] if p["executable"] == "/tmp/x"]
    assert x and x[0]["exit_code"] == 127 and x[0]["execs"][0]["args"] == ["/tmp/x", "echo", "pwned"]

    # the alerts were stored; export one with its evidence
    stored = [json.loads(ln) for ln in
              vigil("incident", "list", "--data-dir", data, "--json").stdout.splitlines()]
    with open(alerts) as f:
        emitted = [json.loads(ln) for ln in f]
    ours = [a for a in stored if get(a, "container.id") == c.id]
    assert ours, stored
    assert {get(a, "vigil.alert.id") for a in ours} <= {get(a, "vigil.alert.id") for a in emitted}
    drift = [a for a in ours if get(a, "vigil.alert.item") == "/tmp/x"] or ours
    aid = get(drift[0], "vigil.alert.id")
    listing = vigil("incident", "list", "--data-dir", data, "--container", c.id).stdout
    assert aid in listing
    bundle = str(tmp_path / "incident.json")
    vigil("incident", "export", aid[:10], "-o", bundle, "--data-dir", data)
    with open(bundle) as f:
        b = json.load(f)
    assert b["vigil_incident_version"] == 1
    assert get(b, "alert.vigil.alert.id") == aid
    assert get(b, "resource.container.id") == c.id
    assert get(b, "resource.key") == f"container:{c.id}"
    assert get(b, "model.key") == f"container:{c.id}" and get(b, "model.yaml")
    bev = b["events"]
    assert b["counts"]["events"] == len(bev) > 0
    assert [e for e in bev if get(e, "process.args") == ["/tmp/x", "echo", "pwned"]]
    assert [e for e in bev if get(e, "file.path") == "/etc/shadow"]
    assert [p for p in b["process_tree"] if p["executable"] == "/tmp/x"]
    shown = vigil("incident", "show", bundle).stdout
    assert aid in shown and "/tmp/x" in shown and "Process tree" in shown
    tgz = str(tmp_path / "incident.tar.gz")
    vigil("incident", "export", aid, "-o", tgz, "--data-dir", data, "--window", "1m")
    listing = subprocess.run(["tar", "tzf", tgz], capture_output=True, text=True, check=True).stdout
    assert listing.split() == ["incident.json"]
    assert aid in vigil("incident", "show", tgz).stdout
    # errors: unknown alert 1, bad bundle 3, usage 2, unknown container 1
    assert vigil("incident", "export", "ffffffffffffffff", "-o", bundle, "--data-dir", data,
                 check=False).returncode == 1
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    r = vigil("incident", "show", str(junk), check=False)
    assert r.returncode == 3 and "junk.json" in r.stderr
    assert vigil("history", "--data-dir", data, check=False).returncode == 2
    r = vigil("history", "--data-dir", data, "--container", "no-such", check=False)
    assert r.returncode == 1 and "'no-such'" in r.stderr


def replay(rec, data, *args):
    return subprocess.run([VIGIL, "run", "--replay", rec, "--data-dir", data, "--quiet",
                           "--no-builtin-rules"] + list(args),
                          capture_output=True, text=True, timeout=120)


def test_retention_by_age_and_size(tmp_path):
    # age: one event a minute for 3 h; keep 1 h
    r = Recording(host="node-1", start="2026-11-02T00:00:00Z")
    web = r.container("web1", image="shop/web:1")
    nginx = r.service("nginx.service")
    for m in range(181):
        r.at(m * 60)
        r.open(web, 100, f"/data/minute-{m}")
    pid = r.spawn(nginx, 1, "/usr/sbin/nginx", args=["nginx", "-s", "reload"])
    r.exit(nginx, pid, code=0)
    rec = str(tmp_path / "age.vrec")
    r.write(rec)
    data = str(tmp_path / "age")
    p = replay(rec, data, "--retention-age", "1h")
    assert p.returncode == 0, p.stderr
    evs = history_json(data, "--container", "web1")
    paths = [get(e, "file.path") for e in evs]
    assert paths[-1] == "/data/minute-180"
    first = int(paths[0].rsplit("-", 1)[1])
    assert 119 <= first <= 120, paths[:3]  # 1 h back, to the chunk (<= 60 s)
    assert "pruned_chunks=0 " not in p.stderr
    for unit in ("nginx.service", "nginx"):  # services, by unit
        svc = history_json(data, "--service", unit)
        assert [e for e in svc if get(e, "process.args") == ["nginx", "-s", "reload"]]
        assert all(get(e, "service.name") == "nginx.service" for e in svc)
    tree = vigil("tree", "--data-dir", data, "--service", "nginx").stdout
    assert "/usr/sbin/nginx [nginx -s reload]" in tree and " exit 0 at " in tree

    # size: 8 containers, incompressible paths; keep 256 KiB
    r = Recording(host="node-1", start="2026-11-02T00:00:00Z")
    cgs = [r.container(f"c{i}") for i in range(8)]
    rnd = random.Random(5)
    for k in range(2500):
        r.at(k * 0.5)
        for i, cg in enumerate(cgs):
            r.open(cg, 100 + i, "/d/" + "".join(rnd.choice("0123456789abcdef") for _ in range(40)))
    rec = str(tmp_path / "size.vrec")
    r.write(rec)
    data = str(tmp_path / "size")
    p = replay(rec, data, "--retention-size", "256K")
    assert p.returncode == 0, p.stderr
    db = os.path.join(data, "events.db")
    total = query(db, "SELECT sum(bytes) FROM chunks")[0][0]
    assert total <= 256 * 1024
    assert os.path.getsize(db) < 1024 * 1024  # freed pages went back
    for i in (0, 7):
        evs = history_json(data, "--container", f"c{i}")
        assert evs and get(evs[-1], "@timestamp") == "2026-11-02T00:20:49.500000000Z"
        assert get(evs[0], "@timestamp") > "2026-11-02T00:00:00.000000000Z"  # oldest pruned
    assert integrity(db) == "ok"


@pytest.fixture(scope="module")
def big_recording(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("rec") / "bench.vrec")
    subprocess.run([sys.executable, MKREC, "bench", "-n", "1000", "-e", "200", "-o", path],
                   check=True, capture_output=True)
    return path


def test_kill9_loop_keeps_store_intact(tmp_path, big_recording):
    data = str(tmp_path / "data")
    db = os.path.join(data, "events.db")
    rnd = random.Random(9)
    stored = []
    def count():
        if not os.path.exists(db):
            return 0
        try:
            return query(db, "SELECT coalesce(sum(n), 0) FROM chunks")[0][0]
        except sqlite3.OperationalError:  # schema not created yet
            return 0
    killed = 0
    for _ in range(5):
        before = count()
        p = subprocess.Popen([VIGIL, "run", "--replay", big_recording, "--data-dir", data,
                              "--quiet", "--no-builtin-rules"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while count() <= before and p.poll() is None and time.time() < deadline:
            time.sleep(0.05)  # writing has begun...
        time.sleep(rnd.uniform(0, 0.8))  # ...kill it somewhere in the middle
        killed += p.poll() is None
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert integrity(db) == "ok"
        stored.append(count())
    assert killed >= 3, killed
    assert stored[0] > 0 and stored == sorted(stored), stored  # every run kept its writes
    evs = history_json(data, "--container", "app-00007")
    assert evs and get(evs[0], "process.args") == ["app", "--serve", "--id=7"]
    # the next clean start turns chunks left open into compressed ones
    small = Recording(host="node-1", start="2026-11-02T00:00:00Z")
    small.open(small.container("late"), 1, "/x")
    rec = str(tmp_path / "small.vrec")
    small.write(rec)
    r = replay(rec, data)
    assert r.returncode == 0, r.stderr
    assert query(db, "SELECT count(*) FROM tails")[0][0] == 0
    assert query(db, "SELECT count(*) FROM chunks WHERE data IS NULL")[0][0] == 0
    assert integrity(db) == "ok"
    assert len(history_json(data, "--container", "app-00007")) == len(evs)


@pytest.fixture
def tiny_fs(tmp_path):
    mnt = str(tmp_path / "tiny")
    os.makedirs(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], check=True)
    yield mnt
    subprocess.run(["umount", "-l", mnt], capture_output=True)


def test_full_disk_counts_drops_and_stays_readable(tmp_path, tiny_fs, big_recording):
    alerts = str(tmp_path / "alerts.json")
    p = subprocess.run([VIGIL, "run", "--replay", big_recording, "--data-dir", tiny_fs,
                        "--alerts", alerts, "--no-builtin-rules"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stderr.count("vigil: ALERT flight recorder") == 1, p.stderr
    summary = [ln for ln in p.stderr.splitlines() if ln.startswith("vigil: recorder:")][0]
    fields = dict(kv.split("=", 1) for kv in summary.split() if "=" in kv)
    assert int(fields["dropped"]) > 0 and int(fields["write_errors"]) > 0, summary
    assert int(fields["stored"]) > 0, summary  # what fitted was kept
    assert int(fields["stored"]) + int(fields["dropped"]) == 200000, summary
    with open(alerts) as f:
        docs = [json.loads(ln) for ln in f]
    rec = [a for a in docs if get(a, "rule.id") == "vigil-recorder"]
    assert len(rec) == 1 and "dropped" in get(rec[0], "message")
    db = os.path.join(tiny_fs, "events.db")
    assert integrity(db) == "ok"
    evs = history_json(tiny_fs, "--container", "app-00000")  # written first
    assert evs and get(evs[0], "process.args") == ["app", "--serve", "--id=0"]


def test_corrupt_store_refused_with_a_way_forward(tmp_path):
    r = Recording(host="node-1", start="2026-11-02T00:00:00Z")
    r.open(r.container("web1"), 100, "/etc/hostname")
    rec = str(tmp_path / "one.vrec")
    r.write(rec)
    data = str(tmp_path / "data")
    assert replay(rec, data).returncode == 0
    db = os.path.join(data, "events.db")
    with open(db, "r+b") as f:  # a damaged b-tree page, header intact
        f.seek(2 * 4096)
        f.write(b"\xff" * 64)
    p = replay(rec, data)
    assert p.returncode == 1
    assert f"flight recorder '{db}' is corrupt" in p.stderr and f"mv {db} {db}.corrupt" in p.stderr
    r2 = vigil("history", "--data-dir", data, "--container", "web1", check=False)
    assert r2.returncode == 1 and "damaged: move it aside" in r2.stderr
    assert replay(rec, data, "--no-record-events").returncode == 0  # the other way forward
    os.rename(db, db + ".corrupt")
    assert replay(rec, data).returncode == 0  # a new one
    assert len(history_json(data, "--container", "web1")) == 1
