#!/usr/bin/env bash
# Idempotent set-up for a development machine or CI (Debian 12):
# installs the Debian packages the tests and the simulation need when they are
# missing, then `npm ci` and the build. Runs as root here; elsewhere uses sudo.
# On a Raspberry Pi use scripts/install-pi.sh instead.
set -euo pipefail
cd "$(dirname "$0")/.."

# mosquitto: MQTT tests · pcscd + vsmartcard-vpcd: NFC tests on a virtual reader
# libpcsclite-dev: builds @pokusew/pcsclite · socat: serial pty tests
# chromium (+ a CJK font for zh-CN screenshots): admin page end-to-end tests
# build-essential/python3: native addons · systemd: systemd-notify and systemd-analyze for the service tests
# postgresql: the collector's PostgreSQL store tests and bench:fleet (each starts its own server in a temp dir)
# openssl: the admin page's self-signed certificate in the HTTPS end-to-end test (as install-pi.sh makes it)
PACKAGES=(mosquitto pcscd vsmartcard-vpcd libpcsclite-dev socat chromium fonts-wqy-microhei build-essential python3 systemd openssl postgresql)
# The GPIO rig (tests/drivers/gpio/cdev-rig.test.ts, scripts/gpio-rig/): Debian's
# 6.1 kernel under QEMU with gpio-sim built out of tree. linux-headers-amd64
# resolves the current 6.1 ABI (the security archive moves to new numbers).
if [ "$(uname -m)" = x86_64 ]; then
  PACKAGES+=(qemu-system-x86 busybox-static linux-source-6.1 linux-headers-amd64 cpio xz-utils)
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: Debian packages present"
fi

# Debian starts these as services where systemd runs; the tests start their
# own on loopback and must find the pcscd socket free.
for svc in pcscd.socket pcscd.service; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    echo "setup: note: $svc is active; the NFC tests start their own pcscd and need it stopped"
  fi
done

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node $node_major is too old: need Node 20 (dev/CI) or 22/24 LTS (Pi)" >&2
  exit 1
fi

echo "setup: npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "setup: build"
npm run build --silent
if [ "$(uname -m)" = x86_64 ]; then
  echo "setup: GPIO rig (kernel, gpio-sim.ko, initramfs; cached)"
  bash scripts/gpio-rig/build.sh
fi
echo "setup: done"
