"""Alert outputs end to end, with alerts produced deterministically by
replaying recordings (no root needed): a real rsyslogd started here with
its own configuration receives them over UDP, TCP and unix datagram and
stream sockets as RFC 5424 messages; a local HTTP receiver gets them as
webhooks, through an outage and agent restarts, exactly once and in order;
the Falco payload follows Falco's documented alert JSON field by field;
the --alerts file takes every format."""
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from mkrec import Recording, read_frames  # noqa: E402

from conftest import VIGIL, get  # noqa: E402

FALCO_PRIORITIES = ["Emergency", "Alert", "Critical", "Error", "Warning",
                    "Notice", "Informational", "Debug"]
RFC3339_NS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
RFC5424 = re.compile(r"^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) "
                     r"(\S+) (\S+) (\d+) (\S+) (-|\[.*?\]) (.*)$", re.S)


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def learn(tmp_path):
    """A shop.service whose model is active after three days of replay."""
    r = Recording(host="node-1", start="2026-11-02T00:00:00Z")
    shop = r.service("shop.service")
    r.known_process(shop, 60, "/usr/lib/systemd/systemd")
    for day in range(3):
        for hour in range(0, 24, 3):
            r.at(day * 86400 + hour * 3600)
            pid = r.spawn(shop, 60, "/usr/bin/shop-worker", ["shop-worker", "--once"])
            r.open(shop, pid, "/etc/shop/config.yml")
            r.connect(shop, pid, "10.0.0.7", 5432)
            r.exit(shop, pid, code=0)
    path = tmp_path / "learn.vrec"
    r.write(str(path))
    run(tmp_path, path)


def burst(tmp_path, name, start, n, net, shadow=False):
    """n connections to new places (n model alerts), plus optionally a read
    of /etc/shadow (a detection-rule alert with MITRE techniques)."""
    r = Recording(host="node-1", start=start)
    shop = r.service("shop.service")
    r.known_process(shop, 60, "/usr/lib/systemd/systemd")
    pid = r.spawn(shop, 60, "/usr/bin/shop-worker", ["shop-worker", "--once"])
    for i in range(n):
        r.advance(1)
        r.connect(shop, pid, f"{net}.{i}.9", 4000 + i)
    if shadow:
        r.advance(1)
        r.open(shop, pid, "/etc/shadow")
    path = tmp_path / name
    r.write(str(path))
    return path


def run(tmp_path, rec, *extra, alerts=None):
    cmd = [VIGIL, "run", "--replay", str(rec), "--data-dir", str(tmp_path / "data"),
           "--quiet", "--learn-min", "1d", "--learn-settle", "1d"] + list(extra)
    if alerts:
        cmd += ["--alerts", str(alerts)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = open(alerts).read().splitlines() if alerts and alerts.exists() else []
    return lines, r.stderr


def output_counters(stderr, label_start):
    """{sent, failed, queued, dropped} from the exit summary line of an output."""
    for line in stderr.splitlines():
        if line.startswith("vigil: output " + label_start):
            return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line.split("): ", 1)[1])}
    raise AssertionError(f"no summary for {label_start}:\n{stderr}")


# ---- (a) syslog into a real rsyslogd ----

RSYSLOG_CONF = """
global(workDirectory="{work}" maxMessageSize="64k")
module(load="imudp")
module(load="imtcp")
module(load="imptcp")
module(load="imuxsock" SysSock.Use="off")
template(name="j" type="list") {{
  constant(value="{{\\"input\\":\\"") property(name="inputname")
  constant(value="\\",\\"pri\\":\\"") property(name="pri")
  constant(value="\\",\\"ver\\":\\"") property(name="protocol-version")
  constant(value="\\",\\"host\\":\\"") property(name="hostname" format="json")
  constant(value="\\",\\"app\\":\\"") property(name="app-name" format="json")
  constant(value="\\",\\"procid\\":\\"") property(name="procid" format="json")
  constant(value="\\",\\"msgid\\":\\"") property(name="msgid" format="json")
  constant(value="\\",\\"msg\\":\\"") property(name="msg" format="json")
  constant(value="\\",\\"raw\\":\\"") property(name="rawmsg" format="json")
  constant(value="\\"}}\\n")
}}
input(type="imudp" address="127.0.0.1" port="{udp}")
input(type="imtcp" address="127.0.0.1" port="{tcp}")
input(type="imuxsock" Socket="{dgram}" CreatePath="on" UseSpecialParser="off"
      ParseHostname="on" UseSysTimeStamp="off")
input(type="imptcp" path="{stream}" unlink="on")
*.* action(type="omfile" file="{out}" template="j")
"""


class Rsyslog:
    """rsyslogd -n with its own config, work directory, pid file and ports:
    it never touches /dev/log or the system daemon's files."""

    def __init__(self, base):
        rsyslogd = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
        if not os.path.exists(rsyslogd):
            pytest.fail("rsyslogd missing: run scripts/install-deps.sh")
        base.mkdir()
        (base / "work").mkdir()
        self.udp, self.tcp = free_port(socket.SOCK_DGRAM), free_port()
        self.dgram, self.stream = str(base / "dgram.sock"), str(base / "stream.sock")
        self.out = base / "out.log"
        self.conf, self.base, self.rsyslogd = base / "rsyslog.conf", base, rsyslogd
        self.conf.write_text(RSYSLOG_CONF.format(work=base / "work", udp=self.udp, tcp=self.tcp,
                                                 dgram=self.dgram, stream=self.stream,
                                                 out=self.out))
        self.err = open(base / "rsyslogd.err", "a")
        self.start()

    def start(self):
        self.proc = subprocess.Popen(["rsyslogd", "-n", "-f", str(self.conf),
                                      "-i", str(self.base / "rsyslogd.pid")],
                                     executable=self.rsyslogd, stdout=self.err,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            assert self.proc.poll() is None, open(self.base / "rsyslogd.err").read()
            if os.path.exists(self.dgram) and os.path.exists(self.stream):
                try:
                    socket.create_connection(("127.0.0.1", self.tcp), timeout=1).close()
                    break
                except OSError:
                    pass
            time.sleep(0.05)
        else:
            raise AssertionError("rsyslogd did not start")

    def messages(self, want, timeout=15):
        """Vigil's messages, once at least `want` arrived (rsyslogd's own
        start message and the like are left out)."""
        deadline = time.time() + timeout
        while True:
            got = []
            if self.out.exists():
                got = [json.loads(line) for line in self.out.read_text().splitlines()]
                got = [m for m in got if m["app"] == "vigil"]
            if len(got) >= want or time.time() > deadline:
                return got
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        for path in (self.dgram, self.stream):
            if os.path.exists(path):
                os.unlink(path)


@pytest.fixture
def rsyslog(tmp_path):
    rs = Rsyslog(tmp_path / "rsyslog")
    yield rs
    rs.stop()
    rs.err.close()


def test_syslog_udp_tcp_unix_into_rsyslog(tmp_path, rsyslog):
    learn(tmp_path)
    rec = burst(tmp_path, "b.vrec", "2026-11-06T01:00:00Z", 3, "203.0", shadow=True)
    addrs = {"imudp": f"udp://127.0.0.1:{rsyslog.udp}",
             "imtcp": f"tcp://127.0.0.1:{rsyslog.tcp}",
             "imuxsock": f"unix://{rsyslog.dgram}",
             "imptcp": f"unix://{rsyslog.stream}"}
    extra = [a for addr in addrs.values() for a in ("--syslog", addr)]
    lines, err = run(tmp_path, rec, *extra, alerts=tmp_path / "alerts.json")
    alerts = [json.loads(line) for line in lines]
    assert len(alerts) >= 4, err  # 3 model anomalies, 1 detection
    ids = [get(a, "vigil.alert.id") for a in alerts]
    for addr in addrs.values():
        assert output_counters(err, "syslog " + addr) == {
            "sent": len(alerts), "failed": 0, "queued": 0, "dropped": 0}, err
    msgs = rsyslog.messages(4 * len(alerts))
    assert len(msgs) == 4 * len(alerts), msgs
    by_id = dict(zip(ids, lines))
    for transport in addrs:
        got = [m for m in msgs if m["input"] == transport]
        assert len(got) == len(alerts), (transport, got)
        seen = []
        for m in got:
            # rsyslog parsed it as RFC 5424 ...
            assert m["ver"] == "1" and m["app"] == "vigil" and m["msgid"] == "alert", m
            assert m["host"] == "node-1" and m["procid"].isdigit(), m
            # ... and the bytes on the wire are exactly header + ECS line
            hdr = RFC5424.match(m["raw"])
            assert hdr, m["raw"]
            pri, ts, host, app, procid, msgid, sd, msg = hdr.groups()
            assert (host, app, procid, msgid, sd) == ("node-1", "vigil", m["procid"], "alert", "-")
            doc = json.loads(msg)
            alert_id = get(doc, "vigil.alert.id")
            assert msg == by_id[alert_id], transport  # byte for byte the --alerts line
            score = get(doc, "vigil.alert.score")
            sev = 2 if score >= 80 else 3 if score >= 60 else 4 if score >= 30 else 5 if score >= 10 else 6
            assert int(pri) == 16 * 8 + sev == int(m["pri"]), (pri, score)  # local0
            assert ts == get(doc, "@timestamp")[:26] + "Z"  # microseconds, UTC
            seen.append(alert_id)
        if transport == "imudp":
            assert sorted(seen) == sorted(ids)
        else:  # a stream, or a local datagram socket, keeps the order
            assert seen == ids, transport
    crit = [a for a in alerts if get(a, "rule.id") == "credential-file-read"]
    assert crit and get(crit[0], "vigil.alert.score") >= 80


def test_syslog_formats_facility_and_dead_receivers(tmp_path, rsyslog):
    learn(tmp_path)
    rec = burst(tmp_path, "b.vrec", "2026-11-06T01:00:00Z", 2, "198.51")
    dead_tcp = free_port()
    lines, err = run(tmp_path, rec, "--syslog", f"tcp://127.0.0.1:{rsyslog.tcp}",
                     "--syslog", f"tcp://127.0.0.1:{dead_tcp}",
                     "--syslog", f"unix://{tmp_path}/no-such.sock",
                     "--syslog-format", "cef", "--syslog-facility", "local3",
                     alerts=tmp_path / "alerts.json")
    ids = [get(json.loads(line), "vigil.alert.id") for line in lines]
    assert len(ids) >= 2
    # unreachable receivers are counted, never fatal
    assert output_counters(err, f"syslog tcp://127.0.0.1:{dead_tcp}")["failed"] == len(ids)
    assert output_counters(err, f"syslog unix://{tmp_path}/no-such.sock")["failed"] == len(ids)
    msgs = rsyslog.messages(len(ids))
    assert [m["input"] for m in msgs] == ["imtcp"] * len(ids)
    for bad in (["--syslog", "10.0.0.1:514"], ["--syslog-format", "xml"],
                ["--syslog-facility", "local9"], ["--webhook", "ftp://x/"],
                ["--webhook-format", "cef"], ["--webhook-header", "no-colon"]):
        r = subprocess.run([VIGIL, "run", "--replay", str(rec), "--data-dir",
                            str(tmp_path / "data")] + bad, capture_output=True, text=True)
        assert r.returncode == 2 and "vigil: bad" in r.stderr, (bad, r.stderr)
    for m, alert_id in list(zip(msgs, ids))[:2]:
        pri, _, _, _, _, _, _, msg = RFC5424.match(m["raw"]).groups()
        assert int(pri) // 8 == 19  # local3
        assert msg.startswith("CEF:0|Vigil|Vigil|")
        assert f"externalId={alert_id} " in msg
        sig, name, sev = msg.split("|")[4:7]
        assert sig == "new_item:net_out" and name == "Behaviour outside the learned model"
        assert 0 <= int(sev) <= 10


def test_syslog_tcp_reconnects_after_receiver_restart(tmp_path, rsyslog):
    """rsyslogd restarts while the agent runs: the TCP sender notices the
    closed connection and connects again; no alert is lost."""
    learn(tmp_path)
    rec = burst(tmp_path, "b.vrec", "2026-11-06T01:00:00Z", 4, "100.65")
    data = rec.read_bytes()
    cut = [off for off, _, _ in read_frames(data)][-2]  # before the last two connects
    alerts = tmp_path / "alerts.json"
    p = subprocess.Popen([VIGIL, "run", "--replay", "-", "--data-dir", str(tmp_path / "data"),
                          "--quiet", "--learn-min", "1d", "--learn-settle", "1d",
                          "--alerts", str(alerts), "--syslog", f"tcp://127.0.0.1:{rsyslog.tcp}"],
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(data[:cut])
        p.stdin.flush()
        assert len(rsyslog.messages(2)) == 2
        rsyslog.stop()
        rsyslog.start()
        p.stdin.write(data[cut:])
        p.stdin.close()
        err = p.stderr.read().decode()
        assert p.wait(timeout=60) == 0, err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    ids = [get(json.loads(x), "vigil.alert.id") for x in alerts.read_text().splitlines()]
    assert len(ids) >= 4
    msgs = rsyslog.messages(len(ids))
    got = [get(json.loads(RFC5424.match(m["raw"]).group(8)), "vigil.alert.id") for m in msgs]
    assert got == ids, err
    assert output_counters(err, f"syslog tcp://127.0.0.1:{rsyslog.tcp}")["failed"] == 0


# ---- (b) webhooks through an outage and restarts ----

class Receiver:
    """An HTTP endpoint that records what it accepts; it can be stopped and
    started again on the same port, and made to answer 503 n times."""

    def __init__(self):
        self.port = free_port()
        self.bodies, self.headers, self.refuse = [], [], 0
        self.lock = threading.Lock()
        self.server = None

    def start(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    if outer.refuse > 0:
                        outer.refuse -= 1
                        code = 503
                    else:
                        outer.bodies.append(body)
                        outer.headers.append(dict(self.headers))
                        code = 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def url(self):
        return f"http://127.0.0.1:{self.port}/alerts"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def queued_files(tmp_path):
    q = tmp_path / "data" / "webhook-queue"
    return sorted(str(p.relative_to(q)) for p in q.glob("*/*.json"))


def test_webhook_survives_outage_and_restart_in_order(tmp_path, receiver):
    learn(tmp_path)
    hook = ["--webhook", receiver.url(), "--webhook-header", "Authorization: Bearer s3cret",
            "--webhook-header", "X-Team: sec"]
    want = []

    # 1. endpoint up: delivered while the agent runs
    receiver.start()
    lines, err = run(tmp_path, burst(tmp_path, "1.vrec", "2026-11-06T01:00:00Z", 3, "203.0"),
                     *hook, alerts=tmp_path / "a1.json")
    want += [get(json.loads(x), "vigil.alert.id") for x in lines]
    assert len(want) >= 3
    assert [json.loads(b)["vigil"]["alert"]["id"] for b in receiver.bodies] == want
    assert receiver.bodies == [x.encode() for x in lines]  # the ECS document, byte for byte
    h = receiver.headers[0]
    assert h["Authorization"] == "Bearer s3cret" and h["X-Team"] == "sec"
    assert h["Content-Type"] == "application/json"
    assert queued_files(tmp_path) == []

    # 2. endpoint down: alerts wait on disk; the agent exits normally
    receiver.stop()
    lines, err = run(tmp_path, burst(tmp_path, "2.vrec", "2026-11-06T02:00:00Z", 3, "198.51"),
                     *hook, alerts=tmp_path / "a2.json")
    want += [get(json.loads(x), "vigil.alert.id") for x in lines]
    assert len(lines) >= 3
    assert len(queued_files(tmp_path)) == len(lines)
    assert output_counters(err, "webhook " + receiver.url())["queued"] == len(lines)
    assert "alerts stay queued" in err

    # 3. agent restarted, endpoint still down: more alerts queue behind
    lines, err = run(tmp_path, burst(tmp_path, "3.vrec", "2026-11-06T03:00:00Z", 2, "192.0"),
                     *hook, alerts=tmp_path / "a3.json")
    queued = len(want) + len(lines) - len(receiver.bodies)
    want += [get(json.loads(x), "vigil.alert.id") for x in lines]
    assert len(lines) >= 2 and len(queued_files(tmp_path)) == queued

    # 4. endpoint back (first answer a 503, retried) and the agent restarted:
    #    the queue goes first, in order, then the new alerts
    receiver.start()
    receiver.refuse = 1
    lines, err = run(tmp_path, burst(tmp_path, "4.vrec", "2026-11-06T04:00:00Z", 2, "100.64"),
                     *hook, alerts=tmp_path / "a4.json")
    want += [get(json.loads(x), "vigil.alert.id") for x in lines]
    got = [json.loads(b)["vigil"]["alert"]["id"] for b in receiver.bodies]
    assert got == want, (got, want)  # every alert exactly once, in order
    assert len(set(got)) == len(got) >= 10
    assert queued_files(tmp_path) == []
    c = output_counters(err, "webhook " + receiver.url())
    assert c["sent"] == queued + len(lines) and c["queued"] == 0, c
    assert c["dropped"] == 0 and c["failed"] >= 1, c  # the 503


# ---- (c) Falco's alert JSON, field by field ----

def check_falco(doc):
    """Falco's documented alert (json_output: true): keys and their types."""
    assert set(doc) == {"hostname", "output", "priority", "rule", "source", "tags", "time",
                        "output_fields"}, sorted(doc)
    assert isinstance(doc["output"], str) and doc["output"]
    assert doc["priority"] in FALCO_PRIORITIES
    assert isinstance(doc["rule"], str) and doc["rule"]
    assert doc["source"] == "vigil"
    assert isinstance(doc["tags"], list) and all(isinstance(t, str) for t in doc["tags"])
    assert "vigil" in doc["tags"]
    assert RFC3339_NS.match(doc["time"]), doc["time"]
    assert isinstance(doc["hostname"], str) and doc["hostname"] == "node-1"
    f = doc["output_fields"]
    assert isinstance(f, dict)
    # like Falco's: "13:44:05.478445995: Critical <text> (...)"
    assert doc["output"].startswith(f"{doc['time'][11:29]}: {doc['priority']} ")
    # evt.time is an integer (ns) in Falco's output_fields; the same instant
    assert isinstance(f["evt.time"], int)
    assert time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(f["evt.time"] // 10**9)) == doc["time"][:19]
    assert f["evt.time"] % 10**9 == int(doc["time"][20:29])
    for k in ("container.id", "container.name", "proc.name", "proc.exepath"):
        assert isinstance(f[k], str), k
    for k in ("proc.pid", "proc.ppid", "user.uid"):
        assert isinstance(f[k], int), k
    for k in ("proc.cmdline", "fd.name", "container.image.repository", "k8s.ns.name",
              "k8s.pod.name"):
        assert k in f and (f[k] is None or isinstance(f[k], str)), k
    assert f["container.id"] == "host"  # Falco's value for host processes
    return f


def test_falco_payload_matches_falco_alert_json(tmp_path, receiver):
    learn(tmp_path)
    receiver.start()
    rec = burst(tmp_path, "b.vrec", "2026-11-06T01:00:00Z", 2, "203.0", shadow=True)
    lines, err = run(tmp_path, rec, "--webhook", receiver.url(), "--webhook-format", "falco",
                     "--alerts-format", "falco", alerts=tmp_path / "alerts.json")
    assert len(lines) >= 3
    assert [b.decode() for b in receiver.bodies] == lines  # same bytes on both outputs
    docs = [json.loads(x) for x in lines]
    fields = [check_falco(d) for d in docs[:3]]
    net, shadow = docs[0], docs[2]
    assert net["rule"] == "Behaviour outside the learned model"
    assert net["priority"] == "Warning"  # score 55
    assert "mitre_command_and_control" in net["tags"]
    assert fields[0]["fd.sip"] == "203.0.0.9" and fields[0]["fd.sport"] == 4000
    assert fields[0]["proc.exepath"] == "/usr/bin/shop-worker"
    assert fields[0]["vigil.model.key"] == "service:shop.service"
    assert shadow["rule"] == "Read of a credential file"
    assert shadow["priority"] == "Critical"
    assert "T1003.008" in shadow["tags"]
    assert fields[2]["fd.name"] == "/etc/shadow"
    assert fields[2]["vigil.rule.id"] == "credential-file-read"
    assert fields[2]["vigil.service"] == "shop.service"


def test_alerts_file_formats(tmp_path):
    """--alerts-format: OCSF Detection Finding and CEF lines, same alerts."""
    learn(tmp_path)
    rec = burst(tmp_path, "b.vrec", "2026-11-06T01:00:00Z", 1, "203.0", shadow=True)
    ecs, _ = run(tmp_path, rec, alerts=tmp_path / "ecs.json")
    ids = [get(json.loads(x), "vigil.alert.id") for x in ecs]
    assert len(ids) >= 2
    # the same recording on a freshly learned store: the same alerts
    for fmt in ("ocsf", "cef"):
        shutil.rmtree(tmp_path / "data")
        learn(tmp_path)
        lines, _ = run(tmp_path, rec, "--alerts-format", fmt, alerts=tmp_path / f"{fmt}.txt")
        assert len(lines) == len(ids)
        for line, alert_id in zip(lines, ids):
            if fmt == "ocsf":
                d = json.loads(line)
                assert (d["class_uid"], d["category_uid"], d["activity_id"], d["type_uid"]) == (
                    2004, 2, 1, 200401)
                assert d["metadata"]["product"] == {"name": "Vigil", "vendor_name": "Vigil",
                                                    "version": "0.1.0"}
                assert d["metadata"]["version"] == "1.1.0"
                assert d["finding_info"]["uid"] == alert_id
                assert 1 <= d["severity_id"] <= 5 and isinstance(d["time"], int)
                assert d["device"]["hostname"] == "node-1"
            else:
                assert line.startswith("CEF:0|Vigil|Vigil|0.1.0|")
                assert f" externalId={alert_id} " in line and " dvchost=node-1 " in line
