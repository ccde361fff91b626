"""Built-in detections on the real kernel: each fires on a real runc
container action and stays silent on its benign twin. One agent serves the
whole module; alerts are told apart by container id (or, for host twins,
by process)."""
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import VIGIL, Container, get

HELPER_SRC = os.path.join(os.path.dirname(__file__), "helpers", "privops.c")


@pytest.fixture(scope="module")
def env():
    tmp = tempfile.mkdtemp(prefix="vigil-detect-")
    privops = os.path.join(tmp, "privops")
    subprocess.run(["gcc", "-static", "-O2", "-o", privops, HELPER_SRC], check=True)
    alerts = os.path.join(tmp, "alerts.json")
    err = open(os.path.join(tmp, "agent.err"), "w+")
    agent = subprocess.Popen([VIGIL, "run", "--data-dir", os.path.join(tmp, "data"), "--alerts", alerts,
                              "--quiet", "--learn-min", "1h", "--learn-settle", "1h"],
                             stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.time() + 20
    while time.time() < deadline:
        err.seek(0)
        if "vigil: running" in err.read():
            break
        time.sleep(0.05)
    yield {"tmp": tmp, "privops": privops, "alerts": alerts}
    agent.send_signal(signal.SIGINT)
    agent.wait(timeout=30)
    shutil.rmtree(tmp, ignore_errors=True)


def rule_alerts(env, pred, settle=1.0):
    time.sleep(settle)
    if not os.path.exists(env["alerts"]):
        return []
    with open(env["alerts"]) as f:
        return [a for a in map(json.loads, f) if get(a, "vigil.alert.source") == "detection" and pred(a)]


def run_in_container(env, script, caps=None, setup=None):
    c = Container(env["tmp"])
    c.config["linux"]["namespaces"] = [n for n in c.config["linux"]["namespaces"] if n["type"] != "network"]
    c.config["process"]["noNewPrivileges"] = False
    root = os.path.join(c.bundle, "rootfs")
    shutil.copy(env["privops"], os.path.join(root, "bin", "privops"))
    shutil.copy(env["privops"], os.path.join(root, "bin", "suid"))
    os.chmod(os.path.join(root, "bin", "suid"), 0o4755)
    if caps:
        for k in ("bounding", "effective", "permitted"):
            c.config["process"]["capabilities"][k] += caps
    if setup:
        setup(root)
    r = c.run(script)
    c.delete()
    return c.id, r


def fired(env, cid, rule):
    return rule_alerts(env, lambda a: get(a, "container.id") == cid and get(a, "rule.id") == rule)


PORT = random.randint(20000, 30000)

CASES = [
    # rule, attack, benign twin
    # (each attack command is followed by another so busybox sh forks it)
    ("shell-in-container", "/bin/privops spawnsh", "sh -c 'sh -c true'; true"),
    ("reverse-shell", f"nc -l -p {PORT} -e /bin/sh & sleep 0.4; echo exit | nc 127.0.0.1 {PORT}; wait",
     "echo exit | sh"),
    ("credential-file-read", "cat /etc/shadow > /dev/null", "cat /etc/passwd > /dev/null"),
    ("write-below-binary-dir", "echo x > /bin/evil", "echo x > /tmp/fine"),
    ("write-below-etc", "echo '* * * * * root sh' > /etc/crontab", "cat /etc/hostname > /dev/null"),
    ("drift-exec", "cp /bin/busybox /tmp/d && /tmp/d true", "/bin/busybox true"),
    ("fileless-exec", "cp /bin/busybox /tmp/sh && /tmp/sh -c 'rm /tmp/sh; exec /proc/self/exe'; true",
     "/bin/sh -c 'exec /proc/self/exe'; true"),
    ("ptrace-attach", "/bin/privops ptrace", "/bin/privops traceme"),
    ("kernel-module-load", "/bin/privops module", "cat /proc/modules > /dev/null; true"),
    ("container-escape-attempt", "/bin/privops unshare", "/bin/privops setgid"),
    ("crypto-miner", "nc 127.0.0.1 3333 < /dev/null; true", "nc 127.0.0.1 8081 < /dev/null; true"),
    ("log-tampering", "rm /var/log/app.log", "rm /tmp/app.log"),
]


def make_logs(root):
    for p in ("var/log/app.log", "tmp/app.log"):
        with open(os.path.join(root, p), "w") as f:
            f.write("entry\n")


@pytest.mark.parametrize("rule,attack,benign", CASES, ids=[c[0] for c in CASES])
def test_detection_and_benign_twin(env, rule, attack, benign):
    cid, _ = run_in_container(env, attack, setup=make_logs)
    got = fired(env, cid, rule)
    assert len(got) == 1, f"{rule} did not fire once on the attack: {got}"
    a = got[0]
    assert get(a, "event.kind") == "alert" and get(a, "vigil.alert.score") >= 60
    assert get(a, "threat.technique.id"), "no MITRE technique"
    assert get(a, "rule.name") and get(a, "message")
    assert get(a, "vigil.alert.first_seen") and get(a, "vigil.alert.count") == 1
    if rule == "shell-in-container":
        # the ancestry goes up to the container's first process, not into runc
        names = [p["name"] for p in get(a, "vigil.alert.ancestry")]
        assert names[0] == "privops" and "runc" not in names, names
    bid, _ = run_in_container(env, benign, setup=make_logs)
    assert fired(env, bid, rule) == [], f"{rule} fired on its benign twin"


def test_setuid_root_from_non_root(env):
    def attack(cid):
        return subprocess.run(["runc", "exec", "--user", "1000:1000", cid, "/bin/suid", "setuid0"],
                              capture_output=True, text=True)

    for user, should in (("1000:1000", True), ("0:0", False)):
        c = Container(env["tmp"])
        c.config["process"]["noNewPrivileges"] = False
        root = os.path.join(c.bundle, "rootfs")
        shutil.copy(env["privops"], os.path.join(root, "bin", "suid"))
        os.chmod(os.path.join(root, "bin", "suid"), 0o4755)
        c.config["process"]["args"] = ["/bin/sleep", "5"]
        with open(os.path.join(c.bundle, "config.json"), "w") as f:
            json.dump(c.config, f)
        p = subprocess.Popen(["runc", "run", c.id], cwd=c.bundle, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.7)
        r = subprocess.run(["runc", "exec", "--user", user, "--env", "X=1", c.id, "/bin/suid", "setuid0"],
                           capture_output=True, text=True)
        assert "ret=0" in r.stdout, r.stdout + r.stderr
        subprocess.run(["runc", "kill", c.id, "KILL"], capture_output=True)
        p.wait(timeout=20)
        got = fired(env, c.id, "setuid-root-from-non-root")
        c.delete()
        assert bool(got) == should, (user, got)


def test_capset_dangerous(env):
    cid, _ = run_in_container(env, "/bin/privops capset", caps=["CAP_SYS_ADMIN"])
    assert len(fired(env, cid, "capset-dangerous")) == 1
    bid, _ = run_in_container(env, "/bin/privops capset")
    assert fired(env, bid, "capset-dangerous") == []


def test_package_manager_in_container(env):
    def fake_apt(root):
        os.symlink("busybox", os.path.join(root, "bin", "apt-get"))

    cid, _ = run_in_container(env, "apt-get install curl; true", setup=fake_apt)
    assert len(fired(env, cid, "package-manager-in-container")) == 1
    # the benign twin: the same tool on the host is administration, not drift
    subprocess.run(["apt-get", "--version"], capture_output=True)
    host = rule_alerts(env, lambda a: get(a, "rule.id") == "package-manager-in-container"
                       and get(a, "container") is None)
    assert host == []
