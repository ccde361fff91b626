"""Shared fixtures for Vigil's end-to-end tests (real kernel, real runc).

Tests run as root. `tracer()` starts `vigil trace --json` and hands back the
parsed events once stopped; `container()` runs a command in a real runc
container built from busybox-static."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VIGIL = os.environ.get("VIGIL", os.path.join(ROOT, "build", "vigil"))
BUSYBOX = shutil.which("busybox") or "/bin/busybox"


def get(d, dotted, default=None):
    """get(ev, "process.parent.pid") -> value or default."""
    for part in dotted.split("."):
        if not isinstance(d, dict) or part not in d:
            return default
        d = d[part]
    return d


class Tracer:
    def __init__(self, args, stderr_path):
        self.out = tempfile.NamedTemporaryFile(prefix="vigil-trace-", suffix=".json", delete=False)
        self.err = open(stderr_path, "w")
        self.proc = subprocess.Popen([VIGIL, "trace", "--json"] + list(args),
                                     stdout=self.out, stderr=self.err)
        self.events = None
        self.stderr = ""
        # wait until the sensor is attached
        deadline = time.time() + 20
        while time.time() < deadline:
            with open(stderr_path) as f:
                if "vigil: tracing" in f.read():
                    break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stderr_path = stderr_path

    def stop(self):
        if self.events is not None:
            return self.events
        time.sleep(0.3)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=30)
        self.err.close()
        with open(self.stderr_path) as f:
            self.stderr = f.read()
        self.out.close()
        with open(self.out.name) as f:
            self.lines = f.read().splitlines()
        os.unlink(self.out.name)
        self.events = [json.loads(line) for line in self.lines]
        return self.events


@pytest.fixture
def tracer(tmp_path):
    started = []

    def start(*args):
        t = Tracer(args, str(tmp_path / f"trace-{len(started)}.err"))
        started.append(t)
        return t

    yield start
    for t in started:
        if t.proc.poll() is None:
            t.proc.kill()
            t.proc.wait()


def make_rootfs(path):
    os.makedirs(os.path.join(path, "bin"))
    for d in ("etc", "tmp", "proc", "dev", "sys", "root", "var/log"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    shutil.copy(BUSYBOX, os.path.join(path, "bin", "busybox"))
    names = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for n in names:
        if n != "busybox":
            os.symlink("busybox", os.path.join(path, "bin", n))
    with open(os.path.join(path, "etc", "hostname"), "w") as f:
        f.write("vigil-test\n")
    with open(os.path.join(path, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")
    with open(os.path.join(path, "etc", "shadow"), "w") as f:
        f.write("root:*:19000:0:99999:7:::\n")
    os.chmod(os.path.join(path, "etc", "shadow"), 0o600)


class Container:
    """A runc bundle; run() executes one command to completion."""

    def __init__(self, base, name=None, annotations=None):
        self.id = name or "vt-" + uuid.uuid4().hex[:10]
        self.bundle = os.path.join(base, self.id)
        os.makedirs(self.bundle)
        make_rootfs(os.path.join(self.bundle, "rootfs"))
        subprocess.run(["runc", "spec"], cwd=self.bundle, check=True)
        with open(os.path.join(self.bundle, "config.json")) as f:
            self.config = json.load(f)
        self.config["process"]["terminal"] = False
        self.config["root"]["readonly"] = False
        if annotations:
            self.config["annotations"] = annotations

    def run(self, script, timeout=60, env=None):
        self.config["process"]["args"] = ["/bin/sh", "-c", script]
        if env:
            self.config["process"]["env"] += [f"{k}={v}" for k, v in env.items()]
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(self.config, f)
        return subprocess.run(["runc", "run", self.id], cwd=self.bundle, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def delete(self):
        subprocess.run(["runc", "delete", "-f", self.id], capture_output=True)
        shutil.rmtree(self.bundle, ignore_errors=True)


@pytest.fixture
def container(tmp_path):
    made = []

    def make(name=None, annotations=None):
        c = Container(str(tmp_path), name, annotations)
        made.append(c)
        return c

    yield make
    for c in made:
        c.delete()


def find(events, **conds):
    """Events whose dotted fields equal the given values (use __ for .)."""
    out = []
    for ev in events:
        if all(get(ev, k.replace("__", ".")) == v for k, v in conds.items()):
            out.append(ev)
    return out
