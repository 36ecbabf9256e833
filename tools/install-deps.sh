#!/usr/bin/env bash
# Install the Debian packages profshim needs to build and test, when missing.
set -euo pipefail
pkgs=(build-essential libunwind-dev libjemalloc-dev libcjson-dev bats libdw-dev libelf-dev
      zlib1g-dev libzstd-dev libgoogle-perftools-dev python3 jq clang libclang-rt-14-dev
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
if [ ${#missing[@]} -ne 0 ]; then
	echo "profshim: installing missing packages: ${missing[*]}"
	if [ "$(id -u)" != 0 ]; then
		SUDO=sudo
	else
		SUDO=
	fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The browser checks of the suite (tests/viewers.bats) drive chromium with
# puppeteer-core and load speedscope, both from npm, into tests/browser/.
# Debian's nodejs comes without npm (other builds of nodejs bundle it).
if ! command -v npm >/dev/null; then
	[ "$(id -u)" != 0 ] && SUDO=sudo || SUDO=
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm
fi
if [ ! -d "$(dirname "$0")/../tests/browser/node_modules/puppeteer-core" ]; then
	bash "$(dirname "$0")/../tests/browser/setup.sh" || echo "profshim: npm packages for the browser checks not installed"
fi
