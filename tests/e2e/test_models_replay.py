"""Models from recordings with a controlled clock (no root, deterministic):
(the built-in detection rules are off here, to see the models alone)
normal behaviour, including a weekly job at its usual hour, raises nothing;
the job at another hour, or missing, is reported; learning ends by itself;
models survive a restart of the agent."""
import json
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from mkrec import Recording  # noqa: E402

from conftest import VIGIL, get  # noqa: E402

MONDAY = "2026-11-02T00:00:00Z"  # a Monday


def weeks_of_service(r, weeks, job_at=None, skip_job_week=None):
    """An hourly worker in shop.service and a weekly backup in cron.service."""
    shop = r.service("shop.service")
    cron = r.service("cron.service")
    r.known_process(cron, 50, "/usr/sbin/cron")
    r.known_process(shop, 60, "/usr/lib/systemd/systemd")
    for week in range(weeks):
        for hour in range(0, 24 * 7, 3):
            t = week * 7 * 86400 + hour * 3600
            r.at(t)
            pid = r.spawn(shop, 60, "/usr/bin/shop-worker", ["shop-worker", "--once"])
            r.open(shop, pid, "/etc/shop/config.yml")
            r.dns(shop, pid, "db.internal")
            r.connect(shop, pid, "10.0.0.7", 5432)
            r.exit(shop, pid, code=0)
            want = job_at(week) if job_at else 2  # hour of week of the backup
            if hour <= want < hour + 3 and week != skip_job_week:
                r.at(week * 7 * 86400 + want * 3600 + 60)
                job = r.spawn(cron, 50, "/usr/local/bin/backup.sh", ["backup.sh"])
                r.open(cron, job, "/var/backups/db.dump", access=("write", "create"))
                r.exit(cron, job, code=0)


def run_replay(tmp_path, rec_path, data="data", *extra):
    alerts = tmp_path / f"alerts-{len(os.listdir(tmp_path))}.json"
    r = subprocess.run([VIGIL, "run", "--replay", str(rec_path), "--data-dir", str(tmp_path / data),
                        "--alerts", str(alerts), "--quiet", "--learn-min", "1d",
                        "--learn-settle", "1d", "--no-builtin-rules"] + list(extra),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in open(alerts)] if alerts.exists() else []
    return out, r.stderr


def model_state(tmp_path, key, data="data"):
    db = sqlite3.connect(str(tmp_path / data / "vigil.db"))
    row = db.execute("SELECT state, reason FROM models WHERE key = ?", (key,)).fetchone()
    db.close()
    return row


def test_normal_weeks_raise_nothing(tmp_path):
    r = Recording(host="node-1", start=MONDAY)
    weeks_of_service(r, 4)
    path = tmp_path / "normal.vrec"
    r.write(str(path))
    alerts, err = run_replay(tmp_path, path)
    assert alerts == [], json.dumps(alerts[:3], indent=1)
    state, reason = model_state(tmp_path, "service:cron.service")
    assert state == "active" and reason.startswith("stable")
    assert model_state(tmp_path, "service:shop.service")[0] == "active"


def test_job_at_another_hour_and_missing_job(tmp_path):
    r = Recording(host="node-1", start=MONDAY)
    # weeks 0-2 at Monday 02:00; week 3 on Wednesday 14:00 instead
    weeks_of_service(r, 4, job_at=lambda w: 2 if w < 3 else 2 * 24 + 14)
    path = tmp_path / "shifted.vrec"
    r.write(str(path))
    alerts, _ = run_replay(tmp_path, path)
    kinds = {(get(a, "vigil.alert.kind"), get(a, "vigil.model.key")) for a in alerts}
    assert ("silent", "service:cron.service") in kinds, alerts
    assert ("time_of_week", "service:cron.service") in kinds, alerts
    t = [a for a in alerts if get(a, "vigil.alert.kind") == "time_of_week"][0]
    assert "Mon 02:00" in get(t, "message") and "Wed 14:00" in get(t, "message")
    assert get(t, "process.executable") == "/usr/local/bin/backup.sh"
    s = [a for a in alerts if get(a, "vigil.alert.kind") == "silent"][0]
    # reported on the Monday it was due, at least two hours after 02:00
    assert get(s, "@timestamp").startswith("2026-11-23T") and get(s, "@timestamp")[11:13] >= "04"
    # nothing else fired: the shop worker stayed normal
    assert all(get(a, "vigil.model.key") == "service:cron.service" for a in alerts)


def test_new_behaviour_after_learning_and_restart(tmp_path):
    r = Recording(host="node-1", start=MONDAY)
    weeks_of_service(r, 2)
    first = tmp_path / "a.vrec"
    r.write(str(first))
    alerts, _ = run_replay(tmp_path, first)
    assert alerts == []
    # a second agent run on the same store: the models were persisted
    r2 = Recording(host="node-1", start="2026-11-16T01:00:00Z")  # before the weekly job is due
    shop = r2.service("shop.service")
    r2.known_process(shop, 60, "/usr/lib/systemd/systemd")
    pid = r2.spawn(shop, 60, "/usr/bin/shop-worker", ["shop-worker", "--once"])
    r2.open(shop, pid, "/etc/shop/config.yml")
    r2.connect(shop, pid, "10.0.0.7", 5432)          # known
    r2.connect(shop, pid, "203.0.113.9", 4444)      # new port and place
    r2.open(shop, pid, "/etc/shadow")                # credential read
    second = tmp_path / "b.vrec"
    r2.write(str(second))
    alerts, _ = run_replay(tmp_path, second)
    dims = sorted((get(a, "vigil.alert.dimension"), get(a, "vigil.alert.item")) for a in alerts)
    assert dims == [("file_read", "/etc/shadow"), ("net_out", "tcp 203.0.113.0/24:4444")], dims
    shadow = [a for a in alerts if get(a, "vigil.alert.dimension") == "file_read"][0]
    assert get(shadow, "vigil.alert.score") >= 80 and get(shadow, "vigil.alert.level") == "critical"
    net = [a for a in alerts if get(a, "vigil.alert.dimension") == "net_out"][0]
    assert "tcp 10.0.0.0/24:5432" in get(net, "vigil.alert.nearest")
    assert get(net, "vigil.model.state") == "active"
    assert get(net, "destination.port") == 4444


def test_one_event_one_alert_with_detections_on(tmp_path):
    r = Recording(host="node-1", start=MONDAY)
    weeks_of_service(r, 2)
    r.at(14 * 86400 + 3600)  # Monday 01:00, before the weekly job is due
    shop = r.service("shop.service")
    pid = r.spawn(shop, 60, "/usr/bin/shop-worker", ["shop-worker", "--once"])
    r.open(shop, pid, "/etc/shadow")  # both a credential-read rule and new to the model
    path = tmp_path / "both.vrec"
    r.write(str(path))
    alerts = tmp_path / "alerts.json"
    p = subprocess.run([VIGIL, "run", "--replay", str(path), "--data-dir", str(tmp_path / "d"), "--alerts",
                        str(alerts), "--quiet", "--learn-min", "1d", "--learn-settle", "1d"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    got = [json.loads(line) for line in open(alerts)]
    assert [(get(a, "vigil.alert.source"), get(a, "rule.id")) for a in got] == \
        [("detection", "credential-file-read")]
    assert "muted=" in p.stderr
