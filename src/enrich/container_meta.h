/* container_meta.h - look up a container's name, image, pod and OCI bundle
 * from its runtime's on-disk state (runc/crun state, the bundle's
 * config.json annotations, docker's config.v2.json). */
#ifndef VIGIL_ENRICH_CONTAINER_META_H
#define VIGIL_ENRICH_CONTAINER_META_H

#include "enrich/cgroup_path.h"

#define CONTAINER_META_LABELS_MAX 512

struct container_meta {
	char name[128];  /* k8s: container-name annotation; docker: Name without
			  * its leading '/'; otherwise the id */
	char image[256]; /* image name, "" if unknown */
	char pod_name[128], pod_namespace[128], pod_uid[64]; /* "" outside k8s */
	char bundle[256]; /* OCI bundle dir as recorded in the state, "" if unknown */
	/* Pod labels, "k=v,k=v" sorted by key, "" if unknown (see below).
	 * Always the LAST field: struct side_container (enrich.h) embeds this
	 * struct in recordings, and older frames end where labels begins. */
	char labels[CONTAINER_META_LABELS_MAX];
};

/* Largest state/config file read; larger ones fail with -EFBIG. */
#define CONTAINER_META_MAX_FILE (4u << 20)

/*
 * container_meta_load - fill *out with the metadata of container id run by rt.
 *
 * root_prefix is prepended to every path read: "" (or NULL) on a live
 * system; tests pass a directory mirroring /run and /var/lib. The bundle path
 * found in the state is prefixed too when root_prefix is non-empty.
 *
 * State files tried, the runtime's usual ones first (ids are unique, so the
 * order only matters for hand-named runc containers):
 *   /run/runc/<id>/state.json                    runc, cri-o, podman
 *   /run/crun/<id>/status                        crun (podman, cri-o)
 *   /run/containerd/runc/k8s.io/<id>/state.json  containerd (CRI)
 *   /run/containerd/runc/default/<id>/state.json containerd (ctr)
 *   /run/docker/runtime-runc/moby/<id>/state.json docker
 * runc state: the "bundle=<dir>" entry of config.labels; crun status: the
 * top-level "bundle". Then <bundle>/config.json's "annotations" fill, each
 * from the first key present (the CRI keys are preferred):
 *   image     io.kubernetes.cri.image-name, io.kubernetes.cri-o.ImageName,
 *             org.opencontainers.image.ref.name, then vigil.image
 *   name      io.kubernetes.cri.container-name, io.kubernetes.container.name
 *   pod_name  io.kubernetes.cri.sandbox-name, io.kubernetes.pod.name
 *   pod_namespace io.kubernetes.cri.sandbox-namespace, io.kubernetes.pod.namespace
 *   pod_uid   io.kubernetes.cri.sandbox-uid, io.kubernetes.pod.uid
 * labels (Kubernetes pod labels) come from CRI-O only: its annotation
 *   io.kubernetes.cri-o.Labels is a JSON object (as a string). On a pod's
 *   sandbox it holds the pod's labels; on a workload container only the
 *   labels kubelet gives containers (pod name, namespace, uid, container
 *   name), so for those the sandbox's config.json is read, found by the
 *   io.kubernetes.cri-o.SandboxID annotation: first beside the container's
 *   bundle (<...>/<id>/userdata -> <...>/<sandbox id>/userdata, where CRI-O
 *   writes it even when it runs no infra container), then through the
 *   sandbox's runtime state like any container. containerd's CRI keeps pod
 *   labels in its own metadata database and puts none in the OCI config
 *   (its annotations name the sandbox, namespace and uid only), so under
 *   containerd, docker and podman labels stay "". The keys kubelet adds
 *   itself (io.kubernetes.pod.name, .namespace, .uid and
 *   io.kubernetes.container.name) are left out: other fields hold them.
 *   Pairs are kept whole or not at all: one that does not fit in what is
 *   left of the field, or whose key or value holds ',' or a control
 *   character (or whose key holds '=' or is empty), or whose value is not a
 *   string, is skipped. A sandbox that cannot be found or read only leaves
 *   labels "" (it is not an error).
 * For CG_DOCKER, /var/lib/docker/containers/<id>/config.v2.json is read
 * first: .Name (leading '/' stripped) and .Config.Image take precedence over
 * annotations; docker counts as found when either file exists. A name still
 * empty at the end becomes the id. A state without a usable bundle, or whose
 * bundle has no config.json any more, still succeeds with what is known.
 *
 * Strings are copied verbatim (never containing NUL) and truncated to their
 * field at a UTF-8 character boundary. Fields of the wrong JSON type are
 * treated as absent.
 *
 * Returns 0 when state was found; -ENOENT when no state file exists (not
 * created yet, or already gone); -EINVAL for a NULL out/id, an id that is
 * not [A-Za-z0-9_.-]{1,64} (or is "." or ".."), or rt CG_HOST / out of
 * range; -EBADMSG for a file that is not JSON or whose top level is not an
 * object; -EFBIG for a file over CONTAINER_META_MAX_FILE; -EINVAL for a
 * state path that is not a regular file; -ENAMETOOLONG when a path does not
 * fit PATH_MAX; another -errno from open/read. An error at one state
 * location does not stop the search: the first one is returned only when no
 * other location has the state. Errors from the bundle's config.json or
 * docker's config.v2.json are returned as they are. On any failure *out is
 * zeroed.
 */
int container_meta_load(const char *root_prefix, enum cg_runtime rt, const char *id,
			struct container_meta *out);

#endif
