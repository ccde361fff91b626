/* test_cgroup_path.c - cg_parse on real-world cgroup paths of every runtime
 * (cgroupfs and systemd drivers, cgroup v1 and v2), host units, and negatives
 * (runtime daemons, conmon monitors, malformed ids, relative/empty paths). */
#include "enrich/cgroup_path.h"
#include "harness.h"

#include <errno.h>

#define ID "3f6a2b1c9d8e7f605142a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
#define ID2 "aa11bb22cc33dd44ee55ff6600778899aabbccddeeff00112233445566778899"
#define UID_DASH "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"
#define UID_US "1f2e3d4c_5b6a_4978_8695_a4b3c2d1e0f9"

/* Parse path and check every field; unit/pod may be "" */
static void expect(int line, const char *path, enum cg_runtime rt, const char *id,
		   const char *pod, const char *unit)
{
	struct cg_info ci;
	int rc = cg_parse(path, &ci);
	if (rc != 0 || ci.runtime != rt || strcmp(ci.container_id, id) != 0 ||
	    strcmp(ci.pod_uid, pod) != 0 || strcmp(ci.unit, unit) != 0) {
		h_failed++;
		fprintf(stderr,
			"line %d: \"%s\": rc=%d rt=%s id=\"%s\" pod=\"%s\" unit=\"%s\"; "
			"want rt=%s id=\"%s\" pod=\"%s\" unit=\"%s\"\n",
			line, path, rc, cg_runtime_name(ci.runtime), ci.container_id,
			ci.pod_uid, ci.unit, cg_runtime_name(rt), id, pod, unit);
	} else {
		h_passed++;
	}
}
#define EXPECT(path, rt, id, pod, unit) expect(__LINE__, path, rt, id, pod, unit)

static void test_docker(void)
{
	EXPECT("/docker/" ID, CG_DOCKER, ID, "", "");                       /* v1 cgroupfs */
	EXPECT("/system.slice/docker-" ID ".scope", CG_DOCKER, ID, "", ""); /* systemd */
	EXPECT("/docker/" ID "/init", CG_DOCKER, ID, "", "");               /* nested */
	EXPECT("/docker/" ID "/system.slice/cron.service", CG_DOCKER, ID, "", "");
	EXPECT("/sys/fs/cgroup/memory/docker/" ID, CG_DOCKER, ID, "", "");
	EXPECT("/sys/fs/cgroup/cpu,cpuacct/docker/" ID "/", CG_DOCKER, ID, "", "");
	EXPECT("/sys/fs/cgroup/system.slice/docker-" ID ".scope", CG_DOCKER, ID, "", "");
	EXPECT("//docker//" ID, CG_DOCKER, ID, "", "");
	/* docker-in-docker: innermost wins */
	EXPECT("/docker/" ID "/docker/" ID2, CG_DOCKER, ID2, "", "");
	/* rootless docker under the user manager */
	EXPECT("/user.slice/user-1000.slice/user@1000.service/user.slice/docker-" ID ".scope",
	       CG_DOCKER, ID, "", "");
}

static void test_containerd(void)
{
	EXPECT("/system.slice/containerd.service/kubepods-burstable-pod" UID_US
	       ".slice:cri-containerd:" ID,
	       CG_CONTAINERD, ID, UID_DASH, "");
	EXPECT("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_US
	       ".slice/cri-containerd-" ID ".scope",
	       CG_CONTAINERD, ID, UID_DASH, "");
	/* guaranteed QoS has no qos slice */
	EXPECT("/kubepods.slice/kubepods-pod" UID_US ".slice/cri-containerd-" ID ".scope",
	       CG_CONTAINERD, ID, UID_DASH, "");
	/* cgroupfs driver: bare id, runtime guessed as containerd */
	EXPECT("/kubepods/burstable/pod" UID_DASH "/" ID, CG_CONTAINERD, ID, UID_DASH, "");
	EXPECT("/kubepods/pod" UID_DASH "/" ID, CG_CONTAINERD, ID, UID_DASH, "");
	EXPECT("/sys/fs/cgroup/pids/kubepods/besteffort/pod" UID_DASH "/" ID,
	       CG_CONTAINERD, ID, UID_DASH, "");
	/* static pod: 32-hex uid */
	EXPECT("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
	       "0123456789abcdef0123456789abcdef.slice/cri-containerd-" ID ".scope",
	       CG_CONTAINERD, ID, "0123456789abcdef0123456789abcdef", "");
	EXPECT("/k8s.io/" ID, CG_CONTAINERD, ID, "", "");
	EXPECT("/default/" ID, CG_CONTAINERD, ID, "", "");
	/* kind: a k8s node inside a docker container, systemd driver */
	EXPECT("/system.slice/docker-" ID2 ".scope/kubelet.slice/kubelet-kubepods.slice/"
	       "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID_US
	       ".slice/cri-containerd-" ID ".scope",
	       CG_CONTAINERD, ID, UID_DASH, "");
}

static void test_crio(void)
{
	EXPECT("/crio-" ID ".scope", CG_CRIO, ID, "", "");
	EXPECT("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_US
	       ".slice/crio-" ID ".scope",
	       CG_CRIO, ID, UID_DASH, "");
	EXPECT("/kubepods/burstable/pod" UID_DASH "/crio-" ID, CG_CRIO, ID, UID_DASH, "");
	/* the monitor is not a container */
	EXPECT("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_US
	       ".slice/crio-conmon-" ID ".scope",
	       CG_HOST, "", UID_DASH, "crio-conmon-" ID ".scope");
	EXPECT("/system.slice/crio-conmon-" ID ".scope", CG_HOST, "", "",
	       "crio-conmon-" ID ".scope");
	EXPECT("/system.slice/crio.service", CG_HOST, "", "", "crio.service");
}

static void test_podman(void)
{
	EXPECT("/machine.slice/libpod-" ID ".scope", CG_PODMAN, ID, "", "");
	EXPECT("/machine.slice/libpod-" ID ".scope/container", CG_PODMAN, ID, "", "");
	EXPECT("/libpod_parent/libpod-" ID, CG_PODMAN, ID, "", "");
	EXPECT("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID
	       ".scope/container",
	       CG_PODMAN, ID, "", "");
	EXPECT("/machine.slice/libpod-conmon-" ID ".scope", CG_HOST, "", "",
	       "libpod-conmon-" ID ".scope");
}

static void test_runc(void)
{
	EXPECT("/mycontainer", CG_RUNC, "mycontainer", "", "");
	EXPECT("/mygroup/web_1.v2-x", CG_RUNC, "web_1.v2-x", "", "");
	EXPECT("/" ID, CG_RUNC, ID, "", "");
	EXPECT("/sys/fs/cgroup/memory/mycontainer", CG_RUNC, "mycontainer", "", "");
	EXPECT("/sys/fs/cgroup/jobs/build42", CG_RUNC, "build42", "", "");
	EXPECT("/system.slice/runc-mybox.scope", CG_RUNC, "mybox", "", "");
	/* a 65-char leaf, odd characters, runtime parents: not runc */
	EXPECT("/" ID "0", CG_HOST, "", "", "");
	EXPECT("/my container", CG_HOST, "", "", "");
	EXPECT("/a/b:c", CG_HOST, "", "", "");
	EXPECT("/docker", CG_HOST, "", "", "");
	EXPECT("/kubepods", CG_HOST, "", "", "");
	EXPECT("/kubepods/burstable", CG_HOST, "", "", "");
	EXPECT("/kubepods/burstable/pod" UID_DASH, CG_HOST, "", UID_DASH, "");
	EXPECT("/k8s.io", CG_HOST, "", "", "");
	EXPECT("/foo/..", CG_RUNC, "foo", "", ""); /* ".." is skipped, not resolved */
	/* under systemd: never runc */
	EXPECT("/system.slice/mycontainer", CG_HOST, "", "", "system.slice");
	EXPECT("/system.slice/foo.service/mycontainer", CG_HOST, "", "", "foo.service");
	EXPECT("/system.slice/runc-.scope", CG_HOST, "", "", "runc-.scope");
}

static void test_host(void)
{
	EXPECT("/", CG_HOST, "", "", "");
	EXPECT("/sys/fs/cgroup", CG_HOST, "", "", "");
	EXPECT("/sys/fs/cgroup/", CG_HOST, "", "", "");
	EXPECT("/sys/fs/cgroup/memory", CG_HOST, "", "", "");
	EXPECT("/sys/fs/cgroup/unified/", CG_HOST, "", "", "");
	EXPECT("/init.scope", CG_HOST, "", "", "init.scope");
	EXPECT("/system.slice/nginx.service", CG_HOST, "", "", "nginx.service");
	EXPECT("/system.slice/cron.service", CG_HOST, "", "", "cron.service");
	EXPECT("/system.slice/system-getty.slice/getty@tty1.service", CG_HOST, "", "",
	       "getty@tty1.service");
	EXPECT("/user.slice/user-1000.slice/session-3.scope", CG_HOST, "", "",
	       "session-3.scope");
	EXPECT("/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service",
	       CG_HOST, "", "", "foo.service");
	EXPECT("/user.slice/user-1000.slice/user@1000.service/app.slice", CG_HOST, "", "",
	       "user@1000.service");
	EXPECT("/user.slice", CG_HOST, "", "", "user.slice");
	EXPECT("/sys/fs/cgroup/systemd/system.slice/sshd.service", CG_HOST, "", "",
	       "sshd.service");
	EXPECT("/system.slice/docker.socket", CG_HOST, "", "", "docker.socket");
	/* runtime daemons are host processes */
	EXPECT("/system.slice/docker.service", CG_HOST, "", "", "docker.service");
	EXPECT("/system.slice/containerd.service", CG_HOST, "", "", "containerd.service");
	/* container-looking names with bad ids */
	EXPECT("/system.slice/docker-" ID ".service", CG_HOST, "", "",
	       "docker-" ID ".service");
	EXPECT("/system.slice/docker-ABCDEF.scope", CG_HOST, "", "", "docker-ABCDEF.scope");
	EXPECT("/system.slice/docker-.scope", CG_HOST, "", "", "docker-.scope");
	EXPECT("/system.slice/crio-" ID "0.scope", CG_HOST, "", "", "crio-" ID "0.scope");
	EXPECT("/system.slice/x.slice:cri-containerd:abc", CG_HOST, "", "", "system.slice");
	EXPECT("/system.slice/x.slice:unknown:" ID, CG_HOST, "", "", "system.slice");
	EXPECT("/system.slice/" ID, CG_HOST, "", "", "system.slice");
}

static void test_errors_and_limits(void)
{
	struct cg_info ci;
	memset(&ci, 'x', sizeof(ci));
	CHECK_INT(cg_parse(NULL, &ci), -EINVAL);
	CHECK_INT(ci.runtime, CG_HOST);
	CHECK_STR(ci.unit, "");
	CHECK_INT(cg_parse("", &ci), -EINVAL);
	CHECK_INT(cg_parse("system.slice/nginx.service", &ci), -EINVAL);
	CHECK_INT(cg_parse("0::/system.slice/nginx.service", &ci), -EINVAL);
	CHECK_INT(cg_parse("/", NULL), -EINVAL);

	/* an over-long unit name is truncated, NUL-terminated */
	char path[512];
	char name[300];
	memset(name, 'u', sizeof(name));
	memcpy(name + 200, ".service", sizeof(".service"));
	snprintf(path, sizeof(path), "/system.slice/%s", name);
	CHECK_INT(cg_parse(path, &ci), 0);
	CHECK_INT(strlen(ci.unit), sizeof(ci.unit) - 1);
	CHECK(strncmp(ci.unit, "uuuu", 4) == 0);

	CHECK_STR(cg_runtime_name(CG_HOST), "host");
	CHECK_STR(cg_runtime_name(CG_RUNC), "runc");
	CHECK_STR(cg_runtime_name(CG_DOCKER), "docker");
	CHECK_STR(cg_runtime_name(CG_CONTAINERD), "containerd");
	CHECK_STR(cg_runtime_name(CG_CRIO), "cri-o");
	CHECK_STR(cg_runtime_name(CG_PODMAN), "podman");
	CHECK_STR(cg_runtime_name((enum cg_runtime)99), "unknown");
}

int main(void)
{
	test_docker();
	test_containerd();
	test_crio();
	test_podman();
	test_runc();
	test_host();
	test_errors_and_limits();
	return h_finish("cgroup_path");
}
