// nsread's shared declarations: the request handlers of each part and the helpers they share.
// nsread.c (requests, replies, host namespaces), nsread-net.c (network namespaces over netlink),
// nsread-ns.c (UTS and user namespaces: uname, ioctl), nsread-procs.c (/proc/<pid> batches and
// what is kept of them between rounds). Compiled together: cc -o nsread nsread*.c.
#ifndef NSREAD_H
#define NSREAD_H
#define _GNU_SOURCE
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE 16384
#define MAX_CMDLINE 4096

/* The reader's own (the host's) namespaces, opened at start: it returns to them after each read. */
extern int host_net, host_uts;
extern dev_t nsfs_dev;
/* Its own and the host init's namespace inodes: never read through a request. */
extern ino_t own_net, own_uts, init_net, init_uts;

unsigned long long mono_ns(void);
void put_json_string(FILE *out, const char *s, size_t max);
void put_hex(FILE *out, const char *buf, ssize_t n);
void reply_error(long id, const char *what);
ino_t inode_of(const char *path);
int open_proven(const char *path, unsigned long inode, ino_t own, ino_t init, const char **why);
ssize_t read_small(const char *file, char *buf, size_t max);

void read_net(long id, const char *path, unsigned long inode, int with_links);
void read_uts(long id, const char *path, unsigned long inode);
void read_userns(long id, const char *path, unsigned long inode);
void procs_init(void);
void read_procs(long id, char *list, unsigned long tag);
void drop_tag(long id, unsigned long tag);

#endif
