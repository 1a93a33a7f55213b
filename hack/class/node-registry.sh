#!/usr/bin/env bash
# node-registry.sh REGISTRY NODE...: tell the containerd of kind node
# containers to pull REGISTRY (host:port) over plain HTTP, as a class
# cluster's admin does for an in-house registry without TLS; then restart
# containerd (running containers keep running) and wait for it.
set -euo pipefail
reg=$1
shift
for node in "$@"; do
  docker exec -i "$node" sh -c 'cat >>/etc/containerd/config.toml && systemctl restart containerd' <<TOML

[plugins."io.containerd.grpc.v1.cri".registry.mirrors."$reg"]
  endpoint = ["http://$reg"]
TOML
done
for node in "$@"; do
  for _ in $(seq 60); do
    docker exec "$node" crictl info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker exec "$node" crictl info >/dev/null
done
