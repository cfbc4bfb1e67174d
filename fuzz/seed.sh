#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets, fuzz/seeds/TARGET/, with the real tools and from
# the fixture trees. Seeds are small (the largest are filesystem heads of a few hundred KiB);
# they are committed, and tests/replay.rs in crates/vhdlint-fuzz runs every one of them.
#
#   bash fuzz/seed.sh            rebuilds fuzz/seeds
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/fuzz/seeds
TREES=$ROOT/fixtures/trees
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
rm -rf "$OUT"
for t in vhd_footer vhd_dynamic mbr gpt lvm_metadata lvm_pv layout fs_ext4 fs_xfs fs_fat fs_ntfs fs_btrfs \
    config_sshd config_keyvalue config_grub config_fstab config_passwd config_dpkg \
    config_network config_sudoers rpmdb rpmdb_bdb rpmdb_ndb initramfs registry state_ini exe_headers exe_authenticode exe_version toml_config \
    sas_uri sku_manifest lint report_json; do
    mkdir -p "$OUT/$t"
done
K=1024
M=$((1024 * 1024))
join() { local first=1; for f in "$@"; do [ $first = 1 ] || printf '\n%%%%\n'; first=0; cat "$f"; done; }

# ---- small disks ------------------------------------------------------------------------
# MBR: two primaries, an extended partition with three logicals (EBR chain), at small offsets.
truncate -s $((512 * K)) "$W/mbr.raw"
sfdisk -q --no-reread --no-tell-kernel "$W/mbr.raw" <<'S' >/dev/null
label: dos
start=64, size=128, type=83, bootable
start=192, size=64, type=82
start=256, size=700, type=5
start=320, size=100, type=83
start=480, size=100, type=8e
start=640, size=100, type=7
S
cp "$W/mbr.raw" "$OUT/mbr/mbr-ebr"
# GPT: four partitions, 1-sector alignment, backup at the end.
truncate -s $((256 * K)) "$W/gpt.raw"
sgdisk -q -a 1 -n 1:40:99 -t 1:ef00 -c 1:EFI -n 2:100:199 -t 2:8300 -c 2:root \
    -n 3:200:299 -t 3:8200 -n 4:300:399 -t 4:8e00 "$W/gpt.raw" >/dev/null
cp "$W/gpt.raw" "$OUT/gpt/gpt"
cp "$W/gpt.raw" "$OUT/mbr/gpt"
# A hybrid MBR over the same GPT.
cp "$W/gpt.raw" "$W/hybrid.raw"
sgdisk -q -h 2 "$W/hybrid.raw" >/dev/null
cp "$W/hybrid.raw" "$OUT/gpt/hybrid"
cp "$W/mbr.raw" "$OUT/layout/mbr-ebr"; cp "$W/hybrid.raw" "$OUT/layout/hybrid"; cp "$W/gpt.raw" "$OUT/layout/gpt"
# The labels of other Unix systems: parted's BSD (at byte 64), Sun and SGI ones, and fdisk's BSD
# disklabel nested in an MBR FreeBSD slice (the slice cut out too: a BSD label at sector 1).
for l in bsd sun dvh; do
    truncate -s 0 "$W/$l.raw"; truncate -s $((2048 * K)) "$W/$l.raw"
    if [ $l = dvh ]; then p=primary; else p=; fi
    parted -s "$W/$l.raw" mklabel $l mkpart $p ext2 1024s 1535s mkpart $p linux-swap 1536s 2047s >/dev/null 2>&1 || true
    head -c 4096 "$W/$l.raw" > "$OUT/mbr/label-$l"; head -c 4096 "$W/$l.raw" > "$OUT/layout/label-$l"
done
truncate -s 0 "$W/nested.raw"; truncate -s $((8192 * K)) "$W/nested.raw"
printf 'label: dos\nstart=64, size=512, type=83\nstart=1024, size=2048, type=a5\n' |
    sfdisk -q --no-reread --no-tell-kernel "$W/nested.raw" >/dev/null
printf 'b\ny\nn\na\n1040\n+255\nt\na\n7\nn\nb\n1400\n+511\nt\nb\n1\nw\nq\n' | fdisk "$W/nested.raw" >/dev/null 2>&1 || true
head -c $((3072 * 512)) "$W/nested.raw" > "$OUT/layout/nested-bsd"; head -c 2048 "$W/nested.raw" > "$OUT/mbr/nested-bsd"
dd if="$W/nested.raw" of="$OUT/layout/bsd-slice" bs=512 skip=1024 count=8 status=none

# ---- filesystems ------------------------------------------------------------------------
# A tree shaped like a Linux root, small enough for a small filesystem.
T=$W/tree
mkdir -p "$T/etc/ssh/sshd_config.d" "$T/sbin" "$T/usr/lib/systemd" "$T/boot/grub" "$T/var/log" "$T/home/u/.ssh"
cp "$TREES/linux/linux-debian-dirty/etc/ssh/sshd_config" "$T/etc/ssh/"
printf 'ClientAliveInterval 180\n' >"$T/etc/ssh/sshd_config.d/50-azure.conf"
cp "$TREES/linux/linux-debian-dirty/etc/os-release" "$T/etc/os-release" 2>/dev/null \
    || printf 'ID=debian\nVERSION_ID="12"\n' >"$T/etc/os-release"
printf '#!/bin/sh\n' >"$T/usr/lib/systemd/systemd"
ln -s ../usr/lib/systemd/systemd "$T/sbin/init"
ln -s /etc/../../../../etc/os-release "$T/etc/escape"
printf 'linux /vmlinuz root=UUID=x ro console=ttyS0\n' >"$T/boot/grub/grub.cfg"
seq 1 600 >"$T/var/log/big.log"
for i in $(seq 1 40); do : >"$T/var/log/f$i"; done
# ext4 without a journal (1 KiB blocks, extents), ext2, and ext4 with inline data.
mke2fs -q -F -t ext4 -O ^has_journal -b 1024 -N 128 -d "$T" "$W/ext4.img" 512k >/dev/null
mke2fs -q -F -t ext2 -b 1024 -N 96 -d "$T" "$W/ext2.img" 256k >/dev/null
mke2fs -q -F -t ext4 -O ^has_journal,inline_data -b 1024 -I 256 -N 128 -d "$T" "$W/inline.img" 512k >/dev/null
cp "$W/ext4.img" "$OUT/fs_ext4/ext4"; cp "$W/ext2.img" "$OUT/fs_ext4/ext2"; cp "$W/inline.img" "$OUT/fs_ext4/ext4-inline-data"
# The other eras: 128-byte inodes without filetype or extents (block maps), meta_bg, and a
# filesystem whose journal needs recovery (two transactions written by debugfs, one revoking).
mke2fs -q -F -t ext4 -O ^has_journal,^extent,^64bit,^filetype -I 128 -b 1024 -N 96 -d "$T" "$W/old.img" 256k >/dev/null
mke2fs -q -F -t ext4 -O ^has_journal,meta_bg,^resize_inode -b 1024 -N 96 -d "$T" "$W/metabg.img" 256k >/dev/null
mke2fs -q -F -t ext4 -b 1024 -N 96 -J size=1 -d "$T" "$W/journal.img" 3072k >/dev/null
head -c 2048 /dev/urandom >"$W/blocks"
printf 'jo\njw -b 300,301 %s\njw -b 302 -r 301 %s\njc\n' "$W/blocks" "$W/blocks" >"$W/jscript"
debugfs -w -f "$W/jscript" "$W/journal.img" >/dev/null 2>&1
cp "$W/old.img" "$OUT/fs_ext4/ext4-128-blockmap"; cp "$W/metabg.img" "$OUT/fs_ext4/ext4-meta-bg"
cp "$W/journal.img" "$OUT/fs_ext4/ext4-needs-recovery"
# XFS needs 300 MiB in at least 2 AGs, and puts each new directory in the next AG. The seed is
# the first 1 MiB: AG 0's headers, the root directory and what it holds (its files live in AG 0
# next to their inodes); etc/ lands in AG 1, past the seed's end, as on a truncated volume.
truncate -s $((300 * M)) "$W/xfs.img"
{
    echo "/dev/null"; echo "0 0"; echo "d--755 0 0"
    echo "os-release ---644 0 0 $T/etc/os-release"
    echo "sshd_config ---644 0 0 $T/etc/ssh/sshd_config"
    echo "big.log ---644 0 0 $T/var/log/big.log"
    echo "escape l--777 0 0 /etc/../../../../etc/os-release"
    echo "init l--777 0 0 usr/lib/systemd/systemd"
    for i in $(seq 1 40); do echo "f$i ---644 0 0 $T/var/log/f$i"; done
    echo "etc d--755 0 0"; echo "os-release ---644 0 0 $T/etc/os-release"; echo '$'
    echo '$'
} >"$W/proto"
mkfs.xfs -q -f -p "$W/proto" "$W/xfs.img"
head -c $M "$W/xfs.img" >"$OUT/fs_xfs/xfs-head"
# FAT: FAT12, FAT16 and FAT32 volumes from mkfs.vfat with an EFI system partition's tree
# written by mtools (long names, a lower-case 8.3 name, subdirectories, 40 files in one
# directory); FAT16/32 need more clusters than a small seed holds, so their seeds are the
# smallest volumes mkfs.vfat makes of that type, cut after the last byte in use.
for b in 12 16 32; do
    case $b in 12) sz=$((512 * K)) ;; 16) sz=$((9 * M)) ;; 32) sz=$((33 * M)) ;; esac
    truncate -s $sz "$W/fat$b.img"
    mkfs.vfat -F $b -s 1 -i 12345678 -n ESP "$W/fat$b.img" >/dev/null
    mkdir -p "$W/esp$b/EFI/BOOT" "$W/esp$b/EFI/debian" "$W/esp$b/EFI/Microsoft/Boot" "$W/esp$b/many"
    head -c 3000 "$T/etc/os-release" >"$W/esp$b/EFI/BOOT/BOOTX64.EFI"
    cp "$T/etc/os-release" "$W/esp$b/EFI/debian/grub.cfg"
    cp "$T/etc/os-release" "$W/esp$b/EFI/debian/A Long Name.efi"
    cp "$T/etc/ssh/sshd_config" "$W/esp$b/EFI/Microsoft/Boot/bootmgfw.efi"
    for i in $(seq 1 40); do echo "$i" >"$W/esp$b/many/file-number-$i.txt"; done
    MTOOLS_SKIP_CHECK=1 LC_ALL=C.UTF-8 mcopy -s -i "$W/fat$b.img" "$W/esp$b/EFI" "$W/esp$b/many" ::/
    python3 - "$W/fat$b.img" "$OUT/fs_fat/fat$b" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
end = len(b.rstrip(b"\0"))
open(sys.argv[2], "wb").write(b[: (end + 511) // 512 * 512])
PY
done
# Small FAT volumes, so that most executions are cheap: a 128 KiB FAT12, the smallest FAT16
# (4085 clusters of one sector) and the smallest FAT32 (65525 clusters: its one FAT alone is
# 256 KiB), each with a 16-entry root directory (FAT12/16), subdirectories, a long name, a
# lower-case 8.3 name, a deleted entry and a file whose chain is split around another's
# cluster (on FAT12/16); and a FAT12 with 4 KiB sectors. Cut after the last byte in use.
fat_small() {
    local b=$1 sz=$2 out=$3
    shift 3
    truncate -s 0 "$W/$out.img"; truncate -s "$sz" "$W/$out.img"
    mkfs.vfat -F "$b" -s 1 -i 12345678 -n ESP "$@" "$W/$out.img" >/dev/null
    mt() { MTOOLS_SKIP_CHECK=1 LC_ALL=C.UTF-8 "$@"; }
    mt mmd -i "$W/$out.img" ::/EFI ::/EFI/BOOT ::/EFI/debian
    printf 'gap\n' >"$W/gap"
    head -c 1500 "$T/etc/ssh/sshd_config" >"$W/bootx64.efi"
    printf 'set timeout=1\n' >"$W/grub.cfg"
    printf 'fs0:\\EFI\\BOOT\\BOOTX64.EFI\n' >"$W/startup.nsh"
    mt mcopy -i "$W/$out.img" "$W/gap" ::/EFI/BOOT/GAP
    mt mcopy -i "$W/$out.img" "$W/grub.cfg" ::/EFI/debian/grub.cfg
    mt mcopy -i "$W/$out.img" "$W/grub.cfg" "::/EFI/debian/A Long Name.efi"
    mt mdel -i "$W/$out.img" ::/EFI/BOOT/GAP
    mt mcopy -i "$W/$out.img" "$W/bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
    mt mcopy -i "$W/$out.img" "$W/startup.nsh" ::/startup.nsh
    python3 - "$W/$out.img" "$OUT/fs_fat/$out" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
end = len(b.rstrip(b"\0"))
open(sys.argv[2], "wb").write(b[: (end + 511) // 512 * 512])
PY
}
fat_small 12 $((128 * K)) fat12-128k -r 16
fat_small 16 $((2100 * K)) fat16-smallest -r 16
fat_small 32 $((33 * M)) fat32-smallest -f 1 -R 8
fat_small 12 $((192 * K)) fat12-4k-sectors -S 4096 -r 128
# NTFS: 2 MiB volume with a few files, its first 512 KiB (boot sector, $MFT) as a seed and the
# whole volume as another.
truncate -s $((2 * M)) "$W/ntfs.img"
mkntfs -q -F -f -L DATA "$W/ntfs.img" >/dev/null 2>&1
ntfscp -q "$W/ntfs.img" "$T/etc/os-release" State.ini >/dev/null 2>&1 || true
ntfscp -q "$W/ntfs.img" "$T/var/log/big.log" big.log >/dev/null 2>&1 || true
cp "$W/ntfs.img" "$OUT/fs_ntfs/ntfs-2m"

# btrfs: 120 MiB volumes (the superblock at 64 KiB and its mirror at 64 MiB), cut into the
# pieces the fs_btrfs harness reads (a 4-byte offset, a 2-byte length, the bytes; runs of 32
# or more zero bytes left out). One made by mkfs.btrfs --rootdir from the SUSE tree; with root
# and loop mounts, others written by the kernel: SUSE's subvolumes (@ the default, @/home),
# compressed with zstd and with lzo.
btrfs_pieces() {
    python3 - "$1" "$2" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read(128 << 20)
out, i = bytearray(), 0
while i < len(d):
    if d[i] == 0:
        i += 1
        continue
    j, zeros = i, 0
    while j < len(d) and j - i < 65535 and zeros < 32:
        zeros = zeros + 1 if d[j] == 0 else 0
        j += 1
    end = j - zeros
    out += struct.pack("<IH", i, end - i) + d[i:end]
    i = j
open(sys.argv[2], "wb").write(out)
PY
}
truncate -s $((120 * M)) "$W/btrfs.img"
mkfs.btrfs -q -f --rootdir "$TREES/linux/linux-suse-clean" "$W/btrfs.img" >/dev/null 2>&1
btrfs_pieces "$W/btrfs.img" "$OUT/fs_btrfs/rootdir-suse"
if [ "$(id -u)" = 0 ] && losetup -f >/dev/null 2>&1; then
    for c in zstd lzo; do
        truncate -s 0 "$W/btrfs-$c.img"; truncate -s $((120 * M)) "$W/btrfs-$c.img"
        mkfs.btrfs -q -f "$W/btrfs-$c.img" >/dev/null 2>&1
        mkdir -p "$W/mnt"
        mount -o loop,compress=$c "$W/btrfs-$c.img" "$W/mnt"
        btrfs -q subvolume create "$W/mnt/@"
        btrfs -q subvolume create "$W/mnt/@/home"
        btrfs subvolume set-default "$W/mnt/@" >/dev/null
        cp -a "$TREES/linux/linux-suse-clean/." "$W/mnt/@/"
        mkdir -p "$W/mnt/@/home/user"
        seq 1 3000 >"$W/mnt/@/home/user/.bash_history"
        ln -s ../etc/os-release "$W/mnt/@/home/user/link"
        umount "$W/mnt"
        btrfs_pieces "$W/btrfs-$c.img" "$OUT/fs_btrfs/subvolumes-$c"
    done
fi

# A disk with an MBR and the ext4 inside (layout, lint).
truncate -s $((2 * M)) "$W/disk.raw"
printf 'label: dos\nstart=2048, size=1024, type=83\n' | sfdisk -q --no-reread --no-tell-kernel "$W/disk.raw" >/dev/null
dd if="$W/ext4.img" of="$W/disk.raw" bs=512 seek=2048 conv=notrunc status=none
cp "$W/disk.raw" "$OUT/layout/mbr-ext4"

# ---- VHD --------------------------------------------------------------------------------
qemu-img convert -q -f raw -O vpc -o subformat=fixed,force_size "$W/disk.raw" "$W/fixed.vhd"
qemu-img convert -q -f raw -O vpc "$W/disk.raw" "$W/dynamic.vhd"
qemu-img create -q -f vpc "$W/empty.vhd" 64M
tail -c 512 "$W/fixed.vhd" >"$OUT/vhd_footer/fixed-footer"
head -c 512 "$W/dynamic.vhd" >"$OUT/vhd_footer/dynamic-footer-copy"
cp "$W/empty.vhd" "$OUT/vhd_footer/empty-dynamic"
cp "$W/empty.vhd" "$OUT/vhd_dynamic/empty-dynamic"; cp "$W/dynamic.vhd" "$OUT/vhd_dynamic/dynamic-mbr-ext4"
cp "$W/fixed.vhd" "$OUT/lint/fixed-mbr-ext4"; cp "$W/dynamic.vhd" "$OUT/lint/dynamic-mbr-ext4"
qemu-img convert -q -f raw -O vpc -o subformat=fixed,force_size "$W/gpt.raw" "$OUT/lint/fixed-gpt"

# ---- LVM2: a real PV label and metadata written by pvcreate/vgcreate/lvcreate ------------
if command -v pvcreate >/dev/null && losetup -f >/dev/null 2>&1; then
    truncate -s $((8 * M)) "$W/pv.raw"
    dev=$(losetup -f --show "$W/pv.raw")
    export LVM_SYSTEM_DIR=$W/lvm
    mkdir -p "$LVM_SYSTEM_DIR"
    printf 'devices { filter = [ "a|^%s$|", "r|.*|" ] scan = [ "/dev" ] obtain_device_list_from_udev = 0 }\nactivation { udev_sync = 0 udev_rules = 0 }\nglobal { use_lvmetad = 0 }\n' "$dev" >"$LVM_SYSTEM_DIR/lvm.conf"
    pvcreate -q -y --norestorefile "$dev" >/dev/null 2>&1
    vgcreate -q --setautoactivation n -s 1m vgf "$dev" >/dev/null 2>&1
    lvcreate -q -an -Zn -l 2 -n root vgf >/dev/null 2>&1 || true
    lvcreate -q -an -Zn -l 1 -n swap vgf >/dev/null 2>&1 || true
    losetup -d "$dev"
    head -c $M "$W/pv.raw" >"$OUT/lvm_pv/pv-1m"
    # the newest metadata text from the circular buffer
    python3 - "$W/pv.raw" "$OUT/lvm_metadata/vgf.txt" <<'PY'
import sys
d = open(sys.argv[1], "rb").read(1 << 20)
i = d.rfind(b"vgf {")
j = d.find(b"\0", i)
open(sys.argv[2], "wb").write(d[i:j])
PY
fi
printf 'vg {\nid = "x"\nseqno = 1\nextent_size = 8192\nphysical_volumes {\npv0 {\nid = "p"\npe_start = 2048\npe_count = 10\n}\n}\nlogical_volumes {\nlv {\nid = "l"\nsegment_count = 1\nsegment1 {\nstart_extent = 0\nextent_count = 1\ntype = "striped"\nstripe_count = 1\nstripes = [\n"pv0", 0\n]\n}\n}\n}\n}\n' >"$OUT/lvm_metadata/minimal.txt"

# ---- configuration files from the distribution-shaped trees --------------------------------
for d in debian ubuntu rhel suse; do
    for s in clean dirty; do
        L=$TREES/linux/linux-$d-$s
        [ -d "$L" ] || continue
        n=$d-$s
        inc=("$L"/etc/ssh/sshd_config.d/*.conf)
        if [ -e "${inc[0]}" ]; then join "$L/etc/ssh/sshd_config" "${inc[@]}" >"$OUT/config_sshd/$n"
        elif [ -f "$L/etc/ssh/sshd_config" ]; then cp "$L/etc/ssh/sshd_config" "$OUT/config_sshd/$n"; fi
        for f in etc/waagent.conf etc/os-release usr/lib/os-release etc/default/grub boot/grub2/grubenv; do
            [ -f "$L/$f" ] && cp "$L/$f" "$OUT/config_keyvalue/$n-${f//\//_}"
        done
        for g in boot/grub/grub.cfg boot/grub2/grub.cfg; do
            if [ -f "$L/$g" ]; then
                bls=("$L"/boot/loader/entries/*.conf)
                if [ -e "${bls[0]}" ]; then join "$L/$g" "${bls[@]}" >"$OUT/config_grub/$n"
                else cp "$L/$g" "$OUT/config_grub/$n"; fi
            fi
        done
        [ -f "$L/etc/fstab" ] && cp "$L/etc/fstab" "$OUT/config_fstab/$n"
        [ -f "$L/etc/passwd" ] && join "$L/etc/passwd" "$L/etc/shadow" >"$OUT/config_passwd/$n"
        [ -f "$L/var/lib/dpkg/status" ] && cp "$L/var/lib/dpkg/status" "$OUT/config_dpkg/$n"
        for f in etc/network/interfaces etc/sysconfig/network-scripts/ifcfg-eth0 etc/sysconfig/network/ifcfg-eth0 \
            etc/NetworkManager/NetworkManager.conf; do
            [ -f "$L/$f" ] && cp "$L/$f" "$OUT/config_network/$n-${f//\//_}"
        done
        for f in "$L"/etc/netplan/*.yaml "$L"/etc/udev/rules.d/*persistent-net*; do
            [ -f "$f" ] && cp "$f" "$OUT/config_network/$n-$(basename "$f")"
        done
        [ -f "$L/etc/sudoers" ] && cp "$L/etc/sudoers" "$OUT/config_sudoers/$n"
        for f in "$L"/etc/sudoers.d/*; do [ -f "$f" ] && cp "$f" "$OUT/config_sudoers/$n-$(basename "$f")"; done
    done
done
printf '1.2.3-1\n%%%%\n1:1.2.3~rc1-1\n' >"$OUT/config_dpkg/versions"

# ---- RPM database: a real rpmdb.sqlite, two packages installed by rpm --justdb --------------
if command -v rpm >/dev/null && command -v rpmbuild >/dev/null; then
    for pkg in WALinuxAgent:2.9.1.1:1.el9 openssh-server:8.7p1:34.el9; do
        IFS=: read -r name ver rel <<<"$pkg"
        printf 'Name: %s\nVersion: %s\nRelease: %s\nBuildArch: noarch\nSummary: seed\nLicense: MIT\n%%description\nseed\n%%files\n' \
            "$name" "$ver" "$rel" >"$W/$name.spec"
        rpmbuild -bb --quiet --define "_topdir $W/rpmtop" --define "_build_id_links none" \
            --define "debug_package %{nil}" "$W/$name.spec" >/dev/null 2>&1
    done
    rpm --dbpath "$W/rpmdb" --initdb
    rpm --dbpath "$W/rpmdb" -i --justdb --nodeps --noscripts --ignorearch "$W"/rpmtop/RPMS/*/*.rpm 2>/dev/null
    cp "$W/rpmdb/rpmdb.sqlite" "$OUT/rpmdb/two-packages.sqlite"
fi

# ---- RPM database as a Berkeley DB hash (db_load, both byte orders, 512-byte pages so that the
# headers spill to overflow pages) and as ndb (fixtures/mkndb.py), from the same header blobs -
if [ -f "$OUT/rpmdb/two-packages.sqlite" ] && command -v sqlite3 >/dev/null; then
    sqlite3 "$OUT/rpmdb/two-packages.sqlite" "select hnum, hex(blob) from Packages" >"$W/blobs"
    python3 "$ROOT/fixtures/mkndb.py" "$OUT/rpmdb_ndb/two-packages.db" <"$W/blobs"
    DBLOAD=$(command -v db_load || command -v db5.3_load || true)
    if [ -n "$DBLOAD" ]; then
        for order in little big; do
            python3 - "$order" "$W/blobs" >"$W/dump-$order" <<'PY'
import struct, sys
o = "<" if sys.argv[1] == "little" else ">"
print("VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=512\nHEADER=END")
rows = [l.strip().split("|") for l in open(sys.argv[2]) if l.strip()]
print(" " + struct.pack(o + "I", 0).hex() + "\n " + struct.pack(o + "I", len(rows) + 1).hex())
for h, blob in rows:
    print(" " + struct.pack(o + "I", int(h)).hex() + "\n " + blob.lower())
print("DATA=END")
PY
            lorder=1234
            [ "$order" = big ] && lorder=4321
            "$DBLOAD" -c db_lorder=$lorder -f "$W/dump-$order" "$OUT/rpmdb_bdb/two-packages-$order-endian"
        done
    fi
fi

# ---- initramfs: newc cpio, plain, gzip, xz, zstd, with an early cpio in front -------------
I=$W/initrd
mkdir -p "$I/usr/lib/modules/6.1.0/kernel/drivers/hv" "$I/etc/modprobe.d" "$I/kernel/x86/microcode"
printf 'kernel/drivers/hv/hv_vmbus.ko:\nkernel/drivers/hv/hv_storvsc.ko: kernel/drivers/hv/hv_vmbus.ko\n' >"$I/usr/lib/modules/6.1.0/modules.dep"
: >"$I/usr/lib/modules/6.1.0/kernel/drivers/hv/hv_vmbus.ko"
printf 'options hv_storvsc x=1\n' >"$I/etc/modprobe.d/hv.conf"
(cd "$I" && find usr etc | LC_ALL=C sort | cpio -o -H newc --quiet) >"$W/main.cpio"
(cd "$I" && find kernel | cpio -o -H newc --quiet) >"$W/early.cpio"
cp "$W/main.cpio" "$OUT/initramfs/plain.cpio"
gzip -n -9 <"$W/main.cpio" >"$OUT/initramfs/main.cpio.gz"
{ cat "$W/early.cpio"; xz --check=crc32 <"$W/main.cpio"; } >"$OUT/initramfs/early-xz"
command -v zstd >/dev/null && zstd -q -19 <"$W/main.cpio" >"$OUT/initramfs/main.cpio.zst"
command -v lz4 >/dev/null && lz4 -q -l <"$W/main.cpio" >"$OUT/initramfs/main.cpio.lz4"
command -v bzip2 >/dev/null && bzip2 -9 <"$W/main.cpio" >"$OUT/initramfs/main.cpio.bz2"

# ---- Windows: registry hives, State.ini, PE header -----------------------------------------
for r in "$ROOT"/fixtures/reg/*.reg; do
    python3 "$ROOT/fixtures/mkhive.py" "$OUT/registry/$(basename "$r" .reg)" "$r"
done
printf '[State]\r\nImageState=IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE\r\n' | iconv -f utf-8 -t utf-16 >"$OUT/state_ini/utf16"
printf '[State]\r\nImageState=IMAGE_STATE_COMPLETE\r\n' >"$OUT/state_ini/utf8"
# ntoskrnl.exe as the Windows fixtures have it (fixtures/lib.sh mkpe), for x64, i386 and ARM64
# shellcheck source=../fixtures/lib.sh
source "$ROOT/fixtures/lib.sh"
for m in 0x8664 0x14c 0xaa64; do mkpe "$OUT/exe_headers/ntoskrnl-$m" "$m"; done
# srv.sys and ntoskrnl.exe with version resources, as the Windows fixtures have them
# (fixtures/lib.sh mkpe_version: windres and ld of mingw-w64 binutils)
mkpe_version "$OUT/exe_version/srv-x64" 0x8664 6.3.9600.18604
mkpe_version "$OUT/exe_version/ntoskrnl-i386" 0x14c 6.3.9600.20520
head -c 64 /bin/sh >"$OUT/exe_headers/elf"
# Debian's signed shim (two signatures: Microsoft UEFI CA 2011 and 2023), signed GRUB and
# signed cloud kernel (fixtures/efi-binaries.sh), each cut to its first 1 KiB (the headers)
# with its certificate table moved right after it, and data directory entry 4 pointing there.
EFI=$(bash "$ROOT/fixtures/efi-binaries.sh" "$W/efi" | tail -1)
pe_cut() {
    python3 - "$1" "$2" <<'P'
import struct, sys
b = open(sys.argv[1], "rb").read()
pe = struct.unpack_from("<I", b, 0x3C)[0]
opt = pe + 24
dirs = opt + (112 if struct.unpack_from("<H", b, opt)[0] == 0x20B else 96)
off, size = struct.unpack_from("<II", b, dirs + 32)
head = bytearray(b[:1024])
struct.pack_into("<I", head, dirs + 32, 1024)
open(sys.argv[2], "wb").write(bytes(head) + b[off:off + size])
P
}
pe_cut "$EFI/usr/lib/shim/shimx64.efi.signed" "$OUT/exe_authenticode/shimx64"
pe_cut "$EFI/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$OUT/exe_authenticode/grubx64"
pe_cut "$(ls "$EFI"/boot/vmlinuz-*)" "$OUT/exe_authenticode/vmlinuz"
head -c 1024 "$EFI/usr/lib/grub/x86_64-efi/monolithic/grubx64.efi" >"$OUT/exe_authenticode/grubx64-unsigned"

# ---- vhdlint.toml, waivers, answers, policies ---------------------------------------------
cat >"$OUT/toml_config/config.toml" <<'C'
policy = "current"
profile = "linux-os"
select = ["disk/*", "linux/*"]
ignore = ["linux/sudoers"]
deny-warnings = true
waivers = "waivers.toml"
[severity]
"linux/ssh-client-alive" = "warning"
C
cat >"$OUT/toml_config/waivers.toml" <<'C'
[[waiver]]
check = "linux/swap"
justification = "swap is disabled by cloud-init at first boot"
expires = "2027-01-31"
C
cat >"$OUT/toml_config/answers.toml" <<'C'
[[answer]]
question = "Does the image include a firewall?"
answer = "yes"
C
printf 'extends = "current"\n' >"$OUT/toml_config/policy.toml"

# ---- publishing inputs: SAS URIs and SKU manifests -----------------------------------------
B=https://contoso.blob.core.windows.net/vhds
printf '%s' "$B/os.vhd?sv=2021-08-06&st=2026-11-20T09%3A00%3A00Z&se=2026-12-20T09%3A00%3A00Z&sr=b&sp=rl&sig=c2lnbmF0dXJl%2B%3D" >"$OUT/sas_uri/good"
printf '%s' "$B/my%20os.vhd?sv=2021-08-06&st=2026-11-20&se=2026-11-22T09:00:00Z&sr=c&sp=racwdl&sig=x" >"$OUT/sas_uri/bad"
printf '%s' "http://h/c/€.vhd?sig=é&sig=a;sig=b#frag" >"$OUT/sas_uri/odd"
cat >"$OUT/sku_manifest/full.toml" <<'C'
offer = "contoso-linux"
sku = "debian-12"
version = "1.0.1"
previous-version = "1.0.0"
os = "linux"
other-skus = ["debian-11"]
[os-disk]
image = "os.vhd"
[[data-disk]]
lun = 0
image = "https://contoso.blob.core.windows.net/vhds/data0.vhd?sp=rl&sig=x"
[[data-disk]]
lun = 2
C

# ---- whole images for the pipeline ---------------------------------------------------------
cp "$W/mbr.raw" "$OUT/lint/mbr-ebr"

# ---- JSON reports (vhdlint merge reads them back): vhdlint's own, on the images above ---------
VHDLINT=${VHDLINT:-$(cd "$ROOT" && cargo build -q -p vhdlint && echo "$ROOT/target/debug/vhdlint")}
(
    cd "$OUT/lint"
    "$VHDLINT" check -q --format json fixed-mbr-ext4 dynamic-mbr-ext4 fixed-gpt mbr-ebr no-such.vhd \
        >"$OUT/report_json/four-and-unreadable.json" || true
    "$VHDLINT" check -q --format json --shard 1/2 --policy current fixed-mbr-ext4 mbr-ebr \
        >"$OUT/report_json/shard.json" || true
)

find "$OUT" -type d -empty -print | sed 's/^/no seed for /' >&2
du -sh "$OUT" >&2
