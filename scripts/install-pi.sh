#!/usr/bin/env bash
# Install gate-controller on a Raspberry Pi: Raspberry Pi OS (64-bit) Bookworm or Trixie.
#
#   scripts/install-pi.sh [--dry-run] [--source DIR]
#
# Run it from a checkout ON the Pi: dependencies are installed there with
# `npm ci`, because a lockfile made on x64 can omit sharp's arm64 packages
# (npm/cli#4828), so node_modules is never copied from another machine.
# --dry-run prints every action and changes nothing. Uses sudo when not root.
# Re-running it upgrades the code and keeps /etc/gate-controller/config.yaml.
set -euo pipefail

APP_USER=gate
APP_DIR=/opt/gate-controller
CONF_DIR=/etc/gate-controller
CONF_FILE=$CONF_DIR/config.yaml
DATA_DIR=/var/lib/gate-controller
TLS_CERT=$CONF_DIR/admin-tls.crt
TLS_KEY=$CONF_DIR/admin-tls.key
UNIT=gate-controller.service
UNIT_DIR=/etc/systemd/system
UDEV_RULE=/etc/udev/rules.d/99-gate-controller.rules
MODPROBE_CONF=/etc/modprobe.d/gate-controller-nfc-blacklist.conf
PCSC_POLICY=/usr/share/polkit-1/actions/org.debian.pcsc-lite.policy
POLKIT_RULE=/etc/polkit-1/rules.d/60-gate-controller-pcscd.rules
APT_PACKAGES=(pcscd libpcsclite-dev pcsc-tools build-essential python3 rsync openssl ca-certificates)

DRY_RUN=0
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'USAGE'
usage: install-pi.sh [--dry-run] [--source DIR]
  --dry-run     print every action, change nothing
  --source DIR  the gate-controller checkout to install (default: this script's repository)
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --source) SRC="$(cd "$2" && pwd)"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install-pi: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  SUDO=(sudo)
  if [ "$DRY_RUN" -eq 0 ] && ! command -v sudo >/dev/null; then
    echo "install-pi: not root and sudo is missing: run as root" >&2
    exit 1
  fi
fi

say() { printf '==> %s\n' "$*"; }
die() { printf 'install-pi: %s\n' "$*" >&2; exit 1; }

# Every change goes through run/run_in/write_file: in a dry run they print
# the command ("+ ...") instead of running it.
run() {
  if [ "$DRY_RUN" -eq 1 ]; then printf '+ %s\n' "${SUDO[*]:+${SUDO[*]} }$*"; else "${SUDO[@]}" "$@"; fi
}
run_in() {
  local dir=$1; shift
  if [ "$DRY_RUN" -eq 1 ]; then printf '+ (cd %s && %s)\n' "$dir" "${SUDO[*]:+${SUDO[*]} }$*"; else (cd "$dir" && "${SUDO[@]}" "$@"); fi
}
# write_file PATH MODE < content
write_file() {
  local path=$1 mode=$2 content
  content="$(cat)"
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '+ write %s (mode %s):\n' "$path" "$mode"
    while IFS= read -r line; do printf '|   %s\n' "$line"; done <<<"$content"
  else
    printf '%s\n' "$content" | "${SUDO[@]}" install -D -m "$mode" /dev/stdin "$path"
  fi
}

[ "$DRY_RUN" -eq 1 ] && say "DRY RUN: nothing will be changed"
[ -f "$SRC/package.json" ] && [ -f "$SRC/package-lock.json" ] || die "$SRC is not a gate-controller checkout (package.json and package-lock.json needed)"

# --- 1. The system -------------------------------------------------------------
# GATE_OS_RELEASE: another os-release file (tests only).
OS_RELEASE="${GATE_OS_RELEASE:-/etc/os-release}"
[ -r "$OS_RELEASE" ] || die "cannot read $OS_RELEASE: is this Raspberry Pi OS?"
# shellcheck disable=SC1090
. "$OS_RELEASE"
case "${VERSION_CODENAME:-}" in
  bookworm | trixie) say "system: ${PRETTY_NAME:-$VERSION_CODENAME}" ;;
  *) die "this is ${PRETTY_NAME:-an unknown system} (${VERSION_CODENAME:-no codename}): the installer supports Raspberry Pi OS (64-bit) Bookworm (12) and Trixie (13)" ;;
esac
ARCH="$(dpkg --print-architecture 2>/dev/null || echo unknown)"
case "$ARCH" in
  arm64 | amd64) ;;
  armhf | armel | i386)
    die "this is a 32-bit OS ($ARCH): the SQLite driver the Pi's Node 22/24 needs ships no 32-bit ARM build and Node's own 32-bit support is fading. Install Raspberry Pi OS (64-bit) — any Pi 3, 4, 5 or Zero 2 W runs it — then re-run." ;;
  *) die "unsupported architecture '$ARCH': use Raspberry Pi OS (64-bit)" ;;
esac

# --- 2. Node.js 22 or 24 LTS -----------------------------------------------------
NODE_BIN="$(command -v node || true)"
[ -n "$NODE_BIN" ] || die "Node.js is not installed. Install Node 22 or 24 LTS first (e.g. from NodeSource: https://github.com/nodesource/distributions), then re-run."
NODE_VERSION="$("$NODE_BIN" --version)"
NODE_MAJOR="${NODE_VERSION#v}"; NODE_MAJOR="${NODE_MAJOR%%.*}"
case "$NODE_MAJOR" in
  22 | 24) say "Node.js $NODE_VERSION at $NODE_BIN" ;;
  *[!0-9]* | '') die "cannot read the Node.js version from '$NODE_VERSION'" ;;
  *)
    if [ "$NODE_MAJOR" -lt 22 ]; then
      die "Node.js $NODE_VERSION is too old: the gate needs Node 22 or 24 LTS (Node 20 reached end of life in April 2026). Upgrade Node, then re-run."
    fi
    die "Node.js $NODE_VERSION is not an LTS line this installer knows: use Node 22 or 24 LTS."
    ;;
esac
command -v npm >/dev/null || die "npm is missing next to $NODE_BIN: install the full Node.js package"

# --- 3. Debian packages ---------------------------------------------------------------
say "installing packages: ${APT_PACKAGES[*]}"
run apt-get update
run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"

# --- 4. The service user --------------------------------------------------------------
say "user $APP_USER in groups gpio and dialout"
getent group gpio >/dev/null || run groupadd --system gpio
if getent passwd "$APP_USER" >/dev/null; then
  say "user $APP_USER exists"
else
  run useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin "$APP_USER"
fi
run usermod -aG gpio,dialout "$APP_USER"

# --- 5. Readers: udev names, ACR122U kernel driver, pcscd access ---------------------
say "udev rules and NFC kernel-driver blacklist"
run install -D -m 0644 "$SRC/scripts/udev/99-gate-controller.rules" "$UDEV_RULE"
run install -D -m 0644 "$SRC/scripts/udev/gate-controller-nfc-blacklist.conf" "$MODPROBE_CONF"
run udevadm control --reload-rules
run udevadm trigger --subsystem-match=tty --subsystem-match=gpio --subsystem-match=usb
# Unload the kernel NFC stack now if it holds an ACR122U (else it needs a reboot).
if grep -qE '^(pn533|pn533_usb|nfc) ' /proc/modules 2>/dev/null; then
  run modprobe -r pn533_usb pn533 nfc
fi
if [ -e "$PCSC_POLICY" ]; then
  say "pcscd uses polkit: allowing user $APP_USER"
  write_file "$POLKIT_RULE" 0644 <<EOF
// gate-controller: the service user may talk to pcscd and its readers.
polkit.addRule(function(action, subject) {
  if ((action.id == "org.debian.pcsc-lite.access_pcsc" ||
       action.id == "org.debian.pcsc-lite.access_card") &&
      subject.user == "$APP_USER") {
    return polkit.Result.YES;
  }
});
EOF
else
  say "pcscd without polkit: its socket is open to every user, nothing to allow"
fi
run systemctl enable --now pcscd.socket

# --- 6. The code, built on this Pi ------------------------------------------------------
say "code to $APP_DIR, dependencies with npm ci on this machine"
run install -d -m 0755 "$APP_DIR"
run rsync -a --delete --exclude=node_modules --exclude=dist --exclude=.git --exclude=data "$SRC/" "$APP_DIR/"
run_in "$APP_DIR" npm ci --no-audit --no-fund
run_in "$APP_DIR" npm run build
run_in "$APP_DIR" npm prune --omit=dev --no-audit --no-fund
# sharp loads libvips from @img/sharp-linux-arm64; if the lockfile lacked it (npm/cli#4828), fetch it for this platform.
if [ "$DRY_RUN" -eq 1 ]; then
  printf '+ (cd %s && node -e "require(\x27sharp\x27)") || npm install --no-save --include=optional sharp\n' "$APP_DIR"
elif ! (cd "$APP_DIR" && "$NODE_BIN" -e "require('sharp')" >/dev/null 2>&1); then
  say "sharp has no native package for this platform: installing it"
  run_in "$APP_DIR" npm install --no-save --include=optional --no-audit --no-fund sharp
fi

# --- 7. Configuration and data ----------------------------------------------------------
say "config in $CONF_DIR, data in $DATA_DIR"
run install -d -m 0755 -o root -g root "$CONF_DIR"
if [ -e "$CONF_FILE" ]; then
  say "keeping the existing $CONF_FILE (never overwritten)"
else
  run install -m 0640 -o root -g "$APP_USER" "$SRC/config/config.example.yaml" "$CONF_FILE"
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '+ sed -i s/REPLACE_WITH_64_HEX_CHARACTERS/<openssl rand -hex 32>/ %s\n' "$CONF_FILE"
  else
    ID_HASH_KEY="$(openssl rand -hex 32)"
    "${SUDO[@]}" sed -i "s/REPLACE_WITH_64_HEX_CHARACTERS/$ID_HASH_KEY/" "$CONF_FILE"
    unset ID_HASH_KEY
  fi
  say "edit $CONF_FILE: gate.id, gate.site, mqtt, central.keys, readers (then: systemctl restart $UNIT)"
fi
run install -d -m 0750 -o "$APP_USER" -g "$APP_USER" "$DATA_DIR"

# --- 7b. HTTPS for the admin page: a self-signed certificate for this host ---------------
GATE_HOST="$(hostname 2>/dev/null || echo gate)"
if [ -e "$TLS_CERT" ] && [ -e "$TLS_KEY" ]; then
  say "keeping the existing admin page certificate $TLS_CERT"
else
  say "admin page certificate for $GATE_HOST (self-signed, 10 years): $TLS_CERT"
  SAN="DNS:$GATE_HOST,DNS:$GATE_HOST.local,DNS:localhost,IP:127.0.0.1"
  for ip in $(hostname -I 2>/dev/null || true); do
    case "$ip" in *:*) ;; *) SAN="$SAN,IP:$ip" ;; esac
  done
  # umask 077: the key is never readable by others, not even for a moment.
  run sh -c "umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj '/CN=$GATE_HOST' -addext 'subjectAltName=$SAN' -keyout '$TLS_KEY' -out '$TLS_CERT'"
  run chown "root:$APP_USER" "$TLS_KEY"
  run chmod 0640 "$TLS_KEY"
  run chmod 0644 "$TLS_CERT"
fi
say "admin page certificate fingerprint (compare it with the browser's before trusting the page):"
run openssl x509 -noout -fingerprint -sha256 -in "$TLS_CERT"
# A config kept from before HTTPS: plain HTTP beyond loopback is now a config
# error (exit 78), so point its admin page at this certificate (a config that
# needs nothing is left untouched; comments and other keys are kept).
if [ "$DRY_RUN" -eq 1 ] || [ -e "$CONF_FILE" ]; then
  run "$NODE_BIN" "$APP_DIR/dist/scripts/admin-tls-config.js" --config "$CONF_FILE" --cert "$TLS_CERT" --key "$TLS_KEY"
fi

# --- 7c. GPIO: the backend and the relays' boot-time levels -------------------------------
# gpio.backend auto (config.example.yaml) takes the kernel's GPIO character
# device where /dev/gpiochip* exists (Trixie, Bookworm) and sysfs GPIO only
# where that is all there is. The service user reaches /dev/gpiochip* through
# the gpio group (Raspberry Pi OS's 99-com.rules and our udev rule).
if compgen -G '/dev/gpiochip*' >/dev/null; then
  say "GPIO: character device $(echo /dev/gpiochip*) -> gpio.backend auto uses cdev"
elif [ -d /sys/class/gpio ]; then
  say "GPIO: no /dev/gpiochip*, sysfs GPIO present -> gpio.backend auto uses onoff"
else
  say "warning: neither /dev/gpiochip* nor /sys/class/gpio: the relays will not work on this system"
fi
if [ -e "$CONF_FILE" ] && grep -qE '^\s*backend:\s*onoff' "$CONF_FILE" && ! [ -d /sys/class/gpio ]; then
  say "warning: $CONF_FILE says gpio.backend: onoff but this kernel has no sysfs GPIO: set it to auto (or cdev)"
fi
# A released line is left to the chip driver (docs/gpio.md): the firmware
# holds each relay inactive from power-on until the daemon requests it.
CONFIG_TXT=/boot/firmware/config.txt
[ -e "$CONFIG_TXT" ] || [ ! -e /boot/config.txt ] || CONFIG_TXT=/boot/config.txt
if [ "$DRY_RUN" -eq 1 ] || [ -e "$CONFIG_TXT" ]; then
  say "relay boot levels (gpio=N=op,dl|dh by activeLow) in $CONFIG_TXT"
  run "$NODE_BIN" "$APP_DIR/dist/scripts/gpio-boot-levels.js" --config "$CONF_FILE" --write "$CONFIG_TXT"
else
  say "warning: no config.txt in /boot/firmware or /boot: relay boot levels not written"
fi

# --- 8. The service ----------------------------------------------------------------------
say "systemd unit $UNIT"
run install -D -m 0644 "$SRC/systemd/$UNIT" "$UNIT_DIR/$UNIT"
if [ "$NODE_BIN" != /usr/bin/node ]; then
  say "node is $NODE_BIN, not /usr/bin/node: adding a drop-in for ExecStart"
  write_file "$UNIT_DIR/$UNIT.d/node-path.conf" 0644 <<EOF
[Service]
ExecStart=
ExecStart=$NODE_BIN --v8-pool-size=1 --max-semi-space-size=8 $APP_DIR/dist/src/main.js --config $CONF_FILE
EOF
fi
run systemctl daemon-reload
run systemctl enable "$UNIT"
# restart, not start: a re-run (upgrade) must load the new code.
run systemctl restart "$UNIT"
say "done. Follow the log with: journalctl -u $UNIT -f"
