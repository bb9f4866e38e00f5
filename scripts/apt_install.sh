#!/usr/bin/env bash
# Install Debian packages for a make target: as root, or with sudo that needs no password;
# otherwise stop at once and print the exact command to run.
# Usage: scripts/apt_install.sh "<what needs them>" PACKAGE...
set -euo pipefail
need="$1"; shift
if [ "$(id -u)" -eq 0 ]; then SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"
else
    echo "$need needs Debian packages. Run:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends $*" >&2
    exit 1
fi
echo "$need: installing $* with apt-get"
$SUDO apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
