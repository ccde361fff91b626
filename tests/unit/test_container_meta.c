/* test_container_meta.c - container_meta_load against a temp tree mirroring
 * /run and /var/lib: runc, containerd (k8s annotations), cri-o, crun, docker,
 * plus missing, malformed, wrong-typed, non-regular and oversized files,
 * bad arguments and truncation; CRI-O pod labels from the pod's sandbox
 * (beside the bundle or through its state), their filtering, order and
 * whole-pair truncation. The tree is removed at the end. */
#include "enrich/container_meta.h"
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define ID "3f6a2b1c9d8e7f605142a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
#define ID2 "aa11bb22cc33dd44ee55ff6600778899aabbccddeeff00112233445566778899"
#define ID3 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* mkdir -p of every directory above root/rel. */
static void mkparents(const char *root, const char *rel)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (n < 0 || (size_t)n >= sizeof(path))
		return;
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
}

/* Write data (len bytes) to root/rel, creating parent dirs. */
static void put_n(const char *root, const char *rel, const char *data, size_t len)
{
	char path[PATH_MAX];
	mkparents(root, rel);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(fwrite(data, 1, len, f) == len);
	fclose(f);
}

static void put(const char *root, const char *rel, const char *data)
{
	put_n(root, rel, data, strlen(data));
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void test_runc(const char *root)
{
	struct container_meta m;
	put(root, "run/runc/myctr/state.json",
	    "{\"id\":\"myctr\",\"init_process_pid\":4242,\"config\":{\"rootfs\":\"/x\","
	    "\"labels\":[\"foo=bar\",\"bundle=/srv/bundles/myctr\"]}}");
	put(root, "srv/bundles/myctr/config.json",
	    "{\"ociVersion\":\"1.0.2\",\"annotations\":{\"vigil.image\":\"registry.local/tool:1.0\"}}");
	CHECK_INT(container_meta_load(root, CG_RUNC, "myctr", &m), 0);
	CHECK_STR(m.name, "myctr");
	CHECK_STR(m.image, "registry.local/tool:1.0");
	CHECK_STR(m.bundle, "/srv/bundles/myctr");
	CHECK_STR(m.pod_name, "");
	CHECK_STR(m.pod_namespace, "");
	CHECK_STR(m.pod_uid, "");

	/* state without a bundle label: found, name is the id */
	put(root, "run/runc/nolabel/state.json", "{\"config\":{\"labels\":[\"a=b\"]}}");
	CHECK_INT(container_meta_load(root, CG_RUNC, "nolabel", &m), 0);
	CHECK_STR(m.name, "nolabel");
	CHECK_STR(m.bundle, "");

	/* bundle whose config.json is gone: found, bundle recorded */
	put(root, "run/runc/gone/state.json",
	    "{\"config\":{\"labels\":[\"bundle=/srv/bundles/gone\"]}}");
	CHECK_INT(container_meta_load(root, CG_RUNC, "gone", &m), 0);
	CHECK_STR(m.bundle, "/srv/bundles/gone");
	CHECK_STR(m.image, "");

	/* relative bundle: ignored */
	put(root, "run/runc/rel/state.json", "{\"config\":{\"labels\":[\"bundle=srv/x\"]}}");
	CHECK_INT(container_meta_load(root, CG_RUNC, "rel", &m), 0);
	CHECK_STR(m.bundle, "");
}

static void test_containerd(const char *root)
{
	struct container_meta m;
	put(root, "run/containerd/runc/k8s.io/" ID "/state.json",
	    "{\"id\":\"" ID "\",\"config\":{\"labels\":[\"bundle=/run/containerd/"
	    "io.containerd.runtime.v2.task/k8s.io/" ID "\"]}}");
	put(root, "run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID "/config.json",
	    "{\"annotations\":{"
	    "\"io.kubernetes.cri.container-type\":\"container\","
	    "\"vigil.image\":\"ignored-vigil\","
	    "\"org.opencontainers.image.ref.name\":\"ignored-ref\","
	    "\"io.kubernetes.cri-o.ImageName\":\"ignored-crio\","
	    "\"io.kubernetes.cri.image-name\":\"docker.io/library/nginx:1.25\","
	    "\"io.kubernetes.container.name\":\"ignored-name\","
	    "\"io.kubernetes.cri.container-name\":\"web\","
	    "\"io.kubernetes.pod.name\":\"ignored-pod\","
	    "\"io.kubernetes.cri.sandbox-name\":\"web-7d4b9c-xk2lp\","
	    "\"io.kubernetes.pod.namespace\":\"ignored-ns\","
	    "\"io.kubernetes.cri.sandbox-namespace\":\"prod\","
	    "\"io.kubernetes.pod.uid\":\"ignored-uid\","
	    "\"io.kubernetes.cri.sandbox-uid\":\"1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9\"}}");
	CHECK_INT(container_meta_load(root, CG_CONTAINERD, ID, &m), 0);
	CHECK_STR(m.name, "web");
	CHECK_STR(m.image, "docker.io/library/nginx:1.25");
	CHECK_STR(m.pod_name, "web-7d4b9c-xk2lp");
	CHECK_STR(m.pod_namespace, "prod");
	CHECK_STR(m.pod_uid, "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9");
	CHECK_STR(m.bundle, "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID);
	CHECK_STR(m.labels, ""); /* containerd puts no pod labels in the spec */

	/* ctr's default namespace, found whatever runtime the cgroup suggested */
	put(root, "run/containerd/runc/default/redis/state.json",
	    "{\"config\":{\"labels\":[\"bundle=/b/redis\"]}}");
	CHECK_INT(container_meta_load(root, CG_RUNC, "redis", &m), 0);
	CHECK_STR(m.bundle, "/b/redis");
}

static void test_crio_crun(const char *root)
{
	struct container_meta m;
	/* cri-o runs runc with root /run/runc; only the io.kubernetes.* keys */
	put(root, "run/runc/" ID2 "/state.json",
	    "{\"config\":{\"labels\":[\"bundle=/var/run/containers/storage/overlay-containers/" ID2
	    "/userdata\"]}}");
	put(root, "var/run/containers/storage/overlay-containers/" ID2 "/userdata/config.json",
	    "{\"annotations\":{"
	    "\"io.kubernetes.cri-o.ImageName\":\"quay.io/app/api:v2\","
	    "\"org.opencontainers.image.ref.name\":\"ignored\","
	    "\"io.kubernetes.container.name\":\"api\","
	    "\"io.kubernetes.pod.name\":\"api-0\","
	    "\"io.kubernetes.pod.namespace\":\"backend\","
	    "\"io.kubernetes.pod.uid\":\"9a8b7c6d-0000-4111-8222-333344445555\"}}");
	CHECK_INT(container_meta_load(root, CG_CRIO, ID2, &m), 0);
	CHECK_STR(m.name, "api");
	CHECK_STR(m.image, "quay.io/app/api:v2");
	CHECK_STR(m.pod_name, "api-0");
	CHECK_STR(m.pod_namespace, "backend");
	CHECK_STR(m.pod_uid, "9a8b7c6d-0000-4111-8222-333344445555");

	/* crun: top-level "bundle" in /run/crun/<id>/status */
	put(root, "run/crun/" ID3 "/status",
	    "{\"pid\":77,\"bundle\":\"/b/crun1\",\"rootfs\":\"/b/crun1/rootfs\","
	    "\"systemd-cgroup\":\"\"}");
	put(root, "b/crun1/config.json",
	    "{\"annotations\":{\"org.opencontainers.image.ref.name\":\"alpine:3.19\","
	    "\"vigil.image\":\"ignored\"}}");
	CHECK_INT(container_meta_load(root, CG_PODMAN, ID3, &m), 0);
	CHECK_STR(m.name, ID3);
	CHECK_STR(m.image, "alpine:3.19");
	CHECK_STR(m.bundle, "/b/crun1");
}

#define CRIO_DIR "var/run/containers/storage/overlay-containers/"
#define CRIO_BUNDLE "/" CRIO_DIR

/* A CRI-O container: runc state -> bundle .../<id>/userdata -> config.json
 * with annotations ann (a JSON object's members). */
static void crio_ctr(const char *root, const char *id, const char *bundle, const char *ann)
{
	char rel[PATH_MAX], text[8192];
	snprintf(rel, sizeof(rel), "run/runc/%s/state.json", id);
	snprintf(text, sizeof(text), "{\"config\":{\"labels\":[\"bundle=%s\"]}}", bundle);
	put(root, rel, text);
	snprintf(rel, sizeof(rel), "%s/config.json", bundle + 1);
	snprintf(text, sizeof(text), "{\"annotations\":{%s}}", ann);
	put(root, rel, text);
}

static void test_crio_labels(const char *root)
{
	struct container_meta m;
	char ann[8192], want[1024];

	/* the pod's sandbox: its own Labels are the pod's (kubelet's keys
	 * and the infra container's name left out) */
	crio_ctr(root, "criosb1", CRIO_BUNDLE "criosb1/userdata",
		 "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
		 "\"io.kubernetes.cri-o.SandboxID\":\"criosb1\","
		 "\"io.kubernetes.cri-o.Labels\":\"{\\\"tier\\\":\\\"frontend\\\","
		 "\\\"io.kubernetes.pod.name\\\":\\\"web-0\\\",\\\"app\\\":\\\"web\\\","
		 "\\\"io.kubernetes.pod.namespace\\\":\\\"prod\\\","
		 "\\\"io.kubernetes.pod.uid\\\":\\\"u-1\\\","
		 "\\\"io.kubernetes.container.name\\\":\\\"POD\\\","
		 "\\\"app.kubernetes.io/name\\\":\\\"shop\\\","
		 "\\\"pod-template-hash\\\":\\\"7d4b9c\\\"}\"");
	CHECK_INT(container_meta_load(root, CG_CRIO, "criosb1", &m), 0);
	CHECK_STR(m.labels, "app=web,app.kubernetes.io/name=shop,pod-template-hash=7d4b9c,"
			    "tier=frontend");

	/* a workload container: its own Labels are kubelet's only; the pod's
	 * come from the sandbox's config.json beside its bundle */
	crio_ctr(root, "crioctr1", CRIO_BUNDLE "crioctr1/userdata",
		 "\"io.kubernetes.cri-o.ContainerType\":\"container\","
		 "\"io.kubernetes.cri-o.SandboxID\":\"criosb1\","
		 "\"io.kubernetes.container.name\":\"web\","
		 "\"io.kubernetes.cri-o.Labels\":\"{\\\"io.kubernetes.container.name\\\":"
		 "\\\"web\\\",\\\"io.kubernetes.pod.name\\\":\\\"web-0\\\"}\"");
	CHECK_INT(container_meta_load(root, CG_CRIO, "crioctr1", &m), 0);
	CHECK_STR(m.name, "web");
	CHECK_STR(m.labels, "app=web,app.kubernetes.io/name=shop,pod-template-hash=7d4b9c,"
			    "tier=frontend");

	/* no infra container (no sandbox state): beside the bundle still works */
	put(root, CRIO_DIR "criosb2/userdata/config.json",
	    "{\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
	    "\"io.kubernetes.cri-o.Labels\":\"{\\\"app\\\":\\\"api\\\"}\"}}");
	crio_ctr(root, "crioctr2", CRIO_BUNDLE "crioctr2/userdata",
		 "\"io.kubernetes.cri-o.SandboxID\":\"criosb2\","
		 "\"io.kubernetes.cri-o.Labels\":\"{}\"");
	CHECK_INT(container_meta_load(root, CG_CRIO, "crioctr2", &m), 0);
	CHECK_STR(m.labels, "app=api");

	/* a bundle elsewhere: the sandbox is found through its runtime state */
	crio_ctr(root, "criosb3", "/b/sb3",
		 "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
		 "\"io.kubernetes.cri-o.Labels\":\"{\\\"team\\\":\\\"db\\\"}\"");
	crio_ctr(root, "crioctr3", "/b/odd-layout",
		 "\"io.kubernetes.cri-o.SandboxID\":\"criosb3\"");
	CHECK_INT(container_meta_load(root, CG_CRIO, "crioctr3", &m), 0);
	CHECK_STR(m.labels, "team=db");

	/* sandbox gone, sandbox id not a safe name, "sandbox" that is another
	 * workload container: no labels, the rest still loads */
	crio_ctr(root, "crioctr4", CRIO_BUNDLE "crioctr4/userdata",
		 "\"io.kubernetes.cri-o.SandboxID\":\"criogone\","
		 "\"io.kubernetes.cri-o.ImageName\":\"quay.io/x:1\"");
	CHECK_INT(container_meta_load(root, CG_CRIO, "crioctr4", &m), 0);
	CHECK_STR(m.image, "quay.io/x:1");
	CHECK_STR(m.labels, "");
	crio_ctr(root, "crioctr5", CRIO_BUNDLE "crioctr5/userdata",
		 "\"io.kubernetes.cri-o.SandboxID\":\"../criosb1\"");
	CHECK_INT(container_meta_load(root, CG_CRIO, "crioctr5", &m), 0);
	CHECK_STR(m.labels, "");
	crio_ctr(root, "crioctr6", CRIO_BUNDLE "crioctr6/userdata",
		 "\"io.kubernetes.cri-o.SandboxID\":\"crioctr1\"");
	CHECK_INT(container_meta_load(root, CG_CRIO, "crioctr6", &m), 0);
	CHECK_STR(m.labels, "");

	/* unusable Labels: not JSON, not an object, not a string */
	crio_ctr(root, "criobad1", CRIO_BUNDLE "criobad1/userdata",
		 "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
		 "\"io.kubernetes.cri-o.Labels\":\"{\\\"app\\\":\"");
	CHECK_INT(container_meta_load(root, CG_CRIO, "criobad1", &m), 0);
	CHECK_STR(m.labels, "");
	crio_ctr(root, "criobad2", CRIO_BUNDLE "criobad2/userdata",
		 "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
		 "\"io.kubernetes.cri-o.Labels\":\"[\\\"app=web\\\"]\"");
	CHECK_INT(container_meta_load(root, CG_CRIO, "criobad2", &m), 0);
	CHECK_STR(m.labels, "");
	crio_ctr(root, "criobad3", CRIO_BUNDLE "criobad3/userdata",
		 "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
		 "\"io.kubernetes.cri-o.Labels\":{\"app\":\"web\"}");
	CHECK_INT(container_meta_load(root, CG_CRIO, "criobad3", &m), 0);
	CHECK_STR(m.labels, "");

	/* pairs that cannot stand in "k=v,k=v" are skipped, the rest kept */
	crio_ctr(root, "criobad4", CRIO_BUNDLE "criobad4/userdata",
		 "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
		 "\"io.kubernetes.cri-o.Labels\":\"{\\\"a,b\\\":\\\"1\\\","
		 "\\\"c=d\\\":\\\"2\\\",\\\"e\\\":\\\"3,4\\\",\\\"\\\":\\\"5\\\","
		 "\\\"n\\\":6,\\\"o\\\":null,\\\"t\\\":\\\"x\\\\ty\\\","
		 "\\\"empty\\\":\\\"\\\",\\\"ok\\\":\\\"yes=really\\\"}\"");
	CHECK_INT(container_meta_load(root, CG_CRIO, "criobad4", &m), 0);
	CHECK_STR(m.labels, "empty=,ok=yes=really");

	/* whole pairs only: one too long for what is left is skipped, later
	 * shorter ones still fit; sorted by key; never past the field */
	int n = snprintf(ann, sizeof(ann),
			 "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
			 "\"io.kubernetes.cri-o.Labels\":\"{");
	for (int i = 0; i < 20; i++)
		n += snprintf(ann + n, sizeof(ann) - n, "\\\"k%02d\\\":\\\"%020d\\\",", i, i);
	n += snprintf(ann + n, sizeof(ann) - n, "\\\"k05x\\\":\\\"%0400d\\\"}\"", 5);
	crio_ctr(root, "criomany", CRIO_BUNDLE "criomany/userdata", ann);
	CHECK_INT(container_meta_load(root, CG_CRIO, "criomany", &m), 0);
	n = 0;
	for (int i = 0; i < 20; i++) {
		char pair[64];
		snprintf(pair, sizeof(pair), "%sk%02d=%020d", i ? "," : "", i, i);
		if (n + strlen(pair) + 1 > sizeof(m.labels))
			break;
		n += snprintf(want + n, sizeof(want) - n, "%s", pair);
	}
	CHECK_STR(m.labels, want);
	CHECK(strlen(m.labels) < sizeof(m.labels));
	CHECK(strstr(m.labels, "k05x") == NULL);
	CHECK(strstr(m.labels, "k19=") != NULL); /* 20 x 25 bytes fit in 511 */

	/* runc and docker containers carry no pod labels */
	CHECK_INT(container_meta_load(root, CG_RUNC, "myctr", &m), 0);
	CHECK_STR(m.labels, "");
}

static void test_docker(const char *root)
{
	struct container_meta m;
	put(root, "var/lib/docker/containers/" ID "/config.v2.json",
	    "{\"ID\":\"" ID "\",\"Name\":\"/web\",\"Image\":\"sha256:abcd\","
	    "\"Config\":{\"Image\":\"nginx:1.25\",\"Hostname\":\"3f6a2b1c9d8e\"}}");
	put(root, "run/docker/runtime-runc/moby/" ID "/state.json",
	    "{\"config\":{\"labels\":[\"bundle=/run/containerd/io.containerd.runtime.v2.task/moby/" ID
	    "\"]}}");
	put(root, "run/containerd/io.containerd.runtime.v2.task/moby/" ID "/config.json",
	    "{\"annotations\":{\"org.opencontainers.image.ref.name\":\"not-this\"}}");
	CHECK_INT(container_meta_load(root, CG_DOCKER, ID, &m), 0);
	CHECK_STR(m.name, "web");
	CHECK_STR(m.image, "nginx:1.25");
	CHECK_STR(m.bundle, "/run/containerd/io.containerd.runtime.v2.task/moby/" ID);

	/* config.v2.json alone (runtime state gone) is enough */
	put(root, "var/lib/docker/containers/" ID2 "b/config.v2.json",
	    "{\"Name\":\"db\",\"Config\":{\"Image\":\"postgres:16\"}}");
	CHECK_INT(container_meta_load(root, CG_DOCKER, ID2 "b", &m), -EINVAL); /* 65 chars */
	put(root, "var/lib/docker/containers/" ID3 "/config.v2.json",
	    "{\"Name\":\"db\",\"Config\":{\"Image\":\"postgres:16\"}}");
	CHECK_INT(container_meta_load(root, CG_DOCKER, ID3, &m), 0);
	CHECK_STR(m.name, "db");
	CHECK_STR(m.image, "postgres:16");

	/* wrong types in config.v2.json: fields absent, name falls back to id */
	put(root, "var/lib/docker/containers/dockwrong/config.v2.json",
	    "{\"Name\":42,\"Config\":\"nginx\"}");
	CHECK_INT(container_meta_load(root, CG_DOCKER, "dockwrong", &m), 0);
	CHECK_STR(m.name, "dockwrong");
	CHECK_STR(m.image, "");

	put(root, "var/lib/docker/containers/dockbad/config.v2.json", "{\"Name\":");
	CHECK_INT(container_meta_load(root, CG_DOCKER, "dockbad", &m), -EBADMSG);
}

static void test_missing_and_malformed(const char *root)
{
	struct container_meta m;
	CHECK_INT(container_meta_load(root, CG_CONTAINERD, "nosuch", &m), -ENOENT);
	CHECK_INT(container_meta_load(root, CG_DOCKER, "nosuch", &m), -ENOENT);
	CHECK_INT(container_meta_load(NULL, CG_RUNC, "vigil-test-no-such-ctr-9f3a", &m), -ENOENT);

	put(root, "run/runc/garbage/state.json", "not json {");
	CHECK_INT(container_meta_load(root, CG_RUNC, "garbage", &m), -EBADMSG);
	put(root, "run/runc/array/state.json", "[1,2,3]");
	CHECK_INT(container_meta_load(root, CG_RUNC, "array", &m), -EBADMSG);
	put(root, "run/runc/empty/state.json", "");
	CHECK_INT(container_meta_load(root, CG_RUNC, "empty", &m), -EBADMSG);
	put_n(root, "run/runc/nul/state.json", "{\"a\":\"b\0c\"}", 12);
	CHECK_INT(container_meta_load(root, CG_RUNC, "nul", &m), -EBADMSG);

	/* wrong types: labels a string, then odd array members */
	put(root, "run/runc/labelstr/state.json", "{\"config\":{\"labels\":\"bundle=/b/x\"}}");
	CHECK_INT(container_meta_load(root, CG_RUNC, "labelstr", &m), 0);
	CHECK_STR(m.bundle, "");
	put(root, "run/runc/labelmix/state.json",
	    "{\"config\":{\"labels\":[1,null,{\"bundle\":\"/x\"},[],\"bundle=/b/mix\"]}}");
	put(root, "b/mix/config.json",
	    "{\"annotations\":{\"io.kubernetes.cri.image-name\":5,"
	    "\"io.kubernetes.cri-o.ImageName\":\"fallback:1\","
	    "\"io.kubernetes.cri.container-name\":[\"x\"],"
	    "\"io.kubernetes.pod.name\":null}}");
	CHECK_INT(container_meta_load(root, CG_RUNC, "labelmix", &m), 0);
	CHECK_STR(m.bundle, "/b/mix");
	CHECK_STR(m.image, "fallback:1");
	CHECK_STR(m.name, "labelmix");
	CHECK_STR(m.pod_name, "");
	put(root, "run/crun/crunint/status", "{\"bundle\":17}");
	CHECK_INT(container_meta_load(root, CG_PODMAN, "crunint", &m), 0);
	CHECK_STR(m.bundle, "");
	put(root, "run/runc/annarr/state.json", "{\"config\":{\"labels\":[\"bundle=/b/annarr\"]}}");
	put(root, "b/annarr/config.json", "{\"annotations\":[\"vigil.image\"]}");
	CHECK_INT(container_meta_load(root, CG_RUNC, "annarr", &m), 0);
	CHECK_STR(m.image, "");

	/* malformed bundle config.json is an error; out is zeroed */
	put(root, "run/runc/badcfg/state.json", "{\"config\":{\"labels\":[\"bundle=/b/badcfg\"]}}");
	put(root, "b/badcfg/config.json", "{\"annotations\":{");
	memset(&m, 'x', sizeof(m));
	CHECK_INT(container_meta_load(root, CG_RUNC, "badcfg", &m), -EBADMSG);
	CHECK_STR(m.bundle, "");
	CHECK_STR(m.name, "");

	/* a broken location does not hide a good one further on */
	put(root, "run/runc/split/state.json", "}{");
	put(root, "run/containerd/runc/k8s.io/split/state.json", "{}");
	CHECK_INT(container_meta_load(root, CG_RUNC, "split", &m), 0);
	CHECK_STR(m.name, "split");

	/* non-regular state files: a directory, a FIFO (must not block) */
	char path[PATH_MAX];
	mkparents(root, "run/runc/dir/state.json/x");
	CHECK_INT(container_meta_load(root, CG_RUNC, "dir", &m), -EINVAL);
	mkparents(root, "run/runc/fifo/state.json");
	snprintf(path, sizeof(path), "%s/run/runc/fifo/state.json", root);
	CHECK_INT(mkfifo(path, 0600), 0);
	CHECK_INT(container_meta_load(root, CG_RUNC, "fifo", &m), -EINVAL);

	/* size cap: just under it parses, just over it is -EFBIG */
	size_t big = CONTAINER_META_MAX_FILE;
	char *buf = malloc(big + 16);
	CHECK(buf != NULL);
	if (buf) {
		memset(buf, ' ', big + 16);
		memcpy(buf, "{\"bundle\":\"/b/big\"", 18);
		buf[big - 1] = '}';
		put_n(root, "run/crun/bigok/status", buf, big);
		CHECK_INT(container_meta_load(root, CG_PODMAN, "bigok", &m), 0);
		CHECK_STR(m.bundle, "/b/big");
		buf[big - 1] = ' ';
		buf[big] = '}';
		put_n(root, "run/crun/bigbad/status", buf, big + 1);
		CHECK_INT(container_meta_load(root, CG_PODMAN, "bigbad", &m), -EFBIG);
		free(buf);
	}
}

static void test_args_and_truncation(const char *root)
{
	struct container_meta m;
	memset(&m, 'x', sizeof(m));
	CHECK_INT(container_meta_load(root, CG_RUNC, NULL, &m), -EINVAL);
	CHECK_STR(m.name, "");
	CHECK_INT(container_meta_load(root, CG_RUNC, "myctr", NULL), -EINVAL);
	CHECK_INT(container_meta_load(root, CG_RUNC, "", &m), -EINVAL);
	CHECK_INT(container_meta_load(root, CG_RUNC, ".", &m), -EINVAL);
	CHECK_INT(container_meta_load(root, CG_RUNC, "..", &m), -EINVAL);
	CHECK_INT(container_meta_load(root, CG_RUNC, "../runc/myctr", &m), -EINVAL);
	CHECK_INT(container_meta_load(root, CG_RUNC, "a b", &m), -EINVAL);
	CHECK_INT(container_meta_load(root, CG_RUNC, ID "0", &m), -EINVAL);
	CHECK_INT(container_meta_load(root, CG_HOST, "myctr", &m), -EINVAL);
	CHECK_INT(container_meta_load(root, (enum cg_runtime)99, "myctr", &m), -EINVAL);

	char longp[PATH_MAX + 8];
	memset(longp, 'p', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	CHECK_INT(container_meta_load(longp, CG_RUNC, "myctr", &m), -ENAMETOOLONG);

	/* long values truncate; a 2-byte UTF-8 char is never split */
	char ann[2048], img[600], name[201];
	memset(img, 'i', sizeof(img) - 1);
	img[sizeof(img) - 1] = '\0';
	for (size_t i = 0; i + 1 < sizeof(name); i += 2)
		memcpy(name + i, "\xc3\xa9", 2); /* e-acute x 100 */
	name[200] = '\0';
	snprintf(ann, sizeof(ann),
		 "{\"annotations\":{\"io.kubernetes.cri.image-name\":\"%s\","
		 "\"io.kubernetes.cri.container-name\":\"%s\"}}",
		 img, name);
	put(root, "run/runc/long/state.json", "{\"config\":{\"labels\":[\"bundle=/b/long\"]}}");
	put(root, "b/long/config.json", ann);
	CHECK_INT(container_meta_load(root, CG_RUNC, "long", &m), 0);
	CHECK_INT(strlen(m.image), sizeof(m.image) - 1);
	CHECK_INT(strlen(m.name), 126);
	CHECK(strncmp(m.name, name, 126) == 0);
}

int main(void)
{
	char tmpl[] = "/tmp/vigil-meta-XXXXXX";
	char *root = mkdtemp(tmpl);
	CHECK(root != NULL);
	if (!root)
		return h_finish("container_meta");
	test_runc(root);
	test_containerd(root);
	test_crio_crun(root);
	test_crio_labels(root);
	test_docker(root);
	test_missing_and_malformed(root);
	test_args_and_truncation(root);
	CHECK_INT(nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	CHECK(access(root, F_OK) != 0);
	return h_finish("container_meta");
}
