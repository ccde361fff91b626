"""Issue 3 end to end on the real kernel: a service-like runc container
(busybox httpd, a client loop, a periodic job) learns and becomes active by
itself; then each attack yields its anomaly with the right dimension."""
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import VIGIL, get

HELPER_SRC = os.path.join(os.path.dirname(__file__), "helpers", "privops.c")

WORKLOAD = """
httpd -f -p {port} -h /www &
i=0
while true; do
  wget -q -O /dev/null http://127.0.0.1:{port}/index.html
  i=$((i+1))
  if [ $((i % 4)) -eq 0 ]; then cat /etc/hostname > /tmp/job.out; fi
  sleep 0.25
done
"""


class Agent:
    def __init__(self, tmp, *args):
        self.data = os.path.join(tmp, "data")
        self.alerts = os.path.join(tmp, "alerts.json")
        self.err = open(os.path.join(tmp, "agent.err"), "w+")
        self.proc = subprocess.Popen([VIGIL, "run", "--data-dir", self.data, "--alerts", self.alerts,
                                      "--quiet"] + list(args), stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.time() + 20
        while time.time() < deadline:
            self.err.seek(0)
            if "vigil: running" in self.err.read():
                return
            assert self.proc.poll() is None, "agent exited"
            time.sleep(0.05)
        raise AssertionError("agent did not start")

    def model(self, key):
        if not os.path.exists(os.path.join(self.data, "vigil.db")):
            return None
        db = sqlite3.connect(os.path.join(self.data, "vigil.db"), timeout=10)
        try:
            return db.execute("SELECT state, reason FROM models WHERE key = ?", (key,)).fetchone()
        finally:
            db.close()

    def read_alerts(self):
        if not os.path.exists(self.alerts):
            return []
        with open(self.alerts) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=30)
        self.err.seek(0)
        return self.err.read()


@pytest.fixture
def static_privops(tmp_path):
    exe = str(tmp_path / "privops")
    r = subprocess.run(["gcc", "-static", "-O2", "-o", exe, HELPER_SRC], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(r.stderr)
    return exe


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_service_learns_then_attacks_are_anomalies(tmp_path, container, static_privops):
    port = random.randint(20000, 30000)
    c = container()
    c.config["linux"]["namespaces"] = [n for n in c.config["linux"]["namespaces"]
                                       if n["type"] != "network"]
    root = os.path.join(c.bundle, "rootfs")
    os.makedirs(os.path.join(root, "www", "cgi-bin"))
    with open(os.path.join(root, "www", "index.html"), "w") as f:
        f.write("hello\n")
    cgi = os.path.join(root, "www", "cgi-bin", "status")
    with open(cgi, "w") as f:  # shipped in the image, used only by the attack
        f.write("#!/bin/sh\necho Content-Type: text/plain\necho\nid\n")
    os.chmod(cgi, 0o755)
    shutil.copy(static_privops, os.path.join(root, "bin", "privops"))

    # the models alone: built-in detections would take over some of these
    agent = Agent(str(tmp_path), "--learn-min", "6s", "--learn-settle", "4s", "--no-builtin-rules")
    c.config["process"]["args"] = ["/bin/sh", "-c", WORKLOAD.format(port=port)]
    with open(os.path.join(c.bundle, "config.json"), "w") as f:
        json.dump(c.config, f)
    runner = subprocess.Popen(["runc", "run", c.id], cwd=c.bundle, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    key = f"container:{c.id}"

    def rexec(script):
        return subprocess.run(["runc", "exec", c.id, "/bin/sh", "-c", script],
                              capture_output=True, text=True, timeout=30)

    try:
        # an operator probe during learning: `runc exec` + sh is normal here
        time.sleep(1.5)
        rexec("cat /etc/hostname > /dev/null")
        state = wait_for(lambda: (agent.model(key) or ("", ""))[0] == "active" and agent.model(key),
                         60, "the model to become active")
        assert state[1].startswith("stable"), state
        before = len(agent.read_alerts())
        assert before == 0, agent.read_alerts()

        new_port, listen_port = port + 1, port + 2
        attacks = [
            ("shell spawned by the service",
             lambda: subprocess.run(["busybox", "wget", "-q", "-O", "-", f"http://127.0.0.1:{port}/cgi-bin/status"],
                                    capture_output=True, timeout=10),
             lambda a: get(a, "vigil.alert.dimension") == "process"
             and "[sh] <- /bin/busybox[httpd]" in get(a, "vigil.alert.item")
             and get(a, "vigil.alert.score") >= 75),
            ("read /etc/shadow", lambda: rexec("cat /etc/shadow > /dev/null"),
             lambda a: (get(a, "vigil.alert.dimension"), get(a, "vigil.alert.item")) == ("file_read", "/etc/shadow")),
            ("write below /bin", lambda: rexec("echo x > /bin/evil"),
             lambda a: (get(a, "vigil.alert.dimension"), get(a, "vigil.alert.item")) == ("file_create", "/bin/evil")),
            ("drop and run from /tmp", lambda: rexec("cp /bin/busybox /tmp/dropper && /tmp/dropper true"),
             lambda a: get(a, "vigil.alert.kind") == "drift" and get(a, "vigil.alert.item") == "/tmp/dropper"),
            ("connect to a new port", lambda: rexec(f"nc 127.0.0.1 {new_port} < /dev/null; true"),
             lambda a: (get(a, "vigil.alert.dimension"), get(a, "vigil.alert.item"))
             == ("net_out", f"tcp 127.0.0.0/24:{new_port}")),
            ("new listening port", lambda: rexec(f"nc -l -p {listen_port} & sleep 0.5; kill $!"),
             lambda a: (get(a, "vigil.alert.dimension"), get(a, "vigil.alert.item"))
             == ("net_listen", f"tcp :{listen_port}")),
            ("setuid", lambda: rexec("/bin/privops setuid"),
             lambda a: (get(a, "vigil.alert.dimension"), get(a, "vigil.alert.item")) == ("privilege", "setuid 65534")),
            ("ptrace", lambda: rexec("/bin/privops ptrace"),
             lambda a: (get(a, "vigil.alert.dimension"), get(a, "vigil.alert.item")) == ("privilege", "ptrace")),
        ]
        for name, act, match in attacks:
            seen = len(agent.read_alerts())
            act()
            found = wait_for(lambda: [a for a in agent.read_alerts()[seen:] if match(a)], 10,
                             f"the anomaly for '{name}'")
            assert len(found) == 1, (name, found)
            a = found[0]
            assert get(a, "container.id") == c.id, name
            assert get(a, "vigil.model.key") == key
            assert get(a, "vigil.model.state") == "active"
            assert get(a, "message"), name
    finally:
        subprocess.run(["runc", "kill", c.id, "KILL"], capture_output=True)
        runner.wait(timeout=30)
        err = agent.stop()
    assert "anomalies=" in err
    for a in agent.read_alerts():
        print("ALERT", get(a, "vigil.alert.kind"), get(a, "vigil.alert.dimension"), get(a, "vigil.alert.score"), get(a, "vigil.alert.item"))
