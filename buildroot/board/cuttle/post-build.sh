#!/bin/sh
# cuttle post-build: runs with the target tree as $1, after the overlay is copied.
set -eu
TARGET_DIR=$1

# Mount points for the data and boot partitions (rootfs-overlay/etc/systemd/system/*.mount).
mkdir -p "$TARGET_DIR/data" "$TARGET_DIR/boot"

# The root file system is read-only: SSH host keys live on /data so they stay the same
# across boots (dropbear makes them on first start, only when SSH is enabled at all).
rm -rf "$TARGET_DIR/etc/dropbear"
ln -sfn /data/ssh/dropbear "$TARGET_DIR/etc/dropbear"

# No password anywhere: lock root even if a config enabled root login by mistake.
if [ -f "$TARGET_DIR/etc/shadow" ]; then
	sed -i 's/^root:[^:]*:/root:*:/' "$TARGET_DIR/etc/shadow"
fi

# An empty machine-id: systemd uses a transient one on the read-only root.
: > "$TARGET_DIR/etc/machine-id"
