#!/usr/bin/env bash
# Installs the Debian packages Wirecheck builds against, when they are missing.
# Needs root (or sudo) only when something has to be installed.
set -euo pipefail

packages=(libpcap-dev libssl-dev libsqlite3-dev libevtx-dev ieee-data pkg-config)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || { echo "swift not found: install Swift 6.3 from swift.org and put it on PATH" >&2; exit 1; }
