#!/bin/sh
# CI boot test only: reports what the harness cannot see from outside the guest.
echo "Content-Type: text/plain"
echo
echo "root-mount: $(awk '$2 == "/" {print $1, $3, $4}' /proc/mounts | tail -1)"
if touch /.cuttle-rw-probe 2>/dev/null; then echo "root-write: allowed"; rm -f /.cuttle-rw-probe; else echo "root-write: refused"; fi
echo "data-mount: $(awk '$2 == "/data" {print $1, $3, $4}' /proc/mounts)"
echo "data-size: $(df -k /data | awk 'NR==2 {print $2}')"
echo "boot-mount: $(awk '$2 == "/boot" {print $1, $3, $4}' /proc/mounts)"
echo "hostname: $(hostname)"
echo "gpiochip: $(ls /dev/gpiochip* 2>/dev/null | tr '\n' ' ')"
echo "gpio-debug:"
cat /sys/kernel/debug/gpio 2>/dev/null
