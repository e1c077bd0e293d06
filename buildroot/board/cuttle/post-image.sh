#!/bin/bash
# cuttle post-image: lay out sdcard.img with firmware-image/mkimage (the same genimage.cfg
# the CI boot test uses). Boot files: the firmware, config.txt and cmdline.txt from
# images/rpi-firmware, the DTBs and the kernel named in config.txt.
set -euo pipefail
cd "$BINARIES_DIR"
files=()
for f in *.dtb rpi-firmware/*; do
	[[ -e $f ]] && files+=("$f")
done
kernel=$(sed -n 's/^kernel=//p' rpi-firmware/config.txt | tail -1)
[[ -n $kernel && -e $kernel ]] || { echo "post-image: kernel \"$kernel\" from config.txt not in $BINARIES_DIR" >&2; exit 1; }
files+=("$kernel")
# The data partition starts empty; systemd-tmpfiles creates /data/cuttle on first boot.
rm -rf data-tree && mkdir -p data-tree
"$BR2_EXTERNAL_CUTTLE_PATH/../firmware-image/mkimage" "$BINARIES_DIR" "$BINARIES_DIR/data-tree" "${files[@]}"
echo "post-image: $BINARIES_DIR/sdcard.img"
