"""Attribution on the real kernel for each runtime's cgroup convention.

There is no Docker, containerd, CRI-O or systemd-managed service here, so
the test makes their cgroups itself (on the unified hierarchy, where a real
engine would put them), moves a shell into each, and checks what Vigil
reports for that shell's actions."""
import os
import subprocess
import uuid

import pytest

from conftest import find, get

# hybrid hosts mount cgroup v2 at /sys/fs/cgroup/unified, pure v2 hosts at /sys/fs/cgroup
UNIFIED = "/sys/fs/cgroup/unified" if os.path.exists("/sys/fs/cgroup/unified/cgroup.procs") \
    else "/sys/fs/cgroup"
CID = uuid.uuid4().hex + uuid.uuid4().hex  # 64 hex chars like a real engine's id
POD = str(uuid.uuid4())

CASES = [
    ("system.slice/docker-{cid}.scope", "docker", CID, None),
    ("docker/{cid}", "docker", CID, None),
    ("system.slice/crio-{cid}.scope", "cri-o", CID, None),
    ("machine.slice/libpod-{cid}.scope", "podman", CID, None),
    ("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{pod_}.slice/"
     "cri-containerd-{cid}.scope", "containerd", CID, None),
    ("kubepods/burstable/pod{pod}/{cid}", "containerd", CID, None),
    ("system.slice/vigil-test-web.service", None, None, "vigil-test-web.service"),
]


def run_in_cgroup(rel, marker):
    path = os.path.join(UNIFIED, rel)
    os.makedirs(path, exist_ok=True)
    try:
        # the shell moves itself into the cgroup, then acts
        script = f'echo $$ > {path}/cgroup.procs && cat {marker} > /dev/null'
        subprocess.run(["sh", "-c", script], check=True)
    finally:
        # remove the leaf, then the now empty parents we made
        p = path
        while p != UNIFIED:
            try:
                os.rmdir(p)
            except OSError:
                break
            p = os.path.dirname(p)


@pytest.mark.parametrize("tmpl,runtime,cid,unit", CASES, ids=[c[0].split("/")[0] + ":" + (c[1] or "service") for c in CASES])
def test_cgroup_convention(tracer, tmp_path, tmpl, runtime, cid, unit):
    marker = tmp_path / "marker"
    marker.write_text("x")
    rel = tmpl.format(cid=cid, pod=POD, pod_=POD.replace("-", "_"))
    t = tracer("--type", "file")
    run_in_cgroup(rel, str(marker))
    evs = t.stop()
    opens = find(evs, event__action="open", file__path=str(marker))
    assert opens, "the marker open was not seen"
    e = opens[0]
    if runtime:
        assert get(e, "container.id") == cid
        assert get(e, "container.runtime") == runtime
        assert get(e, "service") is None
        if "{pod" in tmpl:
            assert get(e, "orchestrator.resource.id") == POD
    else:
        assert get(e, "container") is None
        assert get(e, "service.name") == unit
