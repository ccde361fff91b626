"""Network rule sets in the kernel (bpf/enforce.bpf.c, netguard_set_rules),
driven by tests/e2e/helpers/guard_demo.c against real runc containers that
share the host network namespace: deny prefixes over IPv4 and IPv6, the
longest prefix and deny-over-allow, default postures for connect and bind,
IPv4-mapped IPv6 checked as IPv4, replacing a rule set under load without
letting a blocked connect through, stale entries gone after a replacement
and after netguard_release, host processes left alone.

The exec guard stays off (--no-exec): these tests are about the network
programs only."""
import json
import os
import signal
import socket
import subprocess
import threading
import time

from test_enforce import connect_from_host, free_port, guard, guard_bin, listeners, nc, running  # noqa: F401 (fixtures)

PREFIX_HDR_BITS = 80  # VGE_PREFIX_HDR_BITS: cgroup id (64) + gen (8) + family (8)


def blocked(r):
    return "rc=1" in r.stdout and "Operation not permitted" in r.stderr


def allowed(r):
    return "rc=0" in r.stdout


def map_entries(name, cg):
    """Entries of every loaded map called name that belong to cgroup cg
    (other enforce objects may be loaded by concurrent tests)."""
    r = subprocess.run(["bpftool", "-j", "map", "dump", "name", name], capture_output=True, text=True)
    data = json.loads(r.stdout or "[]")
    if data and isinstance(data[0], dict) and "elements" in data[0]:
        elems = [e for m in data for e in m["elements"]]
    else:
        elems = data
    out = []
    for e in elems:
        e = e.get("formatted", e)  # -j: raw hex bytes plus the BTF-decoded form
        k = e["key"]
        if isinstance(k, dict):
            kc = k["cgroup_id"]
            kc = kc[0] | (kc[1] << 32) if isinstance(kc, list) else kc
        else:
            kc = k
        if kc == cg:
            out.append(e)
    return out


def write_rules(path, lines):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("# guard_demo --rules\n" + "\n".join(lines) + "\n")
    os.replace(tmp, path)  # the guard never reads half a file


def test_deny_prefix_v4_v6_other_port_allowed_host_unaffected(running, guard, listeners):
    ok, bad = listeners(), listeners()
    c = running()
    # the port map allows both ports; the prefix denies bad: deny wins
    g = guard("--cgroup", c.cgroup, "--no-exec", "--allow", f"tcp:{ok.port}", "--allow", f"tcp:{bad.port}",
              "--net-rule", f"deny:127.0.0.0/8:tcp:{bad.port}", "--net-rule", f"deny:::1/128:tcp:{bad.port}")

    assert allowed(c.sh(nc(ok.port))), "allowed port over IPv4"
    r = c.sh(nc(bad.port))
    assert blocked(r), r
    assert allowed(c.sh(nc(ok.port, "::1"))), "allowed port over IPv6"
    r = c.sh(nc(bad.port, "::1"))
    assert blocked(r), r
    assert ok.wait(2) and bad.accepted == 0

    # the host: same port, same moment
    connect_from_host(bad.port)
    connect_from_host(bad.port, socket.AF_INET6, "::1")
    assert bad.wait(2)

    v4 = g.wait_event("net", verdict="blocked", family="ipv4", port=bad.port)
    v6 = g.wait_event("net", verdict="blocked", family="ipv6", port=bad.port)
    assert v4[0]["addr"] == "127.0.0.1" and v6[0]["addr"] == "::1"
    assert v4[0]["reason"] == "rule" and v6[0]["reason"] == "rule"
    assert not g.events("net", port=ok.port)
    counters = g.stop()
    assert counters["net"]["blocked"] == 2 and counters["net"]["allowed"] >= 2, counters


def test_longest_prefix_and_deny_over_allow(running, guard, listeners):
    a, b, other, d = listeners(), listeners(), listeners(), listeners()
    c = running()
    g = guard("--cgroup", c.cgroup, "--no-exec", "--net-default", "allow",
              "--net-rule", "deny:127.0.0.0/8",                       # everything of 127/8 ...
              "--net-rule", f"allow:127.0.0.1/32:tcp:{a.port}",       # ... but this (longer prefix)
              "--net-rule", f"allow:127.0.0.1/32:tcp:{b.port}",
              "--net-rule", f"deny:127.0.0.1/32:tcp:{b.port}",        # deny beats allow, same prefix
              "--net-rule", f"allow:127.0.0.1/32:tcp:{d.port}",
              "--deny", f"tcp:{d.port}")                              # a port-map deny beats a prefix allow

    assert allowed(c.sh(nc(a.port))), "the /32 allow carves an exception out of the /8 deny"
    assert blocked(c.sh(nc(a.port, "127.0.0.2"))), "only the /8 covers 127.0.0.2: denied"
    assert blocked(c.sh(nc(b.port))), "allow and deny of the same port: deny"
    assert blocked(c.sh(nc(d.port))), "port-map deny over prefix allow"
    # only the longest prefix's entries count: none of the /32 matches this
    # port, the /8 deny is not consulted, the default (allow) applies
    assert allowed(c.sh(nc(other.port)))
    assert a.wait(1) and other.wait(1) and b.accepted == 0 and d.accepted == 0

    for port in (b.port, d.port):
        assert g.wait_event("net", verdict="blocked", port=port)[0]["reason"] == "rule"
    assert g.wait_event("net", verdict="blocked", port=a.port, addr="127.0.0.2")[0]["reason"] == "rule"
    counters = g.stop()
    assert counters["net"]["blocked"] == 3, counters


def test_all_prefixes_keeps_a_wide_deny(running, guard, listeners):
    """A wide deny and a narrower allow: with the longest prefix only, the
    narrower allow wins; with --prefix-match all (all_prefixes), every
    covering prefix counts and deny beats allow, as across policies."""
    a, b = listeners(), listeners()
    c = running()
    rules = ["--net-rule", f"deny:127.0.0.0/8:tcp:{b.port}", "--net-rule", "allow:127.0.0.1/32"]
    g = guard("--cgroup", c.cgroup, "--no-exec", *rules)
    assert allowed(c.sh(nc(b.port))), "longest prefix only: the /32 allow decides"
    g.stop()
    g = guard("--cgroup", c.cgroup, "--no-exec", "--prefix-match", "all", *rules)
    assert blocked(c.sh(nc(b.port))), "all prefixes: the /8 deny holds inside the /32"
    assert allowed(c.sh(nc(a.port))), "the /8 denies only its port"
    assert blocked(c.sh(nc(a.port, "127.0.0.2"))), "outside the /32: the default blocks"
    assert b.wait(1) and a.wait(1)
    assert g.wait_event("net", verdict="blocked", port=b.port)[0]["reason"] == "rule"
    counters = g.stop()
    assert counters["net"]["blocked"] == 2, counters


def test_default_allow_with_denied_ports(running, guard, listeners):
    ok, bad = listeners(), listeners()
    listen_ok, listen_bad = free_port(), free_port()
    c = running()
    g = guard("--cgroup", c.cgroup, "--no-exec", "--net-default", "allow", "--bind-default", "allow",
              "--deny", f"tcp:{bad.port}", "--deny-listen", f"tcp:{listen_bad}")

    assert allowed(c.sh(nc(ok.port)))
    assert allowed(c.sh(nc(ok.port, "::1")))
    assert blocked(c.sh(nc(bad.port)))
    assert blocked(c.sh(nc(bad.port, "::1")))
    r = c.sh(f"nc -l -p {listen_ok} < /dev/null & p=$!; sleep 0.3; kill $p && echo listening")
    assert "listening" in r.stdout, r
    r = c.sh(f"nc -l -p {listen_bad} < /dev/null; echo rc=$?")
    assert "rc=1" in r.stdout and "not permitted" in r.stderr, r
    assert ok.wait(2) and bad.accepted == 0

    g.wait_event("net", verdict="blocked", op="bind", port=listen_bad, reason="rule")
    assert len(g.events("net", verdict="blocked", op="connect", port=bad.port, reason="rule")) == 2
    assert not g.events("net", reason="default")
    counters = g.stop()
    assert counters["net"]["blocked"] == 3, counters


def test_default_block_with_allowed_prefix(running, guard, listeners):
    one, two = listeners(), listeners()
    c = running()
    g = guard("--cgroup", c.cgroup, "--no-exec", "--net-rule", "allow:127.0.0.1/32")

    # any port of the allowed prefix, any protocol
    assert allowed(c.sh(nc(one.port)))
    assert allowed(c.sh(nc(two.port)))
    r = c.sh(f"echo x | nc -u -w 1 127.0.0.1 {one.port}; echo rc=$?")
    assert "not permitted" not in r.stderr, r
    # outside it: the default blocks
    assert blocked(c.sh(nc(one.port, "127.0.0.2")))
    assert blocked(c.sh(nc(one.port, "::1")))
    # binds: default block, but port 0 (the kernel picks one) is fine
    r = c.sh(f"nc -l -p {free_port()} < /dev/null; echo rc=$?")
    assert "rc=1" in r.stdout and "not permitted" in r.stderr, r
    r = c.sh("nc -l -p 0 < /dev/null & p=$!; sleep 0.3; kill $p && echo listening")
    assert "listening" in r.stdout, r
    assert one.wait(1) and two.wait(1)

    # the host is not affected
    connect_from_host(one.port, socket.AF_INET6, "::1")
    connect_from_host(one.port, socket.AF_INET, "127.0.0.2")
    assert one.wait(3)

    v4 = g.wait_event("net", verdict="blocked", op="connect", family="ipv4")
    v6 = g.wait_event("net", verdict="blocked", op="connect", family="ipv6")
    assert v4[0]["addr"] == "127.0.0.2" and v4[0]["reason"] == "default"
    assert v6[0]["addr"] == "::1" and v6[0]["reason"] == "default"
    g.wait_event("net", verdict="blocked", op="bind", reason="default")
    counters = g.stop()
    assert counters["net"]["blocked"] == 3, counters


def test_ipv4_mapped_checked_as_ipv4(running, guard, listeners):
    ok, bad = listeners(), listeners()
    c = running()
    # an IPv4 deny also holds for a dual-stack socket going to ::ffff:127.0.0.1
    g = guard("--cgroup", c.cgroup, "--no-exec", "--net-default", "allow",
              "--net-rule", f"deny:127.0.0.0/8:tcp:{bad.port}")
    assert blocked(c.sh(nc(bad.port, "::ffff:127.0.0.1")))
    assert allowed(c.sh(nc(ok.port, "::ffff:127.0.0.1")))
    e = g.wait_event("net", verdict="blocked", port=bad.port)
    assert e[0]["family"] == "ipv6" and e[0]["addr"] == "::ffff:127.0.0.1" and e[0]["reason"] == "rule"
    g.stop()

    # a rule written in the mapped form is an IPv4 rule: it allows plain
    # IPv4 and mapped connects alike; the default blocks the rest
    g = guard("--cgroup", c.cgroup, "--no-exec", "--net-rule", f"allow:[::ffff:127.0.0.1]/128:tcp:{ok.port}")
    assert allowed(c.sh(nc(ok.port)))
    assert allowed(c.sh(nc(ok.port, "::ffff:127.0.0.1")))
    assert blocked(c.sh(nc(bad.port, "::ffff:127.0.0.1")))
    assert ok.wait(3) and bad.accepted == 0
    assert g.wait_event("net", verdict="blocked", port=bad.port)[0]["reason"] == "default"
    counters = g.stop()
    assert counters["net"]["blocked"] == 1, counters


HAMMER = r"""
import json, os, socket, sys, time
procs, bad, ok, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(procs, "w") as f:
    f.write(str(os.getpid()))  # into the protected cgroup
tries = leaks = misses = 0
while not os.path.exists(stop):
    for _ in range(50):
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", bad))
            leaks += 1
        except OSError:
            pass
        finally:
            s.close()
        tries += 1
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", ok))
    except PermissionError:
        misses += 1
    except OSError:
        pass
    finally:
        s.close()
    time.sleep(0.005)  # paced: every blocked try is a decision record to read
print(json.dumps({"tries": tries, "leaks": leaks, "misses": misses}))
"""


def cgroup_dir(rel):
    mnt = "/sys/fs/cgroup/unified" if os.path.ismount("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"
    return mnt + rel


def test_replace_rule_set_under_load_no_gap_then_release(running, guard, listeners, tmp_path):
    ok, bad, extra = listeners(), listeners(), listeners()
    lbad = free_port()
    # bad is blocked by both sets, for different reasons: A denies it with a
    # /8 rule under a default allow; B has only a narrower allow prefix (for
    # ok) and a default block. A switch that mixed B's prefix with A's
    # default, or removed A's deny before B took over, would let bad
    # through. The filler entries make each replacement long enough that
    # such a window would be hit.
    set_a = ["net-default allow", f"net-rule deny:127.0.0.0/8:tcp:{bad.port}", f"allow tcp:{extra.port}"] + \
        [f"allow udp:{40000 + i}" for i in range(300)]
    set_b = [f"net-rule allow:127.0.0.1/32:tcp:{ok.port}", f"deny-listen tcp:{lbad}"]
    filler_b = [f"allow udp:{41000 + i}" for i in range(300)]
    rules = str(tmp_path / "rules")
    stop = str(tmp_path / "stop")
    write_rules(rules, set_a)
    c = running()
    g = guard("--cgroup", c.cgroup, "--no-exec", "--rules", rules)
    cg = g.events("ready")[0]["cgroup_id"]
    assert allowed(c.sh(nc(extra.port))), "set A allows extra"

    # a tight connect loop in the container's cgroup, and nc from inside it
    hammer = subprocess.Popen(["/usr/bin/python3", "-c", HAMMER, cgroup_dir(c.cgroup) + "/cgroup.procs",
                               str(bad.port), str(ok.port), stop], stdout=subprocess.PIPE, text=True)
    done = threading.Event()
    sent = [0]

    def churn():
        while not done.is_set():
            write_rules(rules, set_b + filler_b if sent[0] % 2 == 0 else set_a)
            g.proc.send_signal(signal.SIGUSR1)
            sent[0] += 1
            time.sleep(0.01)

    n = 40
    t = threading.Thread(target=churn)
    t.start()
    try:
        time.sleep(0.5)
        r = c.sh(f"i=0; while [ $i -lt {n} ]; do "
                 f"nc -w 1 127.0.0.1 {bad.port} </dev/null 2>/dev/null && echo LEAK; "
                 f"nc -w 1 127.0.0.1 {ok.port} </dev/null 2>/dev/null || echo MISS; "
                 "i=$((i+1)); done; echo done", timeout=120)
        time.sleep(0.5)
    finally:
        done.set()
        t.join()
        open(stop, "w").close()
        out, _ = hammer.communicate(timeout=30)
    h = json.loads(out)
    assert "done" in r.stdout, r
    assert h["tries"] > 1000, h
    assert "LEAK" not in r.stdout and h["leaks"] == 0 and bad.accepted == 0, ("a blocked connect got through", h)
    assert "MISS" not in r.stdout and h["misses"] == 0, ("a connect both sets allow was blocked", h)
    reloads = g.events("rules")
    assert len(reloads) >= 10 and all(e["rc"] == 0 for e in reloads), reloads

    # end on B: A's entries are gone, B's are the only ones, all of one gen
    write_rules(rules, set_b)
    last = len(g.events("rules"))
    g.proc.send_signal(signal.SIGUSR1)
    deadline = time.time() + 5
    while len(g.events("rules")) <= last and time.time() < deadline:
        time.sleep(0.05)
    assert g.events("rules")[-1]["rc"] == 0
    assert blocked(c.sh(nc(extra.port))), "extra was only allowed by set A"
    assert allowed(c.sh(nc(ok.port)))
    prot = map_entries("protected", cg)
    assert len(prot) == 1, prot
    gen = prot[0]["value"]["gen"]
    assert prot[0]["value"]["connect_default"] != 1 and prot[0]["value"]["flags"] == 1, prot
    pfx = map_entries("prefixes", cg)
    assert len(pfx) == 1, pfx
    assert pfx[0]["key"]["gen"] == gen and pfx[0]["key"]["prefixlen"] == PREFIX_HDR_BITS + 32, pfx
    assert map_entries("allow_net", cg) == []
    bind = map_entries("allow_bind", cg)
    assert len(bind) == 1 and bind[0]["key"]["port"] == lbad and bind[0]["key"]["gen"] == gen, bind

    # netguard_release: nothing of the cgroup is left, nothing is checked
    g.proc.send_signal(signal.SIGUSR2)
    assert g.wait_event("released")[0]["rc"] == 0
    for name in ("protected", "prefixes", "allow_net", "allow_bind"):
        assert map_entries(name, cg) == [], name
    assert allowed(c.sh(nc(bad.port)))
    assert bad.wait(1)
    counters = g.stop()
    assert counters["net"]["blocked"] >= h["tries"] + n + 1, counters
