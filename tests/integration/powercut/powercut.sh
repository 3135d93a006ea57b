#!/usr/bin/env bash
# powercut.sh - the real power-cut test: the JetStream store on an ext4
# image attached to a loop device; the server is SIGKILLed mid-stream and
# the image file is copied at once, without sync or unmount, so the copy
# holds only what the file system had sent to the block device (fsync'd
# data and journal commits).  The original is unmounted, the copy mounted
# in its place (the journal is replayed) and the server restarted on it.
#
#   powercut.sh <server-binary> <go-work-dir>
#
# Each run: PubAcks for async publishes with msg-ids, a durable pull
# consumer acking with AckSync at the same time.  After the restart on the
# copy: acknowledged messages present with their data, sequences
# contiguous, the msg-ids still duplicates, the consumer's ack floor at
# least its confirmed prefix and no confirmed ack delivered again.
# modnats: sync = "always" (the default; small messages, then ~100 MB of
# 8 KiB ones) must lose nothing; sync = "interval" (1 h) must lose some
# acknowledged messages, which shows the cut bites.  nats-server (MN_TEST_SERVER or the argument): its default mode,
# the loss is reported as a figure, not judged.  The client side is the
# nats.go test TestJSPowerCutPhase (run_go.sh).  Exits 77 (ctest SKIP)
# when not root or without loop devices.  The ext4 file system is mounted
# with commit=60 so no periodic journal commit writes what was not fsync'd
# during the few seconds of a run; vm.dirty_expire (30 s) does the same for
# data.  Prints "POWERCUT sync=<mode> acked=N lost=M wrong=W" per run.
set -euo pipefail
server="${MN_TEST_SERVER:-${1:?usage: powercut.sh <server-binary> <go-work-dir>}}"
gowork="${2:?usage: powercut.sh <server-binary> <go-work-dir>}"
here=$(cd "$(dirname "$0")" && pwd)

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (losetup, mount)"
for c in losetup mkfs.ext4 mount umount cp truncate; do
    command -v "$c" >/dev/null 2>&1 || skip "$c not found (util-linux, e2fsprogs)"
done
[ -e /dev/loop-control ] || skip "no /dev/loop-control (no loop devices)"

base="${MN_TEST_TMPDIR:-${TMPDIR:-/tmp}}"
work=$(mktemp -d "$base/powercut.XXXXXX")
mnt="$work/mnt"
mkdir -p "$mnt"
loopdev=""
failed=1

cleanup() {
    if mountpoint -q "$mnt"; then umount "$mnt" || umount -l "$mnt" || true; fi
    if [ -n "$loopdev" ]; then losetup -d "$loopdev" 2>/dev/null || true; fi
    if [ "$failed" = 0 ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

attach() {  # attach <image> [copy]: loop device, mounted on $mnt
    loopdev=$(losetup --find --show "$1") || skip "losetup cannot attach a loop device"
    if ! mount -t ext4 -o commit=60 "$loopdev" "$mnt"; then
        losetup -d "$loopdev"; loopdev=""
        # A fresh image that does not mount: no loop/ext4 support here.  The
        # copy after the cut: a file system the journal could not repair.
        [ -z "${2:-}" ] || { echo "FAIL: the image copied after the cut does not mount"; exit 1; }
        skip "cannot mount ext4 from a loop device here"
    fi
}

detach() {
    umount "$mnt"
    losetup -d "$loopdev"
    loopdev=""
}

# run <name> <sync mode or ""> <expect: none|some|report>
run() {
    local name=$1 mode=$2 expect=$3 img="$work/$1.img" copy="$work/$1.copy.img"
    rm -f "$img" "$copy"
    truncate -s 512M "$img"
    mkfs.ext4 -q -F "$img"
    attach "$img"
    mkdir -p "$mnt/store"
    export MN_POWERCUT_STORE="$mnt/store" MN_POWERCUT_SYNC="$mode" MN_POWERCUT_EXPECT="$expect"
    export MN_POWERCUT_ACKED="$work/$name.acked.json"
    export MN_POWERCUT_SNAPSHOT="cp --sparse=always '$img' '$copy'"
    MN_POWERCUT_PHASE=publish "$here/../go/run_go.sh" "$server" "$gowork" \
        -run '^TestJSPowerCutPhase$' > "$work/$name.publish.log" 2>&1 ||
        { cat "$work/$name.publish.log"; echo "FAIL: $name: publish phase"; exit 1; }
    detach
    rm -f "$img"
    attach "$copy" copy
    MN_POWERCUT_PHASE=verify "$here/../go/run_go.sh" "$server" "$gowork" \
        -run '^TestJSPowerCutPhase$' > "$work/$name.verify.log" 2>&1 ||
        { cat "$work/$name.verify.log"; echo "FAIL: $name: verify phase"; exit 1; }
    detach
    rm -f "$copy"
    echo "$name: $(grep '^POWERCUT' "$work/$name.verify.log")" \
        "($(grep '^POWERCUT-KILL' "$work/$name.publish.log" | cut -d' ' -f2) at the kill)"
}

flavour="${MN_TEST_FLAVOUR:-}"
if [ -z "$flavour" ]; then
    if "$server" --version 2>&1 | grep -qi modnats; then flavour=modnats
    else flavour=nats-server; fi
fi
# MN_POWERCUT_SYNCFS: the stream and consumer are synced before the
# publishes (else the interval mode and nats-server may lose the stream
# itself, which hides the figure).  big: 8 KiB messages, ~100 MB, past
# RocksDB's 64 MiB memtable, so a memtable flush and a new WAL happen.
if [ "$flavour" = modnats ]; then
    run always "" none
    MN_POWERCUT_SIZE=8192 MN_POWERCUT_MSGS=12000 run big always none
    MN_POWERCUT_SYNCFS=1 run interval interval some
else
    MN_POWERCUT_SYNCFS=1 run reference "" report
fi
failed=0
echo "PASS"
