# nslab sandbox setup. Runs as /bin/sh -c "<this text>" as PID 1 of the sandbox's new PID namespace,
# uid 0 of its new user namespace (full capabilities there, none on the host), inside its new mount
# (already recursively private), uts, ipc, net and cgroup namespaces. The driver's first stage
# (FALLBACK_OUTER in unshare-driver.ts), as host root in a mount namespace the host owns, already
# made the size-capped tmpfs root from the template, /usr read-only, the empty /usr/local and the
# device binds: in this mount namespace, owned by the sandbox's user namespace, they are LOCKED
# (no umount, no remount that clears ro/nosuid/nodev). This script adds the sandbox's own mounts,
# pivots into the root, prints "ready" and execs the sandbox init. Every exec costs ~8 ms on our VMs,
# so this uses builtins wherever it can (see SANDBOX.md).
#
# Arguments: $1 rootfs mount point (the tmpfs root, mounted there by the first stage)
#            $2 hostname   $3 writable layer bytes   $4 writable layer inodes   $5 /dev/shm bytes
#            $6 template directory (already copied by the first stage)
set -eu
R=$1 HN=$2 SHM=$5

hostname "$HN" & # in parallel with the rest (2 cores); awaited before "ready"
HPID=$!
# pivot_root refuses a locked new root: bind the root onto itself (recursively, so /usr and the
# device binds come along, still locked) and work in that bind, whose top is not locked.
mount --rbind "$R" "$R"
cd "$R"
echo "$HN" >etc/hostname
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$HN" >etc/hosts

# All mounts in one mount(8) call (libmount wants a regular file: the table is written under
# proc/, which the proc mount then covers). A fresh proc with nothing over it, so a nested
# `unshare -p --mount-proc` works. A fresh sysfs at /sys, read-only, and the same sysfs again at
# /run/.sys: `ip netns exec` unmounts /sys and mounts a new sysfs, which the kernel allows in a user
# namespace only while another sysfs mount stays fully visible. The last line mounts this netns's
# sysfs over the old root's /sys (detached below) so lo can be brought up with a builtin echo.
{
  echo "devpts $R/dev/pts devpts newinstance,ptmxmode=0666,mode=620,gid=5,nosuid,noexec 0 0"
  echo "shm $R/dev/shm tmpfs size=$SHM,nr_inodes=4096,mode=1777,nosuid,nodev 0 0"
  echo "mqueue $R/dev/mqueue mqueue nosuid,nodev,noexec 0 0"
  echo "proc $R/proc proc nosuid,nodev,noexec 0 0"
  echo "sysfs $R/sys sysfs nosuid,nodev,noexec 0 0"
  echo "$R/sys $R/run/.sys none bind,ro,nosuid,nodev,noexec 0 0"
  echo "$R/sys $R/sys none bind,remount,ro,nosuid,nodev,noexec 0 0"
  echo "nslab-sys /sys sysfs nosuid,nodev,noexec 0 0"
} >proc/.fstab
mount -a -T proc/.fstab
echo 0x9 >/sys/class/net/lo/flags # IFF_UP|IFF_LOOPBACK: `ip link set lo up` without an exec

pivot_root . .
umount -l .
cd /root
wait "$HPID"
echo ready
# The init, PID 1 of the sandbox (/etc/nslab/init): ignores what it can from inside (SIGKILL from
# inside a PID namespace never reaches its init), reaps orphans, and starts no `sleep` of its own
# (the exercise asks learners to find THEIR sleep). Its cwd (/root) is where `nsenter -w` starts
# new shells.
exec /bin/bash --norc --noprofile /etc/nslab/init </dev/null >/dev/null 2>&1
