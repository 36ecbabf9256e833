#!/usr/bin/env bash
# Install the Debian packages profshim needs to build and test, when missing.
set -euo pipefail
pkgs=(build-essential libunwind-dev libjemalloc-dev libcjson-dev bats libdw-dev libelf-dev
      zlib1g-dev libgoogle-perftools-dev python3 jq clang libclang-rt-14-dev
      xz-utils nginx curl sqlite3 perl libxml2-utils golang-go chromium redis-server redis-tools bc)
# Node.js and npm (browser tests) may come from outside Debian (NodeSource
# ships npm inside its nodejs package): only a machine without them gets
# Debian's.
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "profshim: installing missing packages: ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
