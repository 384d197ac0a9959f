#!/usr/bin/env bash
# Builds the GPIO test rig once into a cache dir (never committed):
#   - Debian's own 6.1 kernel image and modules (apt-get download, extracted, not installed)
#   - gpio-sim.ko built out of tree from linux-source-6.1 against the matching
#     linux-headers (Debian does not build gpio-sim nor IRQ_SIM): irq_sim.c is
#     linked into the module, with generic_handle_irq() for irq_to_desc(),
#     which is not exported to modules
#   - an initramfs: busybox-static, the configfs/9p/virtio modules, gpio-sim.ko
#     and scripts/gpio-rig/init
# Everything comes from Debian's archive. The ABI (6.1.0-NN) is resolved
# through the linux-headers-amd64 metapackage, since the security archive
# moves to new ABI numbers. Prints the cache dir on its last line.
# Needs: qemu-system-x86 busybox-static linux-source-6.1 linux-headers-amd64 cpio (setup.sh installs them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

resolve_abi() {
  abi_pkg=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null | tr ',' '\n' | grep -o 'linux-headers-6\.1\.[0-9]*-[0-9]*-amd64' | head -1)
  [ -n "$abi_pkg" ] || { echo "gpio-rig: linux-headers-amd64 (6.1) is not installed (scripts/setup.sh installs it)" >&2; exit 1; }
  krel=${abi_pkg#linux-headers-}
  kbuild=/usr/src/linux-headers-$krel
  [ -d "$kbuild" ] || { echo "gpio-rig: $kbuild missing" >&2; exit 1; }
}
resolve_abi
cache=${GPIO_RIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gate-controller/gpio-rig}/$krel
# The stamp covers the inputs this script turns into the cache.
stamp=$(cat "$0" "$here/init" | sha256sum | cut -c1-16)
if [ -f "$cache/ok" ] && [ "$(cat "$cache/ok")" = "$stamp" ]; then
  echo "$cache"; exit 0
fi
rm -rf "$cache"; mkdir -p "$cache"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# 1. The kernel image and its modules, for exactly this ABI.
img_pkg=linux-image-$krel
if ! (cd "$work" && apt-get download -qq "$img_pkg" >/dev/null 2>&1); then
  # The archive may have moved to a new ABI: refresh, follow the metapackage, retry.
  apt-get update -qq
  if ! (cd "$work" && apt-get download -qq "$img_pkg" >/dev/null 2>&1); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-headers-amd64 >/dev/null
    resolve_abi
    img_pkg=linux-image-$krel
    cache=${GPIO_RIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gate-controller/gpio-rig}/$krel
    rm -rf "$cache"; mkdir -p "$cache"
    (cd "$work" && apt-get download -qq "$img_pkg")
  fi
fi
dpkg-deb -x "$work"/${img_pkg}_*.deb "$work/image"
cp "$work/image/boot/vmlinuz-$krel" "$cache/vmlinuz"
mods="$work/image/lib/modules/$krel"

# 2. gpio-sim.ko out of tree.
src="$work/src"; mkdir -p "$src"
tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$work" --wildcards \
  'linux-source-6.1/drivers/gpio/gpio-sim.c' 'linux-source-6.1/drivers/gpio/gpiolib.h' 'linux-source-6.1/kernel/irq/irq_sim.c'
cp "$work/linux-source-6.1/drivers/gpio/gpio-sim.c" "$src/gpio-sim-main.c"
cp "$work/linux-source-6.1/drivers/gpio/gpiolib.h" "$src/"
sed 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' \
  "$work/linux-source-6.1/kernel/irq/irq_sim.c" > "$src/irq_sim.c"
grep -q 'generic_handle_irq(irqnum)' "$src/irq_sim.c" || { echo "gpio-rig: irq_sim.c patch did not apply" >&2; exit 1; }
printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-main.o irq_sim.o\n' > "$src/Kbuild"
make -s -C "$kbuild" M="$src" modules >"$work/make.log" 2>&1 || { cat "$work/make.log" >&2; exit 1; }
vermagic() { case "$1" in *.xz) xz -dc "$1";; *) cat "$1";; esac | grep -a -o 'vermagic=[[:print:]]*' | head -1; }
vm_mod=$(vermagic "$src/gpio-sim.ko"); vm_img=$(vermagic "$(ls "$mods"/kernel/fs/configfs/configfs.ko* | head -1)")
[ "$vm_mod" = "$vm_img" ] || { echo "gpio-rig: vermagic mismatch: '$vm_mod' vs '$vm_img'" >&2; exit 1; }

# 3. The initramfs: modules in load order (from modules.dep), busybox, init.
root="$work/initramfs"; mkdir -p "$root"/{bin,dev,proc,sys,mnt,config,lib/modules}
cp /bin/busybox "$root/bin/busybox"
cp "$here/init" "$root/init"; chmod 755 "$root/init"
order=()
# The .deb ships no modules.dep (depmod makes it on install): read each
# module's own depends= and load dependencies first.
modinfo_field() { case "$1" in *.xz) xz -dc "$1";; *) cat "$1";; esac | grep -a -o "$2=[[:print:]]*" | head -1 | cut -d= -f2; }
add_mod() {
  local name=$1 path d o
  path=$(find "$mods/kernel" -name "$name.ko" -o -name "$name.ko.xz" -o -name "${name//_/-}.ko" -o -name "${name//_/-}.ko.xz" | head -1)
  [ -n "$path" ] || return 0   # built in
  for o in "${order[@]:-}"; do [ "$o" = "$path" ] && return 0; done
  for d in $(modinfo_field "$path" depends | tr ',' ' '); do add_mod "$d"; done
  order+=("$path")
}
for m in configfs virtio virtio_ring virtio_pci 9pnet 9pnet_virtio 9p; do add_mod "$m"; done
: > "$root/lib/modules/order"
for p in "${order[@]}"; do
  b=$(basename "$p")
  case "$b" in
    *.xz) xz -dc "$p" > "$root/lib/modules/${b%.xz}"; b=${b%.xz} ;;
    *) cp "$p" "$root/lib/modules/$b" ;;
  esac
  echo "$b" >> "$root/lib/modules/order"
done
cp "$src/gpio-sim.ko" "$root/lib/modules/gpio-sim.ko"
echo gpio-sim.ko >> "$root/lib/modules/order"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$cache/initramfs.gz"
cp "$src/gpio-sim.ko" "$cache/"
echo "$krel" > "$cache/krel"
echo "$stamp" > "$cache/ok"
echo "$cache"
