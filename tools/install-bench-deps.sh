#!/usr/bin/env bash
# Packages only `make bench` needs: the tools profshim is compared with.
set -euo pipefail
pkgs=(heaptrack lua5.4 uftrace google-perftools libgoogle-perftools-dev linux-perf valgrind hyperfine time curl redis-server redis-tools strace)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "profshim bench: installing ${missing[*]}"
SUDO=
[ "$(id -u)" != 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
