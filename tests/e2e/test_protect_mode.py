"""Issue 4's protect-mode scenario, driven only by the CLI: a container
learns a small workload, `vigil mode set <id> protect`, then a binary it
drops in /tmp cannot run and a connect to a port it never used fails, while
its learned behaviour keeps working and the host is unaffected."""
import json
import os
import random
import socket
import subprocess
import threading
import time

from conftest import VIGIL, get
from test_models_live import Agent, wait_for

WORKLOAD = """
httpd -f -p {port} -h /www &
while true; do
  wget -q -O /dev/null http://127.0.0.1:{port}/index.html
  cat /etc/hostname > /dev/null
  sleep 0.3
done
"""


def host_listener(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)

    def loop():
        while True:
            try:
                c, _ = srv.accept()
                c.close()
            except OSError:
                return
    threading.Thread(target=loop, daemon=True).start()
    return srv


def test_protect_mode_from_the_cli(tmp_path, container):
    port = random.randint(20000, 30000)
    other = port + 7
    srv = host_listener(other)
    c = container()
    c.config["linux"]["namespaces"] = [n for n in c.config["linux"]["namespaces"] if n["type"] != "network"]
    root = os.path.join(c.bundle, "rootfs")
    os.makedirs(os.path.join(root, "www"))
    with open(os.path.join(root, "www", "index.html"), "w") as f:
        f.write("hello\n")
    c.config["process"]["args"] = ["/bin/sh", "-c", WORKLOAD.format(port=port)]
    with open(os.path.join(c.bundle, "config.json"), "w") as f:
        json.dump(c.config, f)

    agent = Agent(str(tmp_path), "--learn-min", "5s", "--learn-settle", "3s")
    runner = subprocess.Popen(["runc", "run", c.id], cwd=c.bundle, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def rexec(script):
        return subprocess.run(["runc", "exec", c.id, "/bin/sh", "-c", script], capture_output=True,
                              text=True, timeout=30)

    try:
        time.sleep(1.0)
        rexec("true")  # an operator probe during learning
        wait_for(lambda: (agent.model(f"container:{c.id}") or ("",))[0] == "active", 60, "an active model")
        r = subprocess.run([VIGIL, "mode", "set", c.id, "protect", "--data-dir", agent.data],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        wait_for(lambda: "is now in protect mode" in open(agent.err.name).read(), 10, "protect mode")

        # a dropped binary cannot run
        r = rexec("cp /bin/busybox /tmp/dropper && /tmp/dropper echo ran")
        assert r.returncode != 0 and "ran" not in r.stdout, (r.stdout, r.stderr)
        assert "ermission denied" in r.stderr or "not permitted" in r.stderr, r.stderr
        # a port it never used is refused by the kernel, though something listens there
        r = rexec(f"nc 127.0.0.1 {other} < /dev/null && echo connected")
        assert "connected" not in r.stdout and "not permitted" in r.stderr, (r.stdout, r.stderr)
        # learned behaviour keeps working
        r = rexec(f"wget -q -O - http://127.0.0.1:{port}/index.html")
        assert r.returncode == 0 and "hello" in r.stdout, r.stderr
        # the host is unaffected: same port, and running from /tmp
        with socket.create_connection(("127.0.0.1", other), timeout=5):
            pass
        host_tmp = tmp_path / "hostbin"
        subprocess.run(["cp", "/bin/true", str(host_tmp)], check=True)
        assert subprocess.run([str(host_tmp)]).returncode == 0

        alerts = wait_for(lambda: [a for a in agent.read_alerts()
                                   if get(a, "vigil.alert.action_taken") == "blocked"]
                          if len([a for a in agent.read_alerts()
                                  if get(a, "vigil.alert.action_taken") == "blocked"]) >= 2 else None,
                          10, "blocked alerts")
        rules = {get(a, "rule.id") for a in alerts}
        assert {"protect-exec", "protect-network"} <= rules, rules
        assert all(get(a, "vigil.alert.source") == "enforcement" for a in alerts)
    finally:
        subprocess.run(["runc", "kill", c.id, "KILL"], capture_output=True)
        runner.wait(timeout=30)
        err = agent.stop()
        srv.close()
    assert "vigil: enforcement: protected=1" in err, err
    # the agent is gone: nothing is blocked any more (fail open)
    assert subprocess.run(["bpftool", "cgroup", "show", "/sys/fs/cgroup/unified"],
                          capture_output=True, text=True).stdout.strip() == ""
