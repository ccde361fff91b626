"""`vigil model export KEY --as-policy`: the policy written from a learned
model passes `vigil policy check`; `vigil policy test` finds nothing to
block in the behaviour the model learned, and would block a new program, a
new port and a new destination; usage errors. No root needed (replay)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from mkrec import Recording  # noqa: E402

from test_model_cli import learned_store, vigil  # noqa: E402
from test_models_replay import MONDAY, weeks_of_service  # noqa: E402


def test_export_as_policy(tmp_path):
    data = learned_store(tmp_path)
    pol = tmp_path / "shop-policy.yaml"
    r = vigil("model", "export", "service:shop.service", "--as-policy", "-o", str(pol),
              "--data-dir", data)
    assert "as a policy" in r.stderr
    text = pol.read_text()
    assert 'model "service:shop.service"' in text
    assert 'name: "learned-service-shop.service"' in text
    assert 'service: ["shop.service"]' in text
    assert "default: {process: block, network: block}" in text
    assert '- "/usr/bin/shop-worker"' in text
    assert '- "10.0.0.0/24"\n      ports: [5432]\n      protocol: tcp' in text
    assert '- "db.internal"' in text
    assert '- "/etc/shop/config.yml"' in text
    # the exec's parent and user cannot be said in a policy: a comment
    assert '#   "/usr/bin/shop-worker <- /usr/lib/systemd/systemd [uid 0]"' in text
    # to stdout without -o: the same policy
    out = vigil("model", "export", "service:shop.service", "--as-policy", "--data-dir", data).stdout
    assert out.split("\nname:", 1)[1] == text.split("\nname:", 1)[1]

    chk = vigil("policy", "check", str(pol), check=False)
    assert chk.returncode == 0, chk.stderr

    # what the model learned: nothing would be blocked
    same = Recording(host="node-1", start=MONDAY)
    weeks_of_service(same, 1)
    same_path = tmp_path / "same.vrec"
    same.write(str(same_path))
    t = vigil("policy", "test", str(pol), "--replay", str(same_path), check=False)
    assert t.returncode == 0, t.stderr
    assert "would block" not in t.stdout, t.stdout
    assert "would block 0" in t.stderr

    # a new program, a known destination on a new port, a new destination
    new = Recording(host="node-1", start=MONDAY)
    shop = new.service("shop.service")
    new.known_process(shop, 60, "/usr/lib/systemd/systemd")
    pid = new.spawn(shop, 60, "/usr/bin/shop-worker", ["shop-worker", "--once"])
    new.connect(shop, pid, "10.0.0.7", 5432)     # learned: allowed
    new.connect(shop, pid, "10.0.0.7", 22)       # new port
    new.connect(shop, pid, "192.168.9.9", 5432)  # new destination
    nc = new.spawn(shop, 60, "/usr/bin/nc", ["nc", "-l"])  # new program
    new_path = tmp_path / "new.vrec"
    new.write(str(new_path))
    t = vigil("policy", "test", str(pol), "--replay", str(new_path), check=False)
    assert t.returncode == 0, t.stderr
    blocked = [line for line in t.stdout.splitlines() if line.startswith("would block")]
    assert len(blocked) == 3, t.stdout
    assert any("/usr/bin/nc" in line for line in blocked), blocked
    assert any(":22" in line or " 22" in line for line in blocked), blocked
    assert any("192.168.9.9" in line for line in blocked), blocked
    assert not any("shop-worker" in line and "exec" in line for line in blocked), blocked
    assert nc


def test_export_as_policy_errors(tmp_path):
    data = learned_store(tmp_path)
    missing = vigil("model", "export", "container:nope", "--as-policy", "--data-dir", data,
                    check=False)
    assert missing.returncode == 1 and "no model 'container:nope'" in missing.stderr
    usage = vigil("model", "show", "service:shop.service", "--as-policy", "--data-dir", data,
                  check=False)
    assert usage.returncode == 2 and "does not take --as-policy" in usage.stderr
    helped = vigil("model", "export", "--help")
    assert "--as-policy" in helped.stdout
