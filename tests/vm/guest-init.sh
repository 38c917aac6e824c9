#!/bin/bash
# /init of the test guest (see build-guest.sh). Kernel command line options:
#   vm.name=NAME        hostname
#   vm.ip0=ADDR/PFX     address of the first NIC (vm.ip1= for the second, ...)
#   vm.run=PATH         run this script with bash, print "L2TP_VM_EXIT=<status>", power off
# Without vm.run it starts a shell on the console. The 9p share tagged "host", if any, is
# mounted on /mnt/host.
export PATH=/usr/sbin:/usr/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/net /run/xl2tpd
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp

arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^vm\.$1=//p" | tail -1; }

for m in virtio_pci virtio_net 9pnet_virtio 9p veth bridge 8021q tun \
         l2tp_core l2tp_netlink l2tp_eth l2tp_ip l2tp_ip6 l2tp_ppp ppp_generic pppox ppp_async; do
    modprobe "$m" || echo "init: modprobe $m failed"
done
[ -c /dev/ppp ] || mknod /dev/ppp c 108 0
[ -c /dev/net/tun ] || mknod /dev/net/tun c 10 200

if grep -qs host /sys/bus/virtio/drivers/9pnet_virtio/virtio*/mount_tag; then
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 host /mnt/host || echo "init: 9p mount failed"
fi

hn=$(arg name); hostname "${hn:-guest}"
ip link set lo up
i=0
for dev in $(ls /sys/class/net | grep '^eth' | sort -V); do
    ip link set "$dev" up
    a=$(arg "ip$i"); [ -z "$a" ] || ip addr add "$a" dev "$dev"
    i=$((i + 1))
done
echo "init: ready at $(cut -d' ' -f1 /proc/uptime)s uptime, kernel $(uname -r)"

run=$(arg run)
if [ -n "$run" ]; then
    cd /tmp && bash "$run"
    rc=$?
    echo "L2TP_VM_EXIT=$rc"
else
    # interactive; setsid + cttyhack give the shell a controlling tty (job control, ^C)
    setsid cttyhack /usr/bin/bash -l
fi
sync
poweroff -f
