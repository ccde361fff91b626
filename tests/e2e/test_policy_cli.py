"""`vigil policy check|apply|list|show|delete|test` (docs/policies.md):
line-numbered errors, installing and listing, and `policy test --replay`
judging a recording as protect mode would, run as an unprivileged user (no
root needed), in text and JSON, with labels and image selectors from the
recording's container metadata."""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from mkrec import Recording  # noqa: E402

from conftest import VIGIL  # noqa: E402


def vigil(*args, user=None):
    cmd = [VIGIL] + list(args)
    if user:
        cmd = ["setpriv", "--reuid", str(user), "--regid", str(user), "--clear-groups"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


POLICY = """# a comment line
name: shop
selector:
  image: ["registry.local/shop:*"]
  labels: ["app=shop"]
default: block
rules:
  - id: shop-bin
    process: {exe: [/usr/bin/shop, /bin/sh]}
    action: allow
  - id: no-nc
    process: {exe: [/usr/bin/nc]}
    action: kill
    mitre: [T1059]
  - id: db
    network: {to: [10.0.0.0/24], ports: [5432], protocol: tcp}
    action: allow
  - id: shadow-file
    file: {paths: [/etc/shadow], access: [read]}
    action: block
  - id: ptrace
    privileged: [ptrace]
    action: alert
"""


def recording(path, labels):
    rec = Recording(host="node-1", start="2026-11-02T10:00:00Z")
    c = rec.container("a" * 64, image="registry.local/shop:1.2", name="shop-1",
                      pod="shop-1", namespace="prod", labels=labels)
    rec.known_process(c, 100, "/usr/bin/shop")
    sh = rec.spawn(c, 100, "/bin/sh", ["sh", "-c", "x"])
    rec.spawn(c, sh, "/usr/bin/nc", ["nc", "evil", "4444"])     # kill
    rec.spawn(c, sh, "/usr/bin/curl", ["curl", "x"])            # default: block
    rec.connect(c, 100, "10.0.0.9", 5432)                       # allowed
    rec.connect(c, 100, "10.0.0.9", 22)                         # default: block
    rec.open(c, 100, "/etc/shadow")                             # block
    rec.open(c, 100, "/etc/hostname")                           # files: open
    rec.priv(c, 100, "ptrace", target=1)                        # alert
    rec.write(str(path))


def test_check_reports_the_line(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(POLICY)
    r = vigil("policy", "check", str(good))
    assert r.returncode == 0 and "ok, 1 policy, 5 rules" in r.stdout, r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(POLICY.replace("    action: alert\n", "    action: block\n"))
    r = vigil("policy", "check", str(bad))
    assert r.returncode == 1
    line = POLICY.count("\n", 0, POLICY.index("    action: alert")) + 1
    assert r.stderr.startswith(f"{bad}:{line}: ") and "privileged" in r.stderr, r.stderr
    r = vigil("policy", "check", str(tmp_path / "missing.yaml"))
    assert r.returncode == 1 and "missing.yaml" in r.stderr


def test_apply_list_show_delete(tmp_path):
    data = tmp_path / "data"
    pol = tmp_path / "shop.yaml"
    pol.write_text(POLICY)
    r = vigil("policy", "apply", str(pol), "--data-dir", str(data))
    assert r.returncode == 0 and "used from the agent's next start" in r.stdout, r.stderr
    assert (data / "policies" / "shop.yaml").read_text() == POLICY
    # the same name from another file is refused
    other = tmp_path / "other.yaml"
    other.write_text(POLICY)
    r = vigil("policy", "apply", str(other), "--data-dir", str(data))
    assert r.returncode == 1 and "already installed" in r.stderr
    # a broken file is not installed
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nselector: {}\nrules: []\n")
    r = vigil("policy", "apply", str(broken), "--data-dir", str(data))
    assert r.returncode == 1 and "broken.yaml:2:" in r.stderr
    assert not (data / "policies" / "broken.yaml").exists()
    r = vigil("policy", "list", "--data-dir", str(data))
    assert "shop" in r.stdout and "image=registry.local/shop:*" in r.stdout, r.stdout
    r = vigil("policy", "show", "shop", "--data-dir", str(data))
    assert r.returncode == 0 and "default: process=block network=block" in r.stdout, r.stdout
    assert vigil("policy", "show", "nope", "--data-dir", str(data)).returncode == 1
    r = vigil("policy", "delete", "shop", "--data-dir", str(data))
    assert r.returncode == 0 and not (data / "policies" / "shop.yaml").exists()
    assert "no policies installed" in vigil("policy", "list", "--data-dir", str(data)).stdout


def test_test_replay_without_root():
    tmp_path = pathlib.Path(tempfile.mkdtemp(prefix="vigil-policy-test-"))
    os.chmod(tmp_path, 0o755)
    try:
        replay_as_nobody(tmp_path)
    finally:
        shutil.rmtree(tmp_path)


def replay_as_nobody(tmp_path):
    pol = tmp_path / "shop.yaml"
    pol.write_text(POLICY)
    rec = tmp_path / "shop.vrec"
    recording(rec, {"app": "shop", "tier": "web"})
    os.chmod(pol, 0o644)
    os.chmod(rec, 0o644)
    r = vigil("policy", "test", str(pol), "--replay", str(rec), user=65534)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    verdicts = sorted(line.split("  ")[0] + " " + line.split("  ")[1] for line in lines)
    assert verdicts == sorted([
        "would kill shop/no-nc", "would block shop/(default)", "would block shop/(default)",
        "would block shop/shadow-file", "would alert shop/ptrace"]), r.stdout
    assert "would kill 1, would block 3, would alert 1" in r.stderr, r.stderr
    r = vigil("policy", "test", str(pol), "--replay", str(rec), "--json", user=65534)
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    kill = [d for d in docs if d["verdict"] == "kill"][0]
    assert kill["rule"] == "no-nc" and kill["scope"] == "process"
    assert kill["process"]["executable"] == "/usr/bin/nc"
    # a pod without the label: the selector does not match, nothing judged
    other = tmp_path / "other.vrec"
    recording(other, {"app": "billing"})
    os.chmod(other, 0o644)
    r = vigil("policy", "test", str(pol), "--replay", str(other), user=65534)
    assert r.returncode == 0 and r.stdout == "", r.stdout
    assert "0 events judged" in r.stderr


def test_test_replay_bad_input(tmp_path):
    pol = tmp_path / "shop.yaml"
    pol.write_text(POLICY)
    junk = tmp_path / "junk.vrec"
    junk.write_bytes(b"not a recording at all")
    r = vigil("policy", "test", str(pol), "--replay", str(junk))
    assert r.returncode == 3 and "not a Vigil recording" in r.stderr, r.stderr
    r = vigil("policy", "test", str(pol))
    assert r.returncode == 2
    r = vigil("policy", "frobnicate")
    assert r.returncode == 2
