/* cgroup_path.h - classify a cgroup path as a host cgroup or a container's,
 * naming the container runtime, the container id, the Kubernetes pod uid and,
 * on the host, the systemd unit that owns the path. Pure string parsing: no
 * file system access, no allocation. */
#ifndef VIGIL_ENRICH_CGROUP_PATH_H
#define VIGIL_ENRICH_CGROUP_PATH_H

enum cg_runtime { CG_HOST = 0, CG_RUNC, CG_DOCKER, CG_CONTAINERD, CG_CRIO, CG_PODMAN };

struct cg_info {
	enum cg_runtime runtime;
	char container_id[65]; /* "" on host */
	char pod_uid[37];      /* kubepods: dashed form ('_' of systemd slice
				* names turned into '-'); or the 32-hex uid of a
				* static pod; else "" */
	char unit[128];        /* host only: the owning systemd unit, "" if none */
};

/*
 * cg_parse - parse one cgroup path into *out.
 *
 * path is the path of a cgroup as in the third field of a /proc/PID/cgroup
 * line ("/system.slice/docker-<id>.scope"), or a directory under
 * /sys/fs/cgroup (the "/sys/fs/cgroup" prefix and, for cgroup v1, a leading
 * controller directory such as "memory" or "cpu,cpuacct" are skipped). Empty
 * components, "." and ".." are ignored.
 *
 * Returns 0 with *out filled, or -EINVAL (and *out zeroed when out is not
 * NULL) for a NULL out, or a NULL, empty or non-absolute path.
 *
 * Recognised containers (ids of docker, containerd, cri-o and podman must be
 * 64 lowercase hex digits, else the component is not taken as a container):
 *   docker      /docker/<id>[/...]            /.../docker-<id>.scope
 *   containerd  /.../cri-containerd-<id>.scope  /k8s.io/<id>  /default/<id>
 *               /.../<pod slice>:cri-containerd:<id>  (also :crio: :docker:)
 *               /kubepods/<qos>/pod<uid>/<id>: a bare id under kubepods
 *               (cgroupfs driver) is reported as containerd, but that is a
 *               GUESS - dockershim and other CRIs use the same layout.
 *   cri-o       /.../crio-<id>[.scope]
 *   podman      /.../libpod-<id>[.scope][/container]
 *   runc        /.../runc-<name>.scope (runc --systemd-cgroup)
 * The monitors crio-conmon-<id>.scope and libpod-conmon-<id>.scope are not
 * containers: they are host cgroups whose unit is that scope. When several
 * containers nest (docker-in-docker, kind) the innermost one is reported;
 * its metadata may then live only inside the outer container.
 *
 * Standalone runc heuristic: runc names its cgroup after whatever the caller
 * chose, so when no rule above applies the leaf component is taken as a runc
 * container id if it matches [A-Za-z0-9_.-]{1,64} (not "." or ".."), no
 * component is a systemd unit (*.slice, *.scope, *.service, *.socket,
 * *.mount, *.swap - this also excludes "/init.scope" and "/user.slice/..."),
 * the path is not under kubepods, and the leaf is not a runtime's parent
 * directory ("docker", "kubepods", "k8s.io", "default", "libpod_parent",
 * "machine", "lxc"). False positives: any hand-made cgroup outside systemd's
 * tree (cgcreate, lxc, a v1 hierarchy without systemd) is reported as a runc
 * container named after its leaf. A process inside a cgroup namespace sees
 * its own cgroup as "/" and is reported as host.
 *
 * Host: unit is the innermost service/scope/socket/mount/swap component
 * ("/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service" ->
 * "foo.service"), else the innermost slice, else "" ("/"). pod_uid is filled
 * whenever a kubepods pod component is seen, container or not. Over-long
 * units are truncated to fit.
 */
int cg_parse(const char *path, struct cg_info *out);

/* cg_runtime_name - "host", "runc", "docker", "containerd", "cri-o",
 * "podman"; "unknown" for a value outside the enum. Never NULL. */
const char *cg_runtime_name(enum cg_runtime rt);

#endif
