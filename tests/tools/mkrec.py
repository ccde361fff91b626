#!/usr/bin/env python3
"""mkrec - write Vigil recordings from a simple description (python3 stdlib only).

Builds deterministic event streams with a controlled clock, for tests that
feed `vigil replay`, and large synthetic streams (thousands of containers)
for benchmarks. The output follows docs/recording-format.md (file header,
frames, zero-run encoding, CRC32 of the decoded payload); event records are
the structs of bpf/vigil_event.h (ABI 1, x86_64, little-endian); side frames
are `struct side_container` / `struct side_proc` of src/enrich/enrich.h
(docs/recording-format.md, "Side frames").

Python API
==========

    from mkrec import Recording
    r = Recording(host="node-1", start="2026-11-02T02:00:00Z")  # wall clock of t=0
    web = r.container("web1", image="shop/web:1.2")      # runc, cgroup "/web1"
    cron = r.service("cron.service")                     # "/system.slice/cron.service"

    r.exec(web, pid=100, ppid=1, exe="/usr/sbin/nginx",
           args=["nginx", "-g", "daemon off;"], parent_exe="/usr/bin/runc")
    r.open(web, 100, "/etc/nginx/nginx.conf")            # access=("read",), ret=3
    r.advance(1.5)                                       # or r.at(seconds)
    r.connect(web, 100, "10.0.0.7", 5432)
    r.dns(web, 100, "db.shop.svc")                       # a real DNS query payload
    r.fork(web, pid=100, child=101)
    r.exit(web, pid=101, code=0)
    r.priv(web, 100, "setuid", ids=[0])
    r.write("out.vrec")

    # the same job every Monday 02:00 for 3 weeks
    for week in range(3):
        r.at(f"{week * 7}d")
        pid = r.spawn(cron, 200, "/usr/local/bin/backup.sh")   # fork + exec
        r.exit(cron, pid, code=0)

Clock. `start` (ISO 8601 string, datetime, or epoch seconds) is the wall
clock of offset 0. Every record's ts_ns is `uptime + offset` (boot-relative,
uptime=1000 s by default) and the META frame carries boot_to_real_ns =
start - uptime, so vigil prints @timestamp = start + offset exactly
(`r.timestamp()` returns that string). `r.at(t)` sets the offset and may only
move forward; `r.advance(d)` adds to it. t / d: seconds (int, float, exact
via their decimal repr), a timedelta, or a duration string such as "7d",
"2h30m", "1.5s", "250ms", "10us", "5ns" (units w d h m s ms us ns); `at` also
takes an absolute wall time (ISO string or datetime). `Recording(tick=d)`
adds d after every event (default 0: events at one offset share a
timestamp; cgroup records and side frames never tick). Every event method
also takes `at=` (shorthand for r.at first).

Cgroups. `r.cgroup(path, v1=False, cgroup_id=None)` declares any cgroup;
`r.container(...)` and `r.service(unit, path=None)` build on it. Declaring
emits a VG_CGROUP record at the current time (path components leaf first;
over 8 components keeps the 8 innermost and sets VG_F_TRUNC1), and returns a
`Cgroup` handle (.path, .cgroup_id, .container_id, .name, ...). cgroup_id is
stable: a hash of the path (unless given), the same in the VG_CGROUP record,
in every event and in the container side frame. v1 cgroups set VG_F_CG_V1 in
all their records. Re-declaring a path with cgroup()/service() returns the
existing handle.

    r.container(container_id, runtime_path=None, image=None, name=None,
                pod=None, namespace=None, pod_uid=None, bundle=None,
                labels=None, runtime="runc", v1=False, cgroup_id=None)

runtime picks the default cgroup path: runc "/<id>", docker
"/system.slice/docker-<id>.scope", containerd "/k8s.io/<id>" (with a pod:
"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/
cri-containerd-<id>.scope"), cri-o "/machine.slice/crio-<id>.scope" (with a
pod: the kubepods form with crio-<id>.scope), podman
"/machine.slice/libpod-<id>.scope". Those four need a 64-hex id: another id
is replaced by its sha256 and becomes the default name. A REC_KIND_CONTAINER
side frame with the metadata (name defaults to the id) follows the VG_CGROUP
record when any of image/name/pod/namespace/pod_uid/bundle/labels is set.
labels (pod labels: a dict, a list of "k=v" or a "k=v,k=v" string; stored
sorted by key as "k=v,k=v") makes it today's 1480-byte frame; without
labels the frame is the original 968-byte one, which Vigil still reads (as
every recording made before labels existed), so old-frame replay stays
covered by every test that does not ask for labels. A pod
without namespace gets "default"; without pod_uid, a uuid5 of
namespace/pod. `runtime_path` overrides the path (then make sure Vigil parses
it as that container: see src/enrich/cgroup_path.h). `r.announce(cg)`
re-sends the VG_CGROUP record and side frame (as the kernel does after its
LRU forgot the cgroup).

Processes. A small process table (pid -> exe, comm, ppid, uids, cgroup)
fills the header: ppid, uid/gid/euid, comm (basename of the last exe, cut
to 15 bytes; "proc" for unknown processes), tid = pid. exec() sets the
entry (ppid, uid, gid, euid, egid, comm given there persist), fork() copies
the parent into the child, exit() removes it, a successful setuid/setgid
updates the ids. A cgroup passed to any event becomes the process's cgroup;
pass cg=None to use the process's current one. `r.known_process(cg, pid,
exe, ppid=1)` writes a REC_KIND_PROC side frame (a process that predates the
agent). `r.spawn(cg, parent, exe, args=None, pid=None, **exec_kw)` = fork +
exec, returns the child pid (`r.new_pid()` allocates from 1000).

Every event method accepts these one-off header overrides: tid, ppid, uid,
gid, euid, comm, hdr_flags (raw VG_F_* bits, ORed), repeat (events folded by
the kernel), at. `ret` is an int or an errno name ("EACCES" -> -13).

    exec(cg, pid, exe, args=None, cwd="/", parent_exe=None, ppid=None,
         uid=None, gid=None, euid=None, egid=None, comm=None, flags=0,
         argc=None, memfd=False, deleted=False, stdin_socket=False,
         stdout_socket=False)         # args: list (or str, shlex-split);
                                      # default [basename(exe)]; flags = VG_F_*
    fork(cg, pid, child)              exit(cg, pid, code=0, signal=0, core=False)
    open(cg, pid, path, access=("read",), ret=3, flags=None, mode=None,
         relative=False)              # access ⊆ read write create truncate;
                                      # flags = open(2) flags, derived if None
    file_op(cg, pid, action, path, path2="", mode=None, owner_uid=0,
            owner_gid=0, ret=0, open_flags=0)
        # action: unlink rmdir rename chmod chown link symlink mkdir
    connect(cg, pid, ip, port, ret=0, transport="tcp")
    accept(cg, pid, peer_ip, peer_port, local_ip, local_port, ret=4, transport="tcp")
    bind(cg, pid, ip, port, ret=0, transport="tcp")
    listen(cg, pid, ip, port, backlog=128, ret=0)
    dns(cg, pid, name, server="10.0.0.53", qtype="A", txid=None, ret=None,
        local_ip=None, local_port=0, port=53)  # ret: the bytes sent; txid:
                                      # 0x1000, 0x1001, ... unless given
    priv(cg, pid, action, ret=None, **fields)
        setuid / setgid   ids=[id] | [r, e] | [r, e, s]; syscall= (default by
                          len: setuid, setreuid, setresuid; or setfsuid ...)
        capset            effective=, permitted=, inheritable= (int, or cap
                          names such as ["CAP_SYS_ADMIN"] / ["sys_admin"])
        ptrace            target=PID, request="attach" (or an int), addr=0
        mount             source="", target=, fstype="", flags=0
        umount            target=, flags=0
        unshare           ns=["mnt", "net"] (or CLONE_* bits)
        setns             ns=["net"], fd=3, inode=0 (arg[2]: the namespace's
                          inode), file="" (str1: the fd's name, older sensors)
        module_load       path=None (finit_module; None -> init_module), params=""
        bpf_load          name="", prog_type="kprobe" (or an int)
        memfd_create      name=, flags=0 (or ["cloexec", "allow_sealing"])
      (arg[3] is the x86_64 syscall number, from bpf/syscalls_x86.h)

Strings are UTF-8, NUL-padded; an over-long path is cut (at a character
boundary) and flagged VG_F_TRUNC1/2 as the kernel does; args over 512 bytes
set VG_F_ARGS_TRUNC. Raw access: `r.frame(kind, payload)`, `r.record(bytes)`.
Output: `r.write(path)` or `r.to_bytes()`; the META frame
(host_name, boot_to_real_ns, abi) comes first. `read_frames(data)` decodes a
recording (strictly), `parse_record(payload)` a record's header.
`bench_recording(containers, events)` builds the benchmark stream;
`format_time(ns)` is vigil's @timestamp format, `dns_query(name, qtype,
txid)` a query payload, `wall_ns` / `duration_ns` the time parsers.
Module constants mirror the C headers: TYPES, F_*, ACCESS, NR, SIZES.

Command line
============

    mkrec.py build SPEC.json -o OUT.vrec     # SPEC "-" reads stdin
    mkrec.py bench -o OUT.vrec [--containers 1000] [--events 20]
    mkrec.py dump FILE.vrec                  # one line per frame

A SPEC is a JSON object {"host", "start", "uptime", "tick", "steps": [...]}.
Each step is {"op": METHOD, ...keyword arguments}: op is any method above
(container, service, cgroup, known_process, announce, at, advance, exec,
fork, exit, spawn, open, file_op, connect, accept, bind, listen, dns, priv),
a file_op action ("unlink", "rename", ...) or a priv action ("setuid",
"mount", ...). "as" names the handle a container/service/cgroup step
returns (default: its id, unit or path); "cg" refers to it by that name.
"at" on any step moves the clock first. {"op": "repeat", "times": N,
"every": "7d", "steps": [...]} runs its steps N times, iteration i starting
at (time of the repeat step) + i*every; inside it, "at" is relative to the
iteration start and "{i}" in strings is replaced by i. Example:

    {"host": "node-1", "start": "2026-11-02T02:00:00Z", "steps": [
      {"op": "service", "unit": "cron.service", "as": "cron"},
      {"op": "repeat", "times": 3, "every": "7d", "steps": [
        {"op": "exec", "cg": "cron", "pid": 300, "exe": "/usr/bin/backup",
         "args": ["backup", "--week={i}"]},
        {"op": "exit", "cg": "cron", "pid": 300, "at": "90s"}]}]}
"""
from __future__ import annotations

import argparse
import calendar
import datetime as _dt
import errno as _errno
import hashlib
import ipaddress
import json
import re
import shlex
import struct
import sys
import uuid
import zlib
from decimal import Decimal

__all__ = ["Recording", "Cgroup", "encode", "decode", "frame", "read_frames",
           "parse_record", "build_from_spec", "bench_recording", "dns_query",
           "format_time", "wall_ns", "duration_ns", "main"]

# ---- format constants (docs/recording-format.md, bpf/vigil_event.h) ----

REC_MAGIC = b"VIGILREC"
REC_VERSION = 1
REC_KIND_META, REC_KIND_EVENT, REC_KIND_CONTAINER, REC_KIND_PROC = 1, 2, 3, 4
KIND_NAMES = {1: "meta", 2: "event", 3: "container", 4: "proc"}
REC_MAX_PAYLOAD = 65536
ABI = 1

TYPES = {
    "exec": 1, "fork": 2, "exit": 3,
    "open": 10, "unlink": 11, "rename": 12, "chmod": 13, "chown": 14,
    "link": 15, "symlink": 16, "mkdir": 17,
    "connect": 20, "accept": 21, "bind": 22, "listen": 23, "dns": 24,
    "setuid": 30, "setgid": 31, "capset": 32, "ptrace": 33, "mount": 34,
    "umount": 35, "unshare": 36, "setns": 37, "module_load": 38,
    "bpf_load": 39, "memfd_create": 40,
    "cgroup": 50,
}
TYPE_NAMES = {v: k for k, v in TYPES.items()}

F_TRUNC1 = 0x0001
F_TRUNC2 = 0x0002
F_ARGS_TRUNC = 0x0004
F_EXE_MEMFD = 0x0008
F_EXE_DELETED = 0x0010
F_RELATIVE = 0x0020
F_RELATIVE2 = 0x0040
F_CG_V1 = 0x0080
F_STDIN_SOCK = 0x0100
F_STDOUT_SOCK = 0x0200
F_KILLED = 0x0400  # exec: SIGKILLed at exec time by the exec_kill map

ACCESS = {"read": 0x1, "write": 0x2, "create": 0x4, "truncate": 0x8}

COMM_LEN, PATH_LEN, ARGS_LEN, PAYLOAD_LEN = 16, 256, 512, 256
CG_DEPTH, CG_NAME_LEN = 8, 128

# x86_64 syscall numbers (bpf/syscalls_x86.h) used in vg_priv.arg[3]
NR = {
    "setuid": 105, "setgid": 106, "setreuid": 113, "setregid": 114,
    "setresuid": 117, "setresgid": 119, "setfsuid": 122, "setfsgid": 123,
    "capset": 126, "ptrace": 101, "mount": 165, "umount2": 166,
    "init_module": 175, "unshare": 272, "setns": 308, "finit_module": 313,
    "memfd_create": 319, "bpf": 321,
}

NS_FLAGS = {"mnt": 0x00020000, "cgroup": 0x02000000, "uts": 0x04000000,
            "ipc": 0x08000000, "user": 0x10000000, "pid": 0x20000000,
            "net": 0x40000000, "time": 0x00000080}

CAPS = ["chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
        "setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service",
        "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
        "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
        "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time",
        "sys_tty_config", "mknod", "lease", "audit_write", "audit_control",
        "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
        "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore"]

PTRACE_REQ = {"traceme": 0, "peektext": 1, "peekdata": 2, "peekuser": 3,
              "poketext": 4, "pokedata": 5, "pokeuser": 6, "cont": 7,
              "kill": 8, "singlestep": 9, "getregs": 12, "setregs": 13,
              "attach": 16, "detach": 17, "syscall": 24, "setoptions": 0x4200,
              "seize": 0x4206, "interrupt": 0x4207}

BPF_PROG_TYPES = {"socket_filter": 1, "kprobe": 2, "sched_cls": 3,
                  "sched_act": 4, "tracepoint": 5, "xdp": 6, "perf_event": 7,
                  "cgroup_skb": 8, "cgroup_sock": 9, "raw_tracepoint": 17,
                  "cgroup_device": 15, "sk_msg": 16, "tracing": 26,
                  "struct_ops": 27, "ext": 28, "lsm": 29, "syscall": 31}

MFD_FLAGS = {"cloexec": 1, "allow_sealing": 2, "hugetlb": 4,
             "noexec_seal": 8, "exec": 16}

DNS_QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15,
              "TXT": 16, "AAAA": 28, "SRV": 33, "HTTPS": 65, "ANY": 255}

RUNTIMES = ("runc", "docker", "containerd", "cri-o", "podman")

# ---- structs (x86_64 layout, little-endian) ----

HDR = struct.Struct("<4H6I2QIi16s")
EXEC = struct.Struct("<4I256s256s256s512s")
PROC = struct.Struct("<4I")
FILE = struct.Struct("<6I256s256s")
NET = struct.Struct("<4H16s16s2I256s")
PRIV = struct.Struct("<4Q256s256s64s")
CGROUP = struct.Struct("<2I" + "128s" * CG_DEPTH)
SIDE_CONTAINER = struct.Struct("<Q128s256s128s128s64s256s")  # before labels
SIDE_CONTAINER_LABELS = struct.Struct("<Q128s256s128s128s64s256s512s")
SIDE_PROC = struct.Struct("<2I256s")
FRAME_HDR = struct.Struct("<4I")

SIZES = {"vg_hdr": HDR.size, "vg_exec": HDR.size + EXEC.size,
         "vg_proc": HDR.size + PROC.size, "vg_file": HDR.size + FILE.size,
         "vg_net": HDR.size + NET.size, "vg_priv": HDR.size + PRIV.size,
         "vg_cgroup": HDR.size + CGROUP.size,
         "side_container": SIDE_CONTAINER.size,
         "side_container_labels": SIDE_CONTAINER_LABELS.size,
         "side_proc": SIDE_PROC.size}
assert SIZES == {"vg_hdr": 72, "vg_exec": 1368, "vg_proc": 88, "vg_file": 608,
                 "vg_net": 376, "vg_priv": 680, "vg_cgroup": 1104,
                 "side_container": 968, "side_container_labels": 1480,
                 "side_proc": 264}, SIZES

# ---- zero-run codec ----

_ZRUN = re.compile(b"\x00{3,}")
_LEAD = re.compile(b"\x00*")
_VARINT_SMALL = [bytes((i,)) for i in range(128)]


def _varint(v):
    if v < 128:
        return _VARINT_SMALL[v]
    out = bytearray()
    while v > 0x7F:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def encode(data):
    """Zero-run encode a payload exactly as the reference encoder does: a
    chunk (other than the first) starts only at a run of >= 3 zeros."""
    data = bytes(data)
    n = len(data)
    out = []
    z = _LEAD.match(data).end()
    pos = z
    for m in _ZRUN.finditer(data, pos):
        s, e = m.span()
        out += (_varint(z), _varint(s - pos), data[pos:s])
        z, pos = e - s, e
    if z or pos < n:
        out += (_varint(z), _varint(n - pos), data[pos:])
    return b"".join(out)


def encode_bound(n):
    return n + n // 128 + 16


def _get_varint(buf, i):
    x = 0
    for s in range(0, 64, 7):
        if i >= len(buf):
            raise ValueError("varint runs past the data")
        b = buf[i]
        i += 1
        if s == 63 and b > 1:
            raise ValueError("varint overflow")
        x |= (b & 0x7F) << s
        if not b & 0x80:
            if b == 0 and s:
                raise ValueError("overlong varint")
            return x, i
    raise ValueError("varint too long")


def decode(enc, raw_len):
    """Strict decoder (the rules of docs/recording-format.md)."""
    out = bytearray()
    i = 0
    while len(out) < raw_len:
        z, i = _get_varint(enc, i)
        lit, i = _get_varint(enc, i)
        if z == 0 and lit == 0:
            raise ValueError("empty chunk")
        if z > raw_len - len(out):
            raise ValueError("zeros overflow the payload")
        out += bytes(z)
        if lit > raw_len - len(out) or lit > len(enc) - i:
            raise ValueError("literals overflow")
        out += enc[i:i + lit]
        i += lit
    if i != len(enc):
        raise ValueError("input left over")
    return bytes(out)


def frame(kind, payload):
    """One frame: 16-byte header + encoded payload."""
    payload = bytes(payload)
    if len(payload) > REC_MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {REC_MAX_PAYLOAD}")
    enc = encode(payload)
    assert len(enc) <= encode_bound(len(payload))
    return FRAME_HDR.pack(kind, len(payload), len(enc), frame_crc(kind, payload)) + enc


def frame_crc(kind, payload):
    """CRC-32 of kind and raw_len (little-endian), then the decoded payload."""
    return zlib.crc32(payload, zlib.crc32(struct.pack("<II", kind, len(payload))))


def file_header():
    return REC_MAGIC + struct.pack("<II", REC_VERSION, 0)


def read_frames(data):
    """Yields (offset, kind, payload) of a recording (bytes or a path);
    raises ValueError on any violation of the format."""
    if isinstance(data, str):
        with open(data, "rb") as f:
            data = f.read()
    if len(data) < 16 or data[:8] != REC_MAGIC:
        raise ValueError("not a Vigil recording")
    version, flags = struct.unpack_from("<II", data, 8)
    if version != REC_VERSION or flags:
        raise ValueError(f"unsupported version {version} / flags {flags}")
    off = 16
    while off < len(data):
        if off + 16 > len(data):
            raise ValueError(f"truncated frame header at offset {off}")
        kind, raw, enc, crc = FRAME_HDR.unpack_from(data, off)
        if raw > REC_MAX_PAYLOAD or enc > encode_bound(raw):
            raise ValueError(f"bad lengths at offset {off}")
        if off + 16 + enc > len(data):
            raise ValueError(f"truncated frame at offset {off}")
        payload = decode(data[off + 16:off + 16 + enc], raw)
        if frame_crc(kind, payload) != crc:
            raise ValueError(f"checksum mismatch at offset {off}")
        yield off, kind, payload
        off += 16 + enc


def _cstr(b):
    return b.split(b"\0", 1)[0].decode("utf-8", "replace")


def parse_record(payload):
    """The header of an event record as a dict (plus a few body fields)."""
    (typ, size, abi, flags, pid, tid, ppid, uid, gid, euid, ts, cgid, repeat,
     ret, comm) = HDR.unpack_from(payload, 0)
    d = dict(type=TYPE_NAMES.get(typ, typ), size=size, abi=abi, flags=flags,
             pid=pid, tid=tid, ppid=ppid, uid=uid, gid=gid, euid=euid,
             ts_ns=ts, cgroup_id=cgid, repeat=repeat, ret=ret, comm=_cstr(comm))
    if typ == TYPES["cgroup"] and len(payload) >= HDR.size + CGROUP.size:
        depth, hier, *names = CGROUP.unpack_from(payload, HDR.size)
        d["path"] = "/" + "/".join(_cstr(n) for n in reversed(names[:depth]))
        d["hierarchy"] = hier
    elif typ == TYPES["exec"] and len(payload) >= HDR.size + EXEC.size:
        d["exe"] = _cstr(EXEC.unpack_from(payload, HDR.size)[4])
    elif 10 <= typ < 20 and len(payload) >= HDR.size + FILE.size:
        d["path"] = _cstr(FILE.unpack_from(payload, HDR.size)[6])
    return d


# ---- value helpers ----

_DUR = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|ms|s|m|h|d|w)")
_UNIT_NS = {"ns": 1, "us": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
            "h": 3600 * 10**9, "d": 86400 * 10**9, "w": 7 * 86400 * 10**9}
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?"
                  r"\s*(Z|[+-]\d\d:?\d\d)?$", re.I)


def _is_duration(s):
    s = s.replace(" ", "")
    return bool(s) and _DUR.sub("", s) == "" and bool(_DUR.match(s))


def duration_ns(d):
    """Seconds (int/float/Decimal), timedelta or "1h30m" -> int ns."""
    if isinstance(d, bool):
        raise TypeError("a duration, not a bool")
    if isinstance(d, int):
        return d * 10**9
    if isinstance(d, float):
        return int((Decimal(repr(d)) * 10**9).to_integral_value())
    if isinstance(d, Decimal):
        return int((d * 10**9).to_integral_value())
    if isinstance(d, _dt.timedelta):
        return (d.days * 86400 + d.seconds) * 10**9 + d.microseconds * 1000
    if isinstance(d, str):
        s = d.replace(" ", "")
        neg = s.startswith("-")
        s = s.lstrip("+-")
        if not _is_duration(s):
            try:
                return duration_ns(Decimal(s)) * (-1 if neg else 1)
            except Exception:
                raise ValueError(f"not a duration: {d!r}") from None
        total = sum(int((Decimal(n) * _UNIT_NS[u]).to_integral_value())
                    for n, u in _DUR.findall(s))
        return -total if neg else total
    raise TypeError(f"not a duration: {d!r}")


def wall_ns(t):
    """ISO 8601 string, datetime or epoch seconds -> ns since the epoch (UTC;
    a time without a zone is UTC). Fractions keep up to 9 digits exactly."""
    if isinstance(t, _dt.datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=_dt.timezone.utc)
        delta = t - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        return duration_ns(delta)
    if isinstance(t, (int, float, Decimal)) and not isinstance(t, bool):
        return duration_ns(t)
    if isinstance(t, str):
        m = _ISO.match(t.strip())
        if not m:
            raise ValueError(f"not an ISO 8601 time: {t!r}")
        y, mo, d, h, mi, s, frac, tz = m.groups()
        secs = calendar.timegm((int(y), int(mo), int(d), int(h or 0),
                                int(mi or 0), int(s or 0), 0, 0, 0))
        ns = secs * 10**9 + int((frac or "").ljust(9, "0"))
        if tz and tz.upper() != "Z":
            sign = 1 if tz[0] == "+" else -1
            hh, mm = int(tz[1:3]), int(tz[-2:])
            ns -= sign * (hh * 3600 + mm * 60) * 10**9
        return ns
    raise TypeError(f"not a time: {t!r}")


def format_time(real_ns):
    """@timestamp as vigil prints it (src/output/format_util.c)."""
    secs, ns = divmod(real_ns, 10**9)
    tm = _dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=secs)
    return tm.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns:09d}Z"


def _bytes(s):
    if s is None:
        return b""
    if isinstance(s, (bytes, bytearray)):
        b = bytes(s)
    else:
        b = str(s).encode("utf-8", "surrogateescape")
    if b"\0" in b:
        raise ValueError(f"string contains NUL: {s!r}")
    return b


def _field(s, size):
    """(bytes that fit a NUL-terminated char[size], truncated?). Cuts at a
    UTF-8 character boundary; struct.pack pads with NULs."""
    b = _bytes(s)
    if len(b) < size:
        return b, False
    i = size - 1
    while i > 0 and (b[i] & 0xC0) == 0x80:
        i -= 1
    return b[:i], True


def _ret(v):
    if isinstance(v, str):
        name = v.upper().lstrip("-")
        if not hasattr(_errno, name):
            raise ValueError(f"unknown errno name {v!r}")
        return -getattr(_errno, name)
    v = int(v)
    if not -2**31 <= v < 2**31:
        raise ValueError(f"ret {v} does not fit s32")
    return v


def _ip(ip):
    a = ipaddress.ip_address(ip)
    if a.version == 4:
        return 2, a.packed + bytes(12)
    return 10, a.packed


def _transport(t):
    if isinstance(t, int):
        return t
    return {"tcp": 1, "stream": 1, "udp": 2, "dgram": 2}[t.lower()]


def _names_to_bits(v, table, what):
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        v = [v]
    bits = 0
    for n in v:
        if isinstance(n, int):
            bits |= n
            continue
        key = n.lower()
        for pfx in ("clone_new", "cap_", "mfd_"):
            if key.startswith(pfx) and key[len(pfx):] in table:
                key = key[len(pfx):]
        if key == "ns" and what == "namespace":
            key = "mnt"
        if key not in table:
            raise ValueError(f"unknown {what} {n!r}")
        bits |= table[key]
    return bits


def _caps(v):
    return _names_to_bits(v, {c: 1 << i for i, c in enumerate(CAPS)}, "capability")


def _u32(v):
    return int(v) & 0xFFFFFFFF


def _fnv1a(b):
    h = 0xCBF29CE484222325
    for c in b:
        h = ((h ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def dns_query(name, qtype="A", txid=0):
    """A standard recursive DNS query for one question (RFC 1035)."""
    qt = DNS_QTYPES[qtype.upper()] if isinstance(qtype, str) else int(qtype)
    q = bytearray(struct.pack(">6H", txid & 0xFFFF, 0x0100, 1, 0, 0, 0))
    labels = [x for x in name.rstrip(".").split(".")]
    if not name.strip(".") or any(not x for x in labels):
        raise ValueError(f"bad DNS name {name!r}")
    for lab in labels:
        b = lab.encode("idna") if not lab.isascii() else lab.encode()
        if len(b) > 63:
            raise ValueError(f"DNS label longer than 63 bytes: {lab!r}")
        q.append(len(b))
        q += b
    q.append(0)
    q += struct.pack(">HH", qt, 1)
    return bytes(q)


# ---- the model ----

class Cgroup:
    """Handle of a declared cgroup (returned by Recording.cgroup/container/
    service). kind is "container", "service" or "cgroup"."""

    def __init__(self, path, cgroup_id, v1, kind="cgroup"):
        self.path = path
        self.cgroup_id = cgroup_id
        self.v1 = v1
        self.kind = kind
        self.container_id = None
        self.runtime = None
        self.name = None
        self.image = None
        self.pod = None
        self.namespace = None
        self.pod_uid = None
        self.bundle = None
        self.labels = None  # "k=v,k=v" sorted, or None
        self.unit = None
        self.meta = False  # a side frame with metadata is sent

    @property
    def key(self):
        """The enrich stage's resource key (bit 63 set for v1)."""
        return self.cgroup_id | ((1 << 63) if self.v1 else 0)

    def __repr__(self):
        what = self.container_id or self.unit or ""
        return f"<Cgroup {self.kind} {what} {self.path} id={self.cgroup_id:#x}>"


class _Proc:
    __slots__ = ("pid", "ppid", "exe", "comm", "uid", "gid", "euid", "egid", "cg")

    def __init__(self, pid, ppid=1, exe="", comm=None, uid=0, gid=0, euid=0,
                 egid=0, cg=None):
        self.pid, self.ppid, self.exe = pid, ppid, exe
        self.comm = comm if comm is not None else _comm_of(exe)
        self.uid, self.gid, self.euid, self.egid, self.cg = uid, gid, euid, egid, cg

    def copy(self, pid):
        c = _Proc(pid, self.pid, self.exe, self.comm, self.uid, self.gid,
                  self.euid, self.egid, self.cg)
        return c


def _comm_of(exe):
    base = exe.rstrip("/").rsplit("/", 1)[-1] if exe else ""
    return _field(base or "proc", COMM_LEN)[0].decode("utf-8", "surrogateescape")


_COMMON = frozenset(("tid", "ppid", "uid", "gid", "euid", "comm", "hdr_flags",
                     "repeat", "at"))
def _labels_text(labels):
    """Pod labels as the side frame holds them: "k=v,k=v" sorted by key."""
    if labels is None:
        return None
    if isinstance(labels, str):
        labels = [x for x in labels.split(",") if x]
    if isinstance(labels, dict):
        pairs = [(str(k), str(v)) for k, v in labels.items()]
    else:
        pairs = [tuple(x.split("=", 1)) if "=" in x else (x, "") for x in labels]
    for k, v in pairs:
        if not k or "=" in k or "," in k or "," in v:
            raise ValueError(f"a pod label cannot be written as k=v: {k!r}={v!r}")
    text = ",".join(f"{k}={v}" for k, v in sorted(pairs))
    if len(text.encode()) > 511:
        raise ValueError("pod labels longer than 511 bytes")
    return text


_RUNC_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}\Z")
_ID64 = re.compile(r"[0-9a-f]{64}\Z")


class Recording:
    """A recording under construction; see the module docstring."""

    def __init__(self, host="localhost", start="2026-01-01T00:00:00Z",
                 uptime=1000, tick=0):
        if "\n" in host:
            raise ValueError("host name with a newline")
        self.host = host
        self.start_ns = wall_ns(start)
        self.boot_ns = duration_ns(uptime)  # ts_ns at offset 0
        if self.boot_ns < 0:
            raise ValueError("uptime must be >= 0")
        self.tick_ns = duration_ns(tick)
        self.offset_ns = 0
        self.frames = []  # encoded frames, in order (META is added on write)
        self.events = 0  # REC_KIND_EVENT frames, VG_CGROUP included
        self.procs = {}
        self.cgroups = {}  # (path, v1) -> Cgroup
        self.containers = {}  # container id -> Cgroup
        self._keys = {}  # key -> Cgroup
        self._next_pid = 1000
        self._txid = 0x1000

    # -- clock --

    @property
    def now(self):
        """Current offset in seconds (float)."""
        return self.offset_ns / 1e9

    @property
    def ts_ns(self):
        """Boot-relative ts_ns of the next record."""
        return self.boot_ns + self.offset_ns

    @property
    def boot_to_real_ns(self):
        return self.start_ns - self.boot_ns

    def timestamp(self, offset=None):
        """The @timestamp vigil prints for an offset (default: now)."""
        off = self.offset_ns if offset is None else self._offset_of(offset)
        return format_time(self.start_ns + off)

    def _offset_of(self, t):
        if isinstance(t, _dt.datetime) or (isinstance(t, str) and not _is_duration(
                t.replace(" ", "").lstrip("+")) and _ISO.match(t.strip())):
            return wall_ns(t) - self.start_ns
        return duration_ns(t)

    def at(self, t):
        """Sets the offset from start: seconds, duration string, timedelta,
        or an absolute wall time (ISO string / datetime). Never backwards."""
        return self.at_ns(self._offset_of(t))

    def at_ns(self, ns):
        ns = int(ns)
        if ns < self.offset_ns:
            raise ValueError(f"time goes backwards: offset {ns} ns < current "
                             f"{self.offset_ns} ns")
        self.offset_ns = ns
        return self

    def advance(self, d):
        d = duration_ns(d)
        if d < 0:
            raise ValueError("advance() takes a non-negative duration")
        return self.at_ns(self.offset_ns + d)

    # -- raw output --

    def frame(self, kind, payload):
        """Appends a raw frame of any kind."""
        self.frames.append(frame(kind, payload))
        return self

    def record(self, rec):
        """Appends raw kernel record bytes as an EVENT frame."""
        self.frames.append(frame(REC_KIND_EVENT, rec))
        self.events += 1
        return self

    def meta_text(self):
        return (f"host_name={self.host}\nboot_to_real_ns={self.boot_to_real_ns}\n"
                f"abi={ABI}\n")

    def to_bytes(self):
        return b"".join([file_header(), frame(REC_KIND_META, self.meta_text().encode())]
                        + self.frames)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(file_header())
            f.write(frame(REC_KIND_META, self.meta_text().encode()))
            f.writelines(self.frames)
        return path

    def __len__(self):
        return len(self.frames)

    # -- cgroups --

    def _alloc_id(self, path, v1):
        cid = _fnv1a((b"v1:" if v1 else b"") + path.encode()) & ((1 << 63) - 1)
        while cid == 0 or (cid | ((1 << 63) if v1 else 0)) in self._keys:
            cid = (cid + 1) & ((1 << 63) - 1)
        return cid

    def cgroup(self, path, v1=False, cgroup_id=None, _kind="cgroup"):
        """Declares a cgroup by path; emits its VG_CGROUP record."""
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"cgroup path must be absolute: {path!r}")
        norm = "/" + "/".join(c for c in path.split("/") if c)
        existing = self.cgroups.get((norm, bool(v1)))
        if existing is not None:
            if _kind == "container":
                raise ValueError(f"cgroup {norm} is already declared")
            if cgroup_id is not None and cgroup_id != existing.cgroup_id:
                raise ValueError(f"cgroup {norm} already has id {existing.cgroup_id:#x}")
            return existing
        if cgroup_id is None:
            cgroup_id = self._alloc_id(norm, bool(v1))
        elif not 0 <= cgroup_id < 1 << 63:
            raise ValueError("cgroup_id must fit 63 bits")
        h = Cgroup(norm, cgroup_id, bool(v1), _kind)
        if h.key in self._keys:
            raise ValueError(f"cgroup id {cgroup_id:#x} is already used")
        self.cgroups[(norm, h.v1)] = h
        self._keys[h.key] = h
        self._emit_cgroup(h)
        return h

    def _emit_cgroup(self, h):
        comps = [c for c in h.path.split("/") if c]
        flags = F_CG_V1 if h.v1 else 0
        if len(comps) > CG_DEPTH:
            comps = comps[-CG_DEPTH:]
            flags |= F_TRUNC1
        names = [_field(c, CG_NAME_LEN)[0] for c in reversed(comps)]
        names += [b""] * (CG_DEPTH - len(names))
        hdr = HDR.pack(TYPES["cgroup"], HDR.size + CGROUP.size, ABI, flags,
                       0, 0, 0, 0, 0, 0, self.ts_ns, h.cgroup_id, 0, 0, b"")
        self.record(hdr + CGROUP.pack(len(comps), 1 if h.v1 else 2, *names))

    def _emit_side_container(self, h):
        f = [_field(v or "", n)[0] for v, n in (
            (h.name or h.container_id, 128), (h.image, 256), (h.pod, 128),
            (h.namespace, 128), (h.pod_uid, 64), (h.bundle, 256))]
        if h.labels is None:
            self.frame(REC_KIND_CONTAINER, SIDE_CONTAINER.pack(h.key, *f))
        else:
            f.append(_field(h.labels, 512)[0])
            self.frame(REC_KIND_CONTAINER, SIDE_CONTAINER_LABELS.pack(h.key, *f))

    def container(self, container_id, runtime_path=None, image=None, name=None,
                  pod=None, namespace=None, pod_uid=None, bundle=None,
                  labels=None, runtime="runc", v1=False, cgroup_id=None):
        """Declares a container; see the module docstring."""
        labels = _labels_text(labels)
        rt = {"crio": "cri-o", "cri_o": "cri-o"}.get(runtime, runtime)
        if rt not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}: {runtime!r}")
        cid = str(container_id)
        if rt != "runc" and not _ID64.match(cid):
            cid = hashlib.sha256(cid.encode()).hexdigest()
            if name is None:
                name = str(container_id)
        if cid in self.containers:
            raise ValueError(f"container {cid} is already declared")
        if pod is not None:
            namespace = "default" if namespace is None else namespace
            if pod_uid is None:
                pod_uid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"mkrec:{namespace}/{pod}"))
        if runtime_path is None:
            if rt == "runc":
                if not _RUNC_NAME.match(cid) or cid in (".", ".."):
                    raise ValueError(f"runc container id must be [A-Za-z0-9_.-]"
                                     f"{{1,64}} (or give runtime_path): {cid!r}")
                runtime_path = f"/{cid}"
            elif rt == "docker":
                runtime_path = f"/system.slice/docker-{cid}.scope"
            elif rt == "podman":
                runtime_path = f"/machine.slice/libpod-{cid}.scope"
            elif pod is not None:
                leaf = (f"cri-containerd-{cid}.scope" if rt == "containerd"
                        else f"crio-{cid}.scope")
                u = pod_uid.replace("-", "_")
                runtime_path = ("/kubepods.slice/kubepods-besteffort.slice/"
                                f"kubepods-besteffort-pod{u}.slice/{leaf}")
            elif rt == "containerd":
                runtime_path = f"/k8s.io/{cid}"
            else:
                runtime_path = f"/machine.slice/crio-{cid}.scope"
        h = self.cgroup(runtime_path, v1=v1, cgroup_id=cgroup_id, _kind="container")
        h.container_id, h.runtime = cid, rt
        h.name, h.image, h.pod, h.namespace = name, image, pod, namespace
        h.pod_uid, h.bundle, h.labels = pod_uid, bundle, labels
        self.containers[cid] = h
        if any(v is not None for v in (image, name, pod, namespace, pod_uid, bundle,
                                        labels)):
            h.meta = True
            self._emit_side_container(h)
        return h

    def service(self, unit, path=None, v1=False, cgroup_id=None):
        """Declares a host systemd unit's cgroup (default
        /system.slice/UNIT; a unit without a type suffix gets .service)."""
        if path is None:
            if not re.search(r"\.(service|scope|socket|mount|swap|slice)$", unit):
                unit += ".service"
            path = unit if unit.startswith("/") else f"/system.slice/{unit}"
        h = self.cgroup(path, v1=v1, cgroup_id=cgroup_id, _kind="service")
        h.unit = unit.rsplit("/", 1)[-1]
        return h

    def announce(self, cg):
        """Re-sends a cgroup's VG_CGROUP record (and its side frame)."""
        self._emit_cgroup(cg)
        if cg.meta:
            self._emit_side_container(cg)
        return cg

    # -- processes --

    def new_pid(self):
        while self._next_pid in self.procs:
            self._next_pid += 1
        pid = self._next_pid
        self._next_pid += 1
        return pid

    def known_process(self, cg, pid, exe, ppid=1, uid=0, gid=None, euid=None,
                      comm=None, side=True):
        """Registers a process that started before the recording; writes a
        REC_KIND_PROC side frame unless side=False."""
        p = _Proc(pid, ppid, exe, comm, uid, uid if gid is None else gid,
                  uid if euid is None else euid, uid if gid is None else gid,
                  cg)
        self.procs[pid] = p
        if side:
            self.frame(REC_KIND_PROC, SIDE_PROC.pack(pid, ppid, _field(exe, PATH_LEN)[0]))
        return pid

    def _begin(self, kw):
        bad = set(kw) - _COMMON
        if bad:
            raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(bad))}")
        if kw.get("at") is not None:
            self.at(kw["at"])
        return kw

    def _cg(self, cg, p, pid):
        if cg is None:
            if p is None or p.cg is None:
                raise ValueError(f"pid {pid}: no cgroup given and none known")
            cg = p.cg
        elif p is not None:
            p.cg = cg
        if isinstance(cg, Cgroup):
            return cg.cgroup_id, F_CG_V1 if cg.v1 else 0
        return int(cg), 0  # a raw cgroup id (e.g. one never declared)

    def _hdr(self, typ, size, cg, pid, ret, kw, flags=0):
        p = self.procs.get(pid)
        cgid, cgflag = self._cg(cg, p, pid)
        g = kw.get
        comm = g("comm")
        if comm is None:
            comm = p.comm if p else "proc"
        return HDR.pack(
            typ, size, ABI, flags | cgflag | int(g("hdr_flags") or 0),
            pid, pid if g("tid") is None else g("tid"),
            g("ppid") if g("ppid") is not None else (p.ppid if p else 1),
            _u32(g("uid") if g("uid") is not None else (p.uid if p else 0)),
            _u32(g("gid") if g("gid") is not None else (p.gid if p else 0)),
            _u32(g("euid") if g("euid") is not None else (p.euid if p else 0)),
            self.ts_ns, cgid, int(g("repeat") or 0), _ret(ret),
            _field(comm, COMM_LEN)[0])

    def _event(self, rec):
        self.record(rec)
        if self.tick_ns:
            self.offset_ns += self.tick_ns

    # -- process events --

    def exec(self, cg, pid, exe, args=None, cwd="/", parent_exe=None, ppid=None,
             uid=None, gid=None, euid=None, egid=None, comm=None, flags=0,
             argc=None, memfd=False, deleted=False, stdin_socket=False,
             stdout_socket=False, **kw):
        kw = self._begin(kw)
        p = self.procs.get(pid)
        if p is None:
            p = self.procs[pid] = _Proc(pid, cg=cg)
        if ppid is not None:
            p.ppid = ppid
        if uid is not None:
            p.uid = uid
            p.euid = uid if euid is None else euid
            p.gid = uid if gid is None else gid
            p.egid = p.gid if egid is None else egid
        else:
            p.euid = p.euid if euid is None else euid
            p.gid = p.gid if gid is None else gid
            p.egid = p.egid if egid is None else egid
        p.exe = exe
        p.comm = _comm_of(exe) if comm is None else comm
        if args is None:
            args = [exe.rstrip("/").rsplit("/", 1)[-1] or "proc"]
        elif isinstance(args, str):
            args = shlex.split(args)
        blob = b"".join(_bytes(a) + b"\0" for a in args)
        if len(blob) > ARGS_LEN:
            blob = blob[:ARGS_LEN]
            flags |= F_ARGS_TRUNC
        if parent_exe is None:
            pp = self.procs.get(p.ppid)
            parent_exe = pp.exe if pp else ""
        exe_b, t1 = _field(exe, PATH_LEN)
        pexe_b, t2 = _field(parent_exe, PATH_LEN)
        cwd_b, _ = _field(cwd, PATH_LEN)
        flags |= (F_TRUNC1 if t1 else 0) | (F_TRUNC2 if t2 else 0)
        flags |= (F_EXE_MEMFD if memfd else 0) | (F_EXE_DELETED if deleted else 0)
        flags |= (F_STDIN_SOCK if stdin_socket else 0) | (F_STDOUT_SOCK if stdout_socket else 0)
        hdr = self._hdr(TYPES["exec"], HDR.size + EXEC.size, cg, pid, 0, kw, flags)
        body = EXEC.pack(len(args) if argc is None else argc, len(blob), _u32(p.egid),
                         0, exe_b, pexe_b, cwd_b, blob)
        self._event(hdr + body)
        return pid

    def fork(self, cg, pid, child, is_thread=False, **kw):
        kw = self._begin(kw)
        parent = self.procs.get(pid)
        hdr = self._hdr(TYPES["fork"], HDR.size + PROC.size, cg, pid, 0, kw)
        if parent is not None:
            c = parent.copy(child)
        else:
            c = _Proc(child, pid, cg=cg)
        self.procs[child] = c
        self._event(hdr + PROC.pack(child, 0, 1 if is_thread else 0, 0))
        return child

    def exit(self, cg, pid, code=0, signal=0, core=False, **kw):
        kw = self._begin(kw)
        if signal:
            status = (signal & 0x7F) | (0x80 if core else 0)
        else:
            status = (code & 0xFF) << 8
        hdr = self._hdr(TYPES["exit"], HDR.size + PROC.size, cg, pid, 0, kw)
        self._event(hdr + PROC.pack(0, status, 0, 0))
        self.procs.pop(pid, None)
        return pid

    def spawn(self, cg, parent, exe, args=None, pid=None, **exec_kw):
        """fork(parent -> pid) then exec(pid, exe, args); returns the pid."""
        if "at" in exec_kw:
            self.at(exec_kw.pop("at"))
        pid = self.new_pid() if pid is None else pid
        if cg is None and parent in self.procs:
            cg = self.procs[parent].cg
        self.fork(cg, parent, pid)
        self.exec(cg, pid, exe, args, ppid=parent, **exec_kw)
        return pid

    # -- file events --

    def open(self, cg, pid, path, access=("read",), ret=3, flags=None, mode=None,
             relative=False, **kw):
        kw = self._begin(kw)
        if isinstance(access, str):
            access = access.replace(",", " ").split()
        acc = 0
        for a in access:
            if a not in ACCESS:
                raise ValueError(f"access must be a subset of {sorted(ACCESS)}: {a!r}")
            acc |= ACCESS[a]
        if flags is None:
            rw = acc & 3
            flags = {0: 0, 1: 0, 2: 1, 3: 2}[rw]
            flags |= (0o100 if acc & 4 else 0) | (0o1000 if acc & 8 else 0)
        if mode is None:
            mode = 0o644 if acc & 4 else 0
        path_b, t = _field(path, PATH_LEN)
        hflags = (F_TRUNC1 if t else 0) | (F_RELATIVE if relative else 0)
        hdr = self._hdr(TYPES["open"], HDR.size + FILE.size, cg, pid, ret, kw, hflags)
        self._event(hdr + FILE.pack(flags, acc, mode, 0, 0, 0, path_b, b""))

    def file_op(self, cg, pid, action, path, path2="", mode=None, owner_uid=0,
                owner_gid=0, ret=0, open_flags=0, **kw):
        kw = self._begin(kw)
        if action == "rmdir":
            action, open_flags = "unlink", open_flags | 0x200  # AT_REMOVEDIR
        if action not in ("unlink", "rename", "chmod", "chown", "link",
                          "symlink", "mkdir"):
            raise ValueError(f"unknown file action {action!r}")
        if path2 and action not in ("rename", "link", "symlink"):
            raise ValueError(f"{action} takes no path2")
        if mode is None:
            mode = {"chmod": 0o644, "mkdir": 0o755}.get(action, 0)
        if action != "chown":
            owner_uid = owner_gid = 0
        p1, t1 = _field(path, PATH_LEN)
        p2, t2 = _field(path2, PATH_LEN)
        hflags = (F_TRUNC1 if t1 else 0) | (F_TRUNC2 if t2 else 0)
        hdr = self._hdr(TYPES[action], HDR.size + FILE.size, cg, pid, ret, kw, hflags)
        self._event(hdr + FILE.pack(open_flags, 0, mode, _u32(owner_uid),
                                    _u32(owner_gid), 0, p1, p2))

    def unlink(self, cg, pid, path, **kw):
        return self.file_op(cg, pid, "unlink", path, **kw)

    def rename(self, cg, pid, path, path2, **kw):
        return self.file_op(cg, pid, "rename", path, path2, **kw)

    def chmod(self, cg, pid, path, mode, **kw):
        return self.file_op(cg, pid, "chmod", path, mode=mode, **kw)

    def chown(self, cg, pid, path, owner_uid, owner_gid, **kw):
        return self.file_op(cg, pid, "chown", path, owner_uid=owner_uid,
                            owner_gid=owner_gid, **kw)

    def link(self, cg, pid, path, path2, **kw):
        return self.file_op(cg, pid, "link", path, path2, **kw)

    def symlink(self, cg, pid, path, target, **kw):
        return self.file_op(cg, pid, "symlink", path, target, **kw)

    def mkdir(self, cg, pid, path, mode=0o755, **kw):
        return self.file_op(cg, pid, "mkdir", path, mode=mode, **kw)

    # -- network events --

    def _net(self, typ, cg, pid, ret, kw, family=0, sock_type=0, lport=0,
             rport=0, laddr=bytes(16), raddr=bytes(16), backlog=0, payload=b""):
        payload = payload[:PAYLOAD_LEN]
        hdr = self._hdr(TYPES[typ], HDR.size + NET.size, cg, pid, ret, kw)
        self._event(hdr + NET.pack(family, sock_type, lport & 0xFFFF, rport & 0xFFFF,
                                   laddr, raddr, backlog, len(payload), payload))

    def connect(self, cg, pid, ip, port, ret=0, transport="tcp", **kw):
        kw = self._begin(kw)
        fam, addr = _ip(ip)
        self._net("connect", cg, pid, ret, kw, fam, _transport(transport),
                  rport=port, raddr=addr)

    def accept(self, cg, pid, peer_ip, peer_port, local_ip, local_port, ret=4,
               transport="tcp", **kw):
        kw = self._begin(kw)
        fam, raddr = _ip(peer_ip)
        lfam, laddr = _ip(local_ip)
        if lfam != fam:
            raise ValueError("peer and local address families differ")
        self._net("accept", cg, pid, ret, kw, fam, _transport(transport),
                  local_port, peer_port, laddr, raddr)

    def bind(self, cg, pid, ip, port, ret=0, transport="tcp", **kw):
        kw = self._begin(kw)
        fam, addr = _ip(ip)
        self._net("bind", cg, pid, ret, kw, fam, _transport(transport),
                  lport=port, laddr=addr)

    def listen(self, cg, pid, ip, port, backlog=128, ret=0, **kw):
        kw = self._begin(kw)
        fam, addr = _ip(ip)
        self._net("listen", cg, pid, ret, kw, fam, 1, lport=port, laddr=addr,
                  backlog=backlog)

    def dns(self, cg, pid, name, server="10.0.0.53", qtype="A", txid=None,
            ret=None, local_ip=None, local_port=0, port=53, **kw):
        kw = self._begin(kw)
        if txid is None:
            txid = self._txid
            self._txid = (self._txid + 1) & 0xFFFF
        q = dns_query(name, qtype, txid)
        fam, raddr = _ip(server)
        laddr = _ip(local_ip)[1] if local_ip else bytes(16)
        self._net("dns", cg, pid, len(q) if ret is None else ret, kw, fam, 2,
                  local_port, port, laddr, raddr, payload=q)

    # -- privilege events --

    def priv(self, cg, pid, action, ret=None, **fields):
        kw = self._begin({k: fields.pop(k) for k in list(fields) if k in _COMMON})
        action = action.replace("-", "_")
        a = [0, 0, 0, 0]
        s1 = s2 = s3 = ""
        rdef = 0
        take = fields.pop

        def need(name):
            if name not in fields:
                raise TypeError(f"priv {action!r} needs {name}=")
            return take(name)

        if action in ("setuid", "setgid"):
            ids = need("ids")
            ids = [ids] if isinstance(ids, int) else list(ids)
            base = action[3:]
            sc = take("syscall", None)
            if sc is None:
                if not 1 <= len(ids) <= 3:
                    raise ValueError("ids takes 1 to 3 ids")
                sc = ("set", "setre", "setres")[len(ids) - 1] + base
            if sc not in NR or not sc.endswith(base) or not sc.startswith("set"):
                raise ValueError(f"{sc!r} is not a set*{base} syscall")
            for i, v in enumerate(ids[:3]):
                a[i] = _u32(v)
            a[3] = NR[sc]
            typ = action
        elif action == "capset":
            a[:3] = [_caps(take("effective", 0)), _caps(take("permitted", 0)),
                     _caps(take("inheritable", 0))]
            a[3] = NR["capset"]
            typ = action
        elif action == "ptrace":
            req = take("request", "attach")
            req = PTRACE_REQ[req.lower()] if isinstance(req, str) else int(req)
            a = [req, _u32(need("target")), int(take("addr", 0)), NR["ptrace"]]
            typ = action
        elif action == "mount":
            s1, s2, s3 = take("source", ""), need("target"), take("fstype", "")
            a = [int(take("flags", 0)), 0, 0, NR["mount"]]
            typ = action
        elif action in ("umount", "umount2"):
            s2 = need("target")
            a = [0, int(take("flags", 0)), 0, NR["umount2"]]
            typ = "umount"
        elif action == "unshare":
            a = [_names_to_bits(need("ns"), NS_FLAGS, "namespace"), 0, 0, NR["unshare"]]
            typ = action
        elif action == "setns":
            a = [int(take("fd", 3)), _names_to_bits(take("ns", 0), NS_FLAGS, "namespace"),
                 int(take("inode", 0)), NR["setns"]]
            s1 = take("file", "")
            typ = action
        elif action == "module_load":
            path, s2 = take("path", None), take("params", "")
            if path:
                s1 = path
                a = [int(take("fd", 3)), 0, 0, NR["finit_module"]]
            else:
                a = [0, int(take("size", 0)), 0, NR["init_module"]]
            typ = action
        elif action == "bpf_load":
            name = _field(take("name", ""), 16)[0]  # BPF_OBJ_NAME_LEN
            pt = take("prog_type", "kprobe")
            pt = BPF_PROG_TYPES[pt.lower()] if isinstance(pt, str) else int(pt)
            a = [5, pt, 0, NR["bpf"]]  # BPF_PROG_LOAD
            s1, rdef, typ = name, 3, action
        elif action == "memfd_create":
            s1 = need("name")
            a = [0, _names_to_bits(take("flags", 0), MFD_FLAGS, "memfd flag"), 0,
                 NR["memfd_create"]]
            rdef, typ = 3, action
        else:
            raise ValueError(f"unknown priv action {action!r}")
        if fields:
            raise TypeError(f"priv {action!r}: unexpected field(s) {', '.join(sorted(fields))}")
        ret = rdef if ret is None else _ret(ret)
        if ret == 0 and typ in ("setuid", "setgid") and pid in self.procs:
            self._apply_ids(self.procs[pid], typ, NR_NAMES[a[3]], a)
        b1, t1 = _field(s1, PATH_LEN)
        b2, t2 = _field(s2, PATH_LEN)
        b3, _ = _field(s3, 64)
        hflags = (F_TRUNC1 if t1 else 0) | (F_TRUNC2 if t2 else 0)
        hdr = self._hdr(TYPES[typ], HDR.size + PRIV.size, cg, pid, ret, kw, hflags)
        self._event(hdr + PRIV.pack(*a, b1, b2, b3))

    @staticmethod
    def _apply_ids(p, typ, sc, a):
        keep = 0xFFFFFFFF  # -1: unchanged
        if typ == "setuid":
            if sc == "setuid":
                p.uid = p.euid = a[0]
            elif sc in ("setreuid", "setresuid"):
                if a[0] != keep:
                    p.uid = a[0]
                if a[1] != keep:
                    p.euid = a[1]
        else:
            if sc == "setgid":
                p.gid = p.egid = a[0]
            elif sc in ("setregid", "setresgid"):
                if a[0] != keep:
                    p.gid = a[0]
                if a[1] != keep:
                    p.egid = a[1]


NR_NAMES = {v: k for k, v in NR.items()}

# ---- description files ----

_FILE_ACTIONS = ("unlink", "rmdir", "rename", "chmod", "chown", "link", "symlink", "mkdir")
_PRIV_ACTIONS = ("setuid", "setgid", "capset", "ptrace", "mount", "umount",
                 "unshare", "setns", "module_load", "bpf_load", "memfd_create")
_OPS = ("container", "service", "cgroup", "known_process", "announce", "at",
        "advance", "exec", "fork", "exit", "spawn", "open", "file_op",
        "connect", "accept", "bind", "listen", "dns", "priv")


def _subst(v, i):
    if isinstance(v, str):
        return v.replace("{i}", str(i))
    if isinstance(v, list):
        return [_subst(x, i) for x in v]
    if isinstance(v, dict):
        return {k: _subst(x, i) for k, x in v.items()}
    return v


def build_from_spec(spec):
    """A Recording from a description dict (see the module docstring)."""
    if not isinstance(spec, dict):
        raise ValueError("a spec is a JSON object")
    unknown = set(spec) - {"host", "start", "uptime", "tick", "steps"}
    if unknown:
        raise ValueError(f"unknown spec keys: {sorted(unknown)}")
    r = Recording(host=spec.get("host", "localhost"),
                  start=spec.get("start", "2026-01-01T00:00:00Z"),
                  uptime=spec.get("uptime", 1000), tick=spec.get("tick", 0))
    handles = {}
    _run_steps(r, handles, spec.get("steps", []), base=None, i=None, where="steps")
    return r


def _run_steps(r, handles, steps, base, i, where):
    for n, step in enumerate(steps):
        ctx = f"{where}[{n}]"
        if not isinstance(step, dict) or "op" not in step:
            raise ValueError(f"{ctx}: a step is an object with an \"op\"")
        if i is not None:  # a nested repeat's steps get their own {i}
            step = {k: (v if k == "steps" else _subst(v, i)) for k, v in step.items()}
        step = dict(step)
        op = step.pop("op")
        try:
            if "at" in step:
                t = step.pop("at")
                if base is None:
                    r.at(t)
                else:
                    r.at_ns(base + duration_ns(t))
            if op == "repeat":
                times = int(step.pop("times"))
                every = duration_ns(step.pop("every", 0))
                inner = step.pop("steps")
                if step:
                    raise ValueError(f"unknown keys {sorted(step)}")
                start = r.offset_ns
                for k in range(times):
                    r.at_ns(start + k * every)
                    _run_steps(r, handles, inner, start + k * every, k, f"{ctx}.steps")
                continue
            name = step.pop("as", None)
            if "cg" in step and isinstance(step["cg"], str):
                if step["cg"] not in handles:
                    raise ValueError(f"unknown cgroup handle {step['cg']!r}")
                step["cg"] = handles[step["cg"]]
            if op in _FILE_ACTIONS:
                step["action"], op = op, "file_op"
            elif op in _PRIV_ACTIONS:
                step["action"], op = op, "priv"
            if op not in _OPS:
                raise ValueError(f"unknown op {op!r}")
            if op == "container" and "id" in step:
                step["container_id"] = step.pop("id")
            if op in ("at", "advance"):
                arg = step.pop("t", step.pop("seconds", step.pop("d", None)))
                if arg is None or step:
                    raise ValueError(f"{op} takes one of t/seconds/d")
                getattr(r, op)(arg)
                continue
            out = getattr(r, op)(**step)
            if isinstance(out, Cgroup):
                key = name or (out.container_id if op == "container" else
                               out.unit if op == "service" else out.path)
                handles[key] = out
                if op == "container" and out.name and out.name not in handles:
                    handles[out.name] = out
        except (TypeError, ValueError, KeyError) as e:
            raise ValueError(f"{ctx} ({op}): {e}") from None


# ---- benchmark stream ----

def bench_recording(containers=1000, events=20, host="bench-node",
                    start="2026-11-02T00:00:00Z"):
    """containers x events: every runtime in turn (pods for containerd and
    cri-o), interleaved in rounds (round k = event k of every container);
    each container: exec, then a cycle of open/dns/connect/fork/exec/
    open(write)/exit/rename/accept."""
    r = Recording(host=host, start=start)
    cgs, pids = [], []
    for i in range(containers):
        rt = RUNTIMES[i % len(RUNTIMES)]
        pod = f"app-{i:05d}" if rt in ("containerd", "cri-o") else None
        cgs.append(r.container(f"c{i:05d}", runtime=rt, name=f"app-{i:05d}",
                               image=f"bench/app-{i % 50}:1.0", pod=pod,
                               namespace="bench" if pod else None))
        pids.append(10000 + 100 * i)
    cycle = ("open", "dns", "connect", "fork", "exec", "write", "exit", "rename", "accept")
    for k in range(events):
        for i, cg in enumerate(cgs):
            r.at_ns(k * 100_000_000 + i * 10_000)
            pid = pids[i]
            if k == 0:
                r.exec(cg, pid, "/usr/bin/app", ["app", "--serve", f"--id={i}"],
                       ppid=1, parent_exe="/usr/bin/containerd-shim")
                continue
            step = cycle[(k - 1) % len(cycle)]
            child = pid + 1 + (k - 1) // len(cycle)
            if step == "open":
                r.open(cg, pid, f"/etc/app/conf-{k}.yaml")
            elif step == "dns":
                r.dns(cg, pid, f"svc-{i % 97}.bench.svc.cluster.local")
            elif step == "connect":
                r.connect(cg, pid, f"10.{i // 250 % 256}.{i % 250}.{k % 250 + 1}", 5432)
            elif step == "fork":
                r.fork(cg, pid, child)
            elif step == "exec":
                r.exec(cg, child, "/bin/sh", ["sh", "-c", f"echo {k}"])
            elif step == "write":
                r.open(cg, child, f"/tmp/out-{k}", access=("write", "create", "truncate"))
            elif step == "exit":
                r.exit(cg, child, code=k % 3)
            elif step == "rename":
                r.file_op(cg, pid, "rename", f"/tmp/a-{k}", f"/tmp/b-{k}")
            elif step == "accept":
                r.accept(cg, pid, "192.168.1.10", 40000 + k, "10.1.0.2", 8080)
    return r


# ---- command line ----

def _dump(path, out):
    for off, kind, payload in read_frames(path):
        name = KIND_NAMES.get(kind, f"kind{kind}")
        line = f"{off:>10} {name:<9} {len(payload):>5}B"
        if kind == REC_KIND_META:
            line += " " + payload.decode("utf-8", "replace").strip().replace("\n", " ")
        elif kind == REC_KIND_EVENT and len(payload) >= HDR.size:
            d = parse_record(payload)
            line += (f" {d['type']} ts={d['ts_ns']} cg={d['cgroup_id']:#x} pid={d['pid']}"
                     f" comm={d['comm']!r} ret={d['ret']}")
            for k in ("path", "exe"):
                if k in d:
                    line += f" {k}={d[k]!r}"
        elif kind == REC_KIND_CONTAINER and len(payload) >= SIDE_CONTAINER.size:
            key, name_, image, pod, ns, uid, bundle = SIDE_CONTAINER.unpack(
                payload[:SIDE_CONTAINER.size])
            line += (f" key={key:#x} name={_cstr(name_)!r} image={_cstr(image)!r}"
                     f" pod={_cstr(ns)}/{_cstr(pod)}")
            if len(payload) >= SIDE_CONTAINER_LABELS.size:
                labels = SIDE_CONTAINER_LABELS.unpack(
                    payload[:SIDE_CONTAINER_LABELS.size])[7]
                line += f" labels={_cstr(labels)!r}"
        elif kind == REC_KIND_PROC and len(payload) == SIDE_PROC.size:
            pid, ppid, exe = SIDE_PROC.unpack(payload)
            line += f" pid={pid} ppid={ppid} exe={_cstr(exe)!r}"
        print(line, file=out)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="mkrec.py", description="Write Vigil recordings.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build a recording from a JSON description")
    b.add_argument("spec", help="JSON file, - for stdin")
    b.add_argument("-o", "--output", required=True)
    be = sub.add_parser("bench", help="write the many-containers benchmark stream")
    be.add_argument("-o", "--output", required=True)
    be.add_argument("-n", "--containers", type=int, default=1000)
    be.add_argument("-e", "--events", type=int, default=20, help="events per container")
    be.add_argument("--host", default="bench-node")
    be.add_argument("--start", default="2026-11-02T00:00:00Z")
    d = sub.add_parser("dump", help="list the frames of a recording")
    d.add_argument("file")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "build":
            if a.spec == "-":
                spec = json.load(sys.stdin)
            else:
                with open(a.spec) as f:
                    spec = json.load(f)
            r = build_from_spec(spec)
        elif a.cmd == "bench":
            r = bench_recording(a.containers, a.events, a.host, a.start)
        else:
            try:
                _dump(a.file, sys.stdout)
                sys.stdout.flush()
            except BrokenPipeError:  # dump | head
                sys.stdout = None
            return 0
        r.write(a.output)
        print(f"mkrec: wrote {a.output}: {r.events} records, {len(r.frames) + 1} frames",
              file=sys.stderr)
        return 0
    except (OSError, ValueError) as e:
        print(f"mkrec: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
