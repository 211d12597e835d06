// nslab-start's shared declarations. starter.c (the create mode's steps, credentials, the
// handshake), starter-mounts.c (the host-provided mounts and PID 1's own), starter-seccomp.c (the
// filter), starter-enter.c (the `enter` mode: a learner shell). Compiled together:
// cc -o nslab-start starter.c starter-*.c.
#ifndef STARTER_H
#define STARTER_H
#define _GNU_SOURCE
#include <dirent.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/fsuid.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void path_join(char *out, size_t size, const char *a, const char *b);
void set_limits(const char *nofile, const char *nproc);
void drop_to(uid_t base);
uid_t parse_uid(const char *s);
int continue_as_parent(pid_t child);

void copy_tree(const char *from, const char *to);
void write_file(const char *file, const char *text);
void do_mount(const char *src, const char *target, const char *type, unsigned long flags, const char *data);
void bind_ro(const char *src, const char *target, unsigned long extra);
void host_mounts(const char *R, const char *DISK, const char *INODES, const char *T, uid_t base);
void setup_and_exec(char **argv) __attribute__((noreturn));

void seccomp_install(void);
int enter_main(int argc, char **argv);

#endif
