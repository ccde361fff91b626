"""`vigil model`: list/show/export/import/diff round trips, approval of
behaviour refused while learning, and commands queued for a running agent."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from mkrec import Recording  # noqa: E402

from conftest import VIGIL, get  # noqa: E402
from test_models_replay import MONDAY, weeks_of_service  # noqa: E402


def vigil(*args, check=True):
    r = subprocess.run([VIGIL] + list(args), capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def learned_store(tmp_path, extra=None):
    r = Recording(host="node-1", start=MONDAY)
    weeks_of_service(r, 2)
    if extra:
        extra(r)
    path = tmp_path / f"rec-{len(os.listdir(tmp_path))}.vrec"
    r.write(str(path))
    data = str(tmp_path / "data")
    vigil("run", "--replay", str(path), "--data-dir", data, "--quiet", "--learn-min", "1d",
          "--learn-settle", "1d")
    return data


def test_list_show_export_import_diff(tmp_path):
    data = learned_store(tmp_path)
    models = json.loads(vigil("model", "list", "--json", "--data-dir", data).stdout)
    assert {m["key"]: m["state"] for m in models} == {"service:cron.service": "active",
                                                     "service:shop.service": "active"}
    show = json.loads(vigil("model", "show", "service:shop.service", "--json", "--data-dir", data).stdout)
    assert show["state"] == "active"
    text = json.dumps(show)
    assert "tcp 10.0.0.0/24:5432" in text and "/etc/shop/config.yml" in text and "db.internal" in text

    y1 = tmp_path / "shop.yaml"
    vigil("model", "export", "service:shop.service", "-o", str(y1), "--data-dir", data)
    other = str(tmp_path / "other")
    vigil("model", "import", str(y1), "--data-dir", other)
    y2 = tmp_path / "shop2.yaml"
    vigil("model", "export", "service:shop.service", "-o", str(y2), "--data-dir", other)
    assert y1.read_text() == y2.read_text()
    assert vigil("model", "diff", str(y1), "service:shop.service", "--data-dir", other).returncode == 0
    d = vigil("model", "diff", "service:cron.service", "service:shop.service", "--data-dir", data, check=False)
    assert d.returncode == 1
    assert "+ tcp 10.0.0.0/24:5432" in d.stdout and "- /usr/local/bin/backup.sh <- /usr/sbin/cron [uid 0]" in d.stdout

    missing = vigil("model", "show", "container:nope", "--data-dir", data, check=False)
    assert missing.returncode == 1 and "no model 'container:nope'" in missing.stderr
    vigil("model", "delete", "service:cron.service", "--data-dir", data)
    assert len(json.loads(vigil("model", "list", "--json", "--data-dir", data).stdout)) == 1


def test_refused_while_learning_then_approved(tmp_path):
    # a service that drops privileges (setuid) at start, during learning
    rec = Recording(host="node-1", start=MONDAY)
    svc = rec.service("drop.service")
    rec.known_process(svc, 70, "/usr/lib/systemd/systemd")
    for day in range(4):
        rec.at(day * 86400)
        pid = rec.spawn(svc, 70, "/usr/sbin/dropper")
        rec.priv(svc, pid, "setuid", ids=[65534])
        rec.exit(svc, pid)
    path = tmp_path / "drop.vrec"
    rec.write(str(path))
    data = str(tmp_path / "data")
    alerts = tmp_path / "alerts.json"
    vigil("run", "--replay", str(path), "--data-dir", data, "--alerts", str(alerts), "--quiet",
          "--learn-min", "1d", "--learn-settle", "1d")
    got = [json.loads(line) for line in alerts.read_text().splitlines()]
    assert [(get(a, "vigil.alert.kind"), get(a, "vigil.alert.item")) for a in got] == \
        [("known_bad", "setuid 65534")]  # reported once, not learned
    show = vigil("model", "show", "service:drop.service", "--data-dir", data).stdout
    assert "setuid 65534" in show and "pending" in show.lower()

    vigil("model", "approve", "service:drop.service", "--all", "--data-dir", data)
    alerts.unlink()
    rec2 = Recording(host="node-1", start="2026-11-10T00:00:00Z")
    svc = rec2.service("drop.service")
    rec2.known_process(svc, 70, "/usr/lib/systemd/systemd")
    pid = rec2.spawn(svc, 70, "/usr/sbin/dropper")
    rec2.priv(svc, pid, "setuid", ids=[65534])
    p2 = tmp_path / "drop2.vrec"
    rec2.write(str(p2))
    vigil("run", "--replay", str(p2), "--data-dir", data, "--alerts", str(alerts), "--quiet")
    assert not alerts.exists() or alerts.read_text() == ""


def test_commands_queue_for_a_running_agent(tmp_path):
    data = learned_store(tmp_path)
    err = open(tmp_path / "agent.err", "w+")
    agent = subprocess.Popen([VIGIL, "run", "--data-dir", data, "--quiet"], stdout=subprocess.DEVNULL,
                             stderr=err)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            err.seek(0)
            if "vigil: running" in err.read():
                break
            time.sleep(0.05)
        r = vigil("model", "relearn", "service:cron.service", "--data-dir", data)
        assert "queued" in r.stdout + r.stderr
        again = subprocess.run([VIGIL, "run", "--data-dir", data, "--duration", "1s"],
                               capture_output=True, text=True, timeout=30)
        assert again.returncode == 1 and "another agent" in again.stderr
        time.sleep(2.5)
    finally:
        agent.send_signal(signal.SIGINT)
        agent.wait(timeout=30)
    db = sqlite3.connect(os.path.join(data, "vigil.db"))
    state, reason = db.execute("SELECT state, reason FROM models WHERE key='service:cron.service'").fetchone()
    entries = db.execute("SELECT count(*) FROM entries WHERE model='service:cron.service'").fetchone()[0]
    db.close()
    assert (state, reason, entries) == ("learning", "relearn requested", 0)
