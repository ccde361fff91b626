"""Prometheus /metrics of a live agent, scraped after a known workload."""
import os
import random
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

from conftest import VIGIL


def scrape(port, path="/metrics"):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        assert r.headers["Content-Type"].startswith("text/plain")
        return r.read().decode()


def value(text, name):
    m = re.search(r"^" + re.escape(name) + r" (\d+)$", text, re.M)
    assert m, f"{name} missing"
    return int(m.group(1))


def test_metrics_after_known_workload(tmp_path):
    port = random.randint(30000, 40000)
    err = open(tmp_path / "agent.err", "w+")
    agent = subprocess.Popen([VIGIL, "run", "--data-dir", str(tmp_path / "d"), "--quiet",
                              "--metrics", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and "vigil: running" not in open(err.name).read():
            time.sleep(0.05)
        before = scrape(port)
        execs0 = value(before, 'vigil_events_total{type="exec"}')
        for _ in range(5):
            subprocess.run(["/bin/true"])
        subprocess.run(["cat", "/etc/shadow"], stdout=subprocess.DEVNULL)  # credential-file-read
        time.sleep(1.5)
        after = scrape(port)
        assert value(after, 'vigil_events_total{type="exec"}') >= execs0 + 6
        assert value(after, 'vigil_alerts_total{severity="critical"}') >= 1
        assert value(after, 'vigil_events_dropped_total{type="open"}') == 0
        assert "# TYPE vigil_models gauge" in after
        try:
            scrape(port, "/nope")
            raise AssertionError("no 404")
        except urllib.error.HTTPError as e:
            assert e.code == 404
    finally:
        agent.send_signal(signal.SIGINT)
        agent.wait(timeout=30)
    bad = subprocess.run([VIGIL, "run", "--replay", "/dev/null", "--data-dir", str(tmp_path / "e"),
                          "--metrics", "nonsense"], capture_output=True, text=True)
    assert bad.returncode == 2 and "bad metrics address 'nonsense'" in bad.stderr
