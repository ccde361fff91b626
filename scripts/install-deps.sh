#!/bin/sh
# Installs what Vigil needs to build and test on Debian 12 (run as root).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
	libjansson-dev libsqlite3-dev libyaml-dev libcurl4-openssl-dev \
	sqlite3 pkg-config rsyslog \
	runc busybox-static util-linux iproute2 procps \
	python3 python3-pytest >/dev/null
echo "install-deps: done"
