"""`vigil alerts`: stored alerts by resource, severity and time, and
--follow printing new ones as an agent stores them (recordings, no root)."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from mkrec import Recording  # noqa: E402

from conftest import VIGIL, get  # noqa: E402
from test_models_replay import MONDAY, weeks_of_service  # noqa: E402


def replay(tmp_path, rec, data):
    p = subprocess.run([VIGIL, "run", "--replay", str(rec), "--data-dir", data, "--quiet",
                        "--learn-min", "1d", "--learn-settle", "1d"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr


def attacks(start, port):
    r = Recording(host="node-1", start=start)
    shop = r.service("shop.service")
    r.known_process(shop, 60, "/usr/lib/systemd/systemd")
    pid = r.spawn(shop, 60, "/usr/bin/shop-worker", ["shop-worker", "--once"])
    r.open(shop, pid, "/etc/shadow")              # credential-file-read: 80
    r.connect(shop, pid, "203.0.113.9", port)     # new to the model: 55
    return r


def test_alerts_list_filter_follow(tmp_path):
    data = str(tmp_path / "data")
    r = Recording(host="node-1", start=MONDAY)
    weeks_of_service(r, 2)
    r.write(str(tmp_path / "learn.vrec"))
    replay(tmp_path, tmp_path / "learn.vrec", data)
    attacks("2026-11-16T01:00:00Z", 6000).write(str(tmp_path / "a.vrec"))
    replay(tmp_path, tmp_path / "a.vrec", data)

    out = subprocess.run([VIGIL, "alerts", "--data-dir", data, "--json"], capture_output=True, text=True)
    got = [json.loads(line) for line in out.stdout.splitlines()]
    assert sorted(get(a, "vigil.alert.score") for a in got) == [55, 80], out.stderr
    crit = subprocess.run([VIGIL, "alerts", "--data-dir", data, "--json", "--severity", "critical"],
                          capture_output=True, text=True).stdout.splitlines()
    assert [get(json.loads(x), "rule.id") for x in crit] == ["credential-file-read"]
    text = subprocess.run([VIGIL, "alerts", "--data-dir", data, "--resource", "shop.service"],
                          capture_output=True, text=True)
    assert text.returncode == 0 and len(text.stdout.splitlines()) == 2 and "critical" in text.stdout
    assert subprocess.run([VIGIL, "alerts", "--data-dir", data, "--resource", "nope.service"],
                          capture_output=True, text=True).returncode == 1
    assert subprocess.run([VIGIL, "alerts", "--severity", "huge"], capture_output=True).returncode == 2

    follow = subprocess.Popen([VIGIL, "alerts", "--data-dir", data, "--json", "--follow",
                               "--since", "2026-11-20T00:00:00Z"], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        attacks("2026-11-23T01:00:00Z", 6001).write(str(tmp_path / "b.vrec"))
        replay(tmp_path, tmp_path / "b.vrec", data)
        time.sleep(2.5)
    finally:
        follow.send_signal(signal.SIGINT)
        new = follow.communicate(timeout=10)[0].splitlines()
    items = sorted(get(json.loads(x), "vigil.alert.item") for x in new)
    assert items == ["/etc/shadow", "tcp 203.0.113.0/24:6001"], items


def test_ack_learn_and_suppress(tmp_path):
    data = str(tmp_path / "data")
    r = Recording(host="node-1", start=MONDAY)
    weeks_of_service(r, 2)
    r.write(str(tmp_path / "learn.vrec"))
    replay(tmp_path, tmp_path / "learn.vrec", data)
    attacks("2026-11-16T01:00:00Z", 6000).write(str(tmp_path / "a.vrec"))
    replay(tmp_path, tmp_path / "a.vrec", data)
    got = [json.loads(x) for x in subprocess.run([VIGIL, "alerts", "--data-dir", data, "--json"],
                                                 capture_output=True, text=True).stdout.splitlines()]
    net = [a for a in got if get(a, "vigil.alert.dimension") == "net_out"][0]

    # ack --learn teaches the model; suppress silences the rule on that service for an hour
    ack = subprocess.run([VIGIL, "alerts", "ack", get(net, "vigil.alert.id"), "--learn", "--data-dir", data],
                         capture_output=True, text=True)
    assert ack.returncode == 0 and "learned into service:shop.service" in ack.stdout, ack.stderr
    sup = subprocess.run([VIGIL, "alerts", "suppress", "--rule", "credential-file-read", "--resource",
                          "service:shop.service", "--for", "1h", "--reason", "audit job reads it",
                          "--data-dir", data], capture_output=True, text=True)
    assert sup.returncode == 0, sup.stderr
    listing = subprocess.run([VIGIL, "alerts", "suppressions", "--data-dir", data], capture_output=True,
                             text=True).stdout
    assert "credential-file-read" in listing and "audit job reads it" in listing
    show = subprocess.run([VIGIL, "model", "show", "service:shop.service", "--data-dir", data],
                          capture_output=True, text=True).stdout
    assert "tcp 203.0.113.0/24:6000" in show

    # the same behaviour again, a week later: nothing new is reported
    attacks("2026-11-23T01:00:00Z", 6000).write(str(tmp_path / "b.vrec"))
    p = subprocess.run([VIGIL, "run", "--replay", str(tmp_path / "b.vrec"), "--data-dir", data, "--alerts",
                        str(tmp_path / "b.json"), "--quiet"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert not (tmp_path / "b.json").exists() or (tmp_path / "b.json").read_text() == ""
    assert "suppressed alerts: 1" in p.stderr

    bad = subprocess.run([VIGIL, "alerts", "ack", "ffffffffffffffff", "--data-dir", data],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "no stored alert" in bad.stderr


def test_repeats_aggregate_and_storms_are_summarised(tmp_path):
    r = Recording(host="node-1", start=MONDAY)
    svc = r.service("audit.service")
    r.known_process(svc, 80, "/usr/lib/systemd/systemd")
    pid = r.spawn(svc, 80, "/usr/bin/collector")
    for i in range(5):                      # one alert, then folded repeats
        r.open(svc, pid, "/etc/shadow")
        r.advance(1)
    r.at(180)                               # after the window: carries the count
    r.open(svc, pid, "/etc/shadow")
    r.at(600)
    for i in range(25):                     # 25 distinct alerts in one minute
        r.open(svc, pid, f"/home/u{i}/.ssh/id_rsa")
    path = tmp_path / "storm.vrec"
    r.write(str(path))
    alerts = tmp_path / "alerts.json"
    p = subprocess.run([VIGIL, "run", "--replay", str(path), "--data-dir", str(tmp_path / "d"), "--alerts",
                        str(alerts), "--quiet", "--storm-limit", "10"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    got = [json.loads(x) for x in alerts.read_text().splitlines()]
    shadow = [get(a, "vigil.alert.count") for a in got if get(a, "vigil.alert.item") == "/etc/shadow"]
    assert shadow == [1, 5], shadow
    keys = [a for a in got if get(a, "vigil.alert.item", "").startswith("/home/")]
    storm = [a for a in got if get(a, "rule.id") == "alert-storm"]
    assert len(keys) == 10 and len(storm) == 1, (len(keys), storm)
    assert get(storm[0], "vigil.alert.count") == 15 and "service:audit.service" in get(storm[0], "message")
    assert "held back by the storm limit: 15" in p.stderr


def test_outputs_from_the_config_file(tmp_path):
    import socket
    r = Recording(host="node-1", start=MONDAY)
    svc = r.service("audit.service")
    r.known_process(svc, 80, "/usr/lib/systemd/systemd")
    pid = r.spawn(svc, 80, "/usr/bin/collector")
    for i in range(3):
        r.open(svc, pid, f"/home/u{i}/.ssh/id_rsa")
    path = tmp_path / "c.vrec"
    r.write(str(path))
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(5)
    conf = tmp_path / "vigil.conf"
    conf.write_text(f"# outputs as flags would give them\nalerts_format: falco\nstorm_limit: 1\n"
                    f"syslog: udp://127.0.0.1:{rx.getsockname()[1]}\nsyslog_format: cef\n")
    alerts = tmp_path / "a.json"
    p = subprocess.run([VIGIL, "run", "--config", str(conf), "--replay", str(path), "--data-dir",
                        str(tmp_path / "d"), "--alerts", str(alerts), "--quiet"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    got = [json.loads(x) for x in alerts.read_text().splitlines()]
    assert all("priority" in a and "output_fields" in a for a in got)  # falco
    assert [a["rule"] for a in got].count("Read of a credential file") == 1  # storm_limit 1
    msg = rx.recv(65536).decode()
    assert "CEF:0|Vigil|" in msg
    bad = tmp_path / "bad.conf"
    bad.write_text("learn_min: 1m\nsyslgo: udp://x\n")
    p = subprocess.run([VIGIL, "run", "--config", str(bad), "--replay", str(path)], capture_output=True,
                       text=True)
    assert p.returncode == 2 and "bad.conf:2: bad setting" in p.stderr
