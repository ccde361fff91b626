"""Policies in the running agent, on the real kernel with real runc
containers (docs/policies.md): installed with `vigil policy apply`, judged
on every event, enforced in protect mode at each kernel point (exec, open,
connect over IPv4 and IPv6), kill and freeze, shadow mode blocking nothing,
reload on file change and SIGHUP (a broken file keeps the old set), modes
persisted across agent restarts, and the host unaffected throughout."""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import VIGIL, get
from test_metrics import scrape, value
from test_models_live import Agent, static_privops, wait_for  # noqa: F401 (fixture)

BUSYBOX_APPLETS = ("touch", "sleep")


def listener(family, addr, port):
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    srv.bind((addr, port))
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


class Running:
    """A runc container sharing the host network, idling until killed; tools
    copied to /opt/tools are separate files (busybox applets otherwise all
    exec /bin/busybox)."""

    def __init__(self, c):
        self.c = c
        root = os.path.join(c.bundle, "rootfs")
        os.makedirs(os.path.join(root, "opt", "tools"))
        for name in BUSYBOX_APPLETS:
            shutil.copy(os.path.join(root, "bin", "busybox"), os.path.join(root, "opt", "tools", name))
        with open(os.path.join(root, "etc", "secret.txt"), "w") as f:
            f.write("s3cret\n")
        with open(os.path.join(root, "etc", "app.conf"), "w") as f:
            f.write("ok\n")
        self.root = root
        c.config["linux"]["namespaces"] = [n for n in c.config["linux"]["namespaces"] if n["type"] != "network"]
        c.config["process"]["args"] = ["/bin/sh", "-c", "while true; do sleep 0.5; done"]
        with open(os.path.join(c.bundle, "config.json"), "w") as f:
            json.dump(c.config, f)
        self.proc = subprocess.Popen(["runc", "run", c.id], cwd=c.bundle, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.state() == "running", 20, "the container")

    def state(self):
        r = subprocess.run(["runc", "state", self.c.id], capture_output=True, text=True)
        return json.loads(r.stdout)["status"] if r.returncode == 0 else None

    def sh(self, script, timeout=30):
        return subprocess.run(["runc", "exec", self.c.id, "/bin/sh", "-c", script], capture_output=True,
                              text=True, timeout=timeout)

    def cgroup_dir(self):
        r = subprocess.run(["runc", "state", self.c.id], capture_output=True, text=True)
        pid = json.loads(r.stdout)["pid"]
        with open(f"/proc/{pid}/cgroup") as f:
            for line in f:
                if line.startswith("0::"):
                    return "/sys/fs/cgroup/unified" + line.strip()[3:]
        raise AssertionError("no v2 cgroup")

    def stop(self):
        subprocess.run(["runc", "kill", self.c.id, "KILL"], capture_output=True)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def denied(r):
    return r.returncode != 0 and ("ermission denied" in r.stderr or "not permitted" in r.stderr)


def apply(agent, path):
    r = subprocess.run([VIGIL, "policy", "apply", str(path), "--data-dir", agent.data],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


def set_mode(agent, cid, mode):
    r = subprocess.run([VIGIL, "mode", "set", cid, mode, "--data-dir", agent.data], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: f"'{cid}' is now in {mode} mode" in open(agent.err.name).read(), 10, f"{mode} mode")


def alerts_where(agent, **conds):
    return [a for a in agent.read_alerts() if all(get(a, k.replace("__", ".")) == v for k, v in conds.items())]


def rule_ids(alerts):
    return {get(a, "rule.id") for a in alerts}


POLICY = """
name: {name}
selector:
  container: ["{cid}"]
severity: high
rules:
  - id: no-tools-touch
    process:
      exe: [/opt/tools/touch]
    action: block
    mitre: [T1059]
  - id: no-tools-sleep
    process:
      exe: [/opt/tools/sleep]
    action: kill
  - id: secret
    file:
      paths: [/etc/secret.txt]
      access: [read, write]
    action: block
    mitre: [T1552.001]
  - id: passwd-write
    file:
      paths: [/etc/passwd]
      access: [write]
    action: alert
    severity: medium
  - id: egress
    network:
      to: [127.0.0.1/32, "::1/128"]
      ports: [{blocked}]
    action: block
"""


@pytest.fixture
def setup(tmp_path, container):
    made = []

    def make(policy=POLICY, *agent_args):
        blocked = random.randint(20000, 29000)
        allowed = blocked + 3
        srvs = [listener(socket.AF_INET, "127.0.0.1", p) for p in (blocked, allowed)]
        srvs += [listener(socket.AF_INET6, "::1", p) for p in (blocked, allowed)]
        c = container()
        pol = tmp_path / "p.yaml"
        pol.write_text(policy.format(name="t-" + c.id, cid=c.id, blocked=blocked))
        agent = Agent(str(tmp_path), *agent_args)
        apply(agent, pol)
        wait_for(lambda: "policies reloaded" in open(agent.err.name).read(), 10, "the policy")
        run = Running(c)
        made.append((agent, run, srvs))
        return agent, run, blocked, allowed, pol

    yield make
    for agent, run, srvs in made:
        run.stop()
        agent.stop()
        for s in srvs:
            s.close()


def test_protect_enforces_every_kernel_point(setup):
    mport = random.randint(40001, 50000)
    agent, run, blocked, allowed, _ = setup(POLICY, "--metrics", f"127.0.0.1:{mport}")
    run.sh("true")  # the agent has seen the container
    set_mode(agent, run.c.id, "protect")

    # exec: refused before it runs (the touch never happened)
    r = run.sh("/opt/tools/touch /tmp/ran")
    assert denied(r), (r.returncode, r.stderr)
    assert not os.path.exists(os.path.join(run.root, "tmp", "ran"))
    # open: the secret is refused, a file beside it is not
    r = run.sh("cat /etc/secret.txt")
    assert denied(r) and "s3cret" not in r.stdout, (r.stdout, r.stderr)
    assert run.sh("cat /etc/app.conf").stdout == "ok\n"
    # connect: the listed port is refused over IPv4 and IPv6, another works
    for addr in ("127.0.0.1", "::1"):
        r = run.sh(f"nc {addr} {blocked} < /dev/null && echo connected")
        assert "connected" not in r.stdout and "not permitted" in r.stderr, (addr, r.stdout, r.stderr)
        r = run.sh(f"nc {addr} {allowed} < /dev/null && echo connected")
        assert "connected" in r.stdout, (addr, r.stderr)
    # an alert rule alerts and lets it happen
    assert run.sh("echo 'x:x:1:1::/:/bin/sh' >> /etc/passwd").returncode == 0
    # the host is unaffected: same file, same port
    with open(os.path.join(run.root, "etc", "secret.txt")) as f:
        assert f.read() == "s3cret\n"
    with socket.create_connection(("127.0.0.1", blocked), timeout=5):
        pass

    blocked_alerts = wait_for(
        lambda: (lambda a: a if {"no-tools-touch", "secret", "egress"} <= rule_ids(a) else None)(
            alerts_where(agent, vigil__alert__action_taken="blocked")), 10, "blocked alerts")
    for a in blocked_alerts:
        assert get(a, "vigil.alert.source") == "policy"
        assert get(a, "rule.ruleset") == "policy:t-" + run.c.id
    secret = [a for a in blocked_alerts if get(a, "rule.id") == "secret"][0]
    assert get(secret, "threat.technique.id") == ["T1552.001"]
    alerted = wait_for(lambda: alerts_where(agent, rule__id="passwd-write"), 10, "the passwd alert")
    assert get(alerted[0], "vigil.alert.action_taken") == "alerted"
    m = scrape(mport)
    assert value(m, "vigil_enforced_containers") == 1
    assert value(m, "vigil_policies") == 1
    assert value(m, "vigil_enforcement_blocked_total") == 4  # exec, open, connect v4 and v6
    assert value(m, "vigil_policy_alerts_total") >= 1
    assert value(m, "vigil_enforcement_failed_total") == 0


def test_kill_rule_kills_the_process(setup):
    agent, run, _, _, _ = setup()
    run.sh("true")
    set_mode(agent, run.c.id, "protect")
    # the child that tried the exec is killed (a blocked exec would give 126)
    r = run.sh("/opt/tools/sleep 5; echo rc=$?")
    assert "rc=137" in r.stdout, (r.stdout, r.stderr)
    # a shell exec-ing it itself dies with it
    r = run.sh("exec /opt/tools/sleep 5")
    assert r.returncode in (137, -9), (r.returncode, r.stderr)
    assert run.state() == "running"  # only the process
    a = wait_for(lambda: alerts_where(agent, rule__id="no-tools-sleep"), 10, "the kill alert")
    assert get(a[0], "vigil.alert.action_taken") == "killed"


def test_kill_container(setup):
    policy = POLICY.replace("    action: kill\n", "    action: kill\n    scope: container\n")
    agent, run, _, _, _ = setup(policy)
    run.sh("true")
    set_mode(agent, run.c.id, "protect")
    run.sh("/opt/tools/sleep 5")
    wait_for(lambda: run.state() in (None, "stopped"), 10, "the container killed")
    a = wait_for(lambda: alerts_where(agent, rule__id="no-tools-sleep"), 10, "the kill alert")
    assert get(a[0], "vigil.alert.action_taken") == "container_killed"
    # the container is gone: the agent releases its guards by itself
    run.proc.wait(timeout=10)
    subprocess.run(["runc", "delete", "-f", run.c.id], capture_output=True)
    time.sleep(3.5)  # two sweeps, a second apart
    assert "vigil: enforcement: protected=0 " in agent.stop()


def test_freeze_keeps_the_container(setup):
    policy = POLICY.replace("    action: kill\n", "    action: kill\n    freeze: true\n")
    agent, run, _, _, _ = setup(policy)
    run.sh("true")
    set_mode(agent, run.c.id, "protect")
    cg = run.cgroup_dir()
    subprocess.Popen(["runc", "exec", run.c.id, "/opt/tools/sleep", "1"], stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
    wait_for(lambda: "frozen 1" in open(os.path.join(cg, "cgroup.events")).read(), 10, "a frozen cgroup")
    assert run.state() in ("paused", "running")  # still there, for inspection
    a = wait_for(lambda: alerts_where(agent, rule__id="no-tools-sleep"), 10, "the freeze alert")
    assert get(a[0], "vigil.alert.action_taken") == "container_frozen"
    with open(os.path.join(cg, "cgroup.freeze"), "w") as f:
        f.write("0")


def test_shadow_blocks_nothing_and_reports(setup):
    agent, run, blocked, _, _ = setup()
    run.sh("true")
    set_mode(agent, run.c.id, "shadow")
    r = run.sh("/opt/tools/touch /tmp/ran && cat /etc/secret.txt")
    assert r.returncode == 0 and "s3cret" in r.stdout, r.stderr
    assert os.path.exists(os.path.join(run.root, "tmp", "ran"))
    assert "connected" in run.sh(f"nc 127.0.0.1 {blocked} < /dev/null && echo connected").stdout
    wait_for(lambda: (lambda a: a if {"no-tools-touch", "secret", "egress"} <= rule_ids(a) else None)(
        alerts_where(agent, vigil__alert__action_taken="would_block")), 10, "would_block alerts")
    assert not alerts_where(agent, vigil__alert__action_taken="blocked")


def test_reload_on_change_and_sighup_broken_keeps_old(setup):
    agent, run, _, _, pol = setup()
    run.sh("true")
    set_mode(agent, run.c.id, "protect")
    assert denied(run.sh("cat /etc/secret.txt"))
    installed = os.path.join(agent.data, "policies", "p.yaml")
    # a broken file: the old set stays in force, and the log says why
    with open(installed, "a") as f:
        f.write("  - id: broken\n    action: explode\n")
    wait_for(lambda: "policies not reloaded" in open(agent.err.name).read(), 10, "the reload error")
    assert denied(run.sh("cat /etc/secret.txt"))
    # fixed without the secret rule, then SIGHUP: the open works again
    with open(installed, "w") as f:
        f.write(pol.read_text().replace("/etc/secret.txt", "/etc/other.txt"))
    agent.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: run.sh("cat /etc/secret.txt").stdout == "s3cret\n", 10, "the new set in force")
    # what stayed in the policy is still enforced
    assert denied(run.sh("/opt/tools/touch /tmp/ran"))


def test_mode_persists_across_restart(setup):
    agent, run, _, _, _ = setup()
    run.sh("true")
    set_mode(agent, run.c.id, "protect")
    assert denied(run.sh("cat /etc/secret.txt"))
    agent.stop()
    # the agent is gone: fail open
    assert run.sh("cat /etc/secret.txt").stdout == "s3cret\n"
    agent.proc = subprocess.Popen([VIGIL, "run", "--data-dir", agent.data, "--quiet"],
                                  stdout=subprocess.DEVNULL, stderr=agent.err)
    # the container's next event applies its persisted mode
    wait_for(lambda: denied(run.sh("cat /etc/secret.txt")), 15, "protect mode after the restart")


def test_default_mode_protect_from_config(setup, tmp_path):
    conf = tmp_path / "vigil.conf"
    conf.write_text("default_mode: protect\n")
    agent, run, _, _, _ = setup(POLICY, "--config", str(conf))
    wait_for(lambda: denied(run.sh("cat /etc/secret.txt")), 10, "protect by default")


MEMFD_POLICY = POLICY + """
  - id: no-memfd-exec
    privileged: [memfd_exec]
    action: kill
    mitre: [T1620]
"""


def test_memfd_exec_killed_at_exec(setup, static_privops):
    """No fanotify event exists for an exec of a memfd: the sensor's exec
    tracepoint kills it before the program runs."""
    agent, run, _, _, _ = setup(MEMFD_POLICY)
    shutil.copy(static_privops, os.path.join(run.root, "opt", "privops"))
    run.sh("true")
    set_mode(agent, run.c.id, "protect")
    r = run.sh("/opt/privops memfd /bin/busybox touch /tmp/memfd-ran")
    assert r.returncode == 1 and "status 0x9" in r.stdout + r.stderr, (r.stdout, r.stderr)
    assert not os.path.exists(os.path.join(run.root, "tmp", "memfd-ran"))
    # an ordinary exec still works
    assert run.sh("/bin/busybox touch /tmp/plain-ran").returncode == 0
    a = wait_for(lambda: alerts_where(agent, rule__id="no-memfd-exec"), 10, "the memfd alert")
    assert get(a[0], "vigil.alert.action_taken") == "killed"
    assert get(a[0], "threat.technique.id") == ["T1620"]


PARENT_POLICY = """
name: {name}
selector:
  container: ["{cid}"]
rules:
  - id: touch-from-shell
    process:
      exe: [/opt/tools/touch]
      parent: [/bin/busybox]
    action: block
  - id: sleep-from-elsewhere
    process:
      exe: [/opt/tools/sleep]
      parent: [/usr/sbin/nginx]
    action: block
  - id: egress
    network:
      ports: [{blocked}]
    action: alert
"""


def test_parent_lineage_decides_in_the_kernel_path(setup):
    """The exec guard passes the calling program (the new one's parent) to
    the policy: the same shell is refused one tool and not the other."""
    agent, run, _, _, _ = setup(PARENT_POLICY)
    run.sh("true")
    set_mode(agent, run.c.id, "protect")
    assert denied(run.sh("/opt/tools/touch /tmp/ran"))
    assert not os.path.exists(os.path.join(run.root, "tmp", "ran"))
    assert run.sh("/opt/tools/sleep 0").returncode == 0
    a = wait_for(lambda: alerts_where(agent, rule__id="touch-from-shell"), 10, "the parent rule")
    assert get(a[0], "vigil.alert.action_taken") == "blocked"
    assert not alerts_where(agent, rule__id="sleep-from-elsewhere")
