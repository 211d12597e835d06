// nsread: the grader's reader of network and UTS namespaces, without one exec per namespace.
//
// A long-lived child of the agent (root, on the host). One request per line on stdin:
//     <id> net <path> <inode>      the links and addresses of that network namespace
//     <id> uts <path> <inode>      the hostname of that UTS namespace
// and one JSON line per request on stdout:
//     {"id":N,"ok":true,"total":T,"routes":R,"fp":"<hex>","links":[...]}   the first 256 of T links, in the shape of `ip -j -d addr show` (the subset the
//                                        agent reads: ifindex, ifname, flags, mtu, operstate,
//                                        address, master, link_index, link, link_netnsid,
//                                        linkinfo.info_kind, addr_info[family, local, prefixlen])
//     {"id":N,"ok":true,"hostname":"...","owner":U}   U: inode of the user namespace that owns that UTS
//                                        namespace (ioctl NS_GET_USERNS; 0 when unknown)
//   <id> netfp <path> <inode>      the same read, answered without the links (for change detection):
//     {"id":N,"ok":true,"total":T,"routes":R,"fp":"<hex>"}
//     Bounded work (issue 12: a learner's kernel state must not cost the grader unbounded time):
//     the link dump stops after MAX_LINKS_SEEN links ("linksCapped":true), the address dump after
//     MAX_ADDRS_SEEN addresses, the route dump (routes are only counted) after MAX_ROUTES_SEEN
//     routes ("routesCapped":true: the namespace holds more than the grader checks), and the whole
//     read after NET_READ_BUDGET_NS ("error":"netlink dump took too long"). Each dump has its own
//     socket, closed as soon as it is cut, so the kernel stops walking. fp is a 64-bit FNV-1a hash
//     of the links JSON (what the snapshot is built from), so two reads with the same fp report
//     the same links and addresses.
//   <id> procs <pid,pid,...> <tag>   /proc/<pid>/{status,comm,cmdline,ns/*} of these host PIDs (the
//                                sandbox's cgroup lists them), one object each, in order:
//     {"id":N,"ok":true,"nsReused":R,"procs":[{"pid":P,"status":"...","comm":"<hex>","cmdline":"<hex>","ns":{...},"exe":E}|null, ...]}
//     E: the program the process runs, from /proc/<pid>/exe as the host sees it: {"path":"<hex>",
//     "dev":D,"ino":I} (readlink(2) and stat(2) of that link: the file's device and inode, which the
//     learner cannot forge with comm, argv[0] or a symlink), or null when it cannot be read.
//     <tag> (one per sandbox; 0: none) lets the next round of the same tag reuse what is provably
//     unchanged (see "What makes reading a process cheap on repeat" below); R counts the processes
//     whose namespace links were reused.
//   <id> userns <path> <inode>   owner and parent of that user namespace (ioctl NS_GET_OWNER_UID,
//                                NS_GET_PARENT; -1 when the kernel will not say):
//     {"id":N,"ok":true,"ownerUid":U,"parent":P}
//   <id> drop - <tag>            releases what is held for that tag: {"id":N,"ok":true}
//     status holds the lines the grader reads (NSpid, PPid, Uid, State, CapEff); comm and cmdline
//     are hex (the agent decodes them exactly as it decodes a /proc read); null: the process is gone.
//     {"id":N,"ok":false,"error":"..."}
//
// Safety: <path> is opened and must be an nsfs file with exactly <inode> (the agent found that
// inode inside the sandbox; a reused PID or a learner's symlink can only make the check fail), and
// never the reader's own (the host's) namespace. The reader joins the namespace only for as long
// as it takes to create a netlink socket (a socket stays in the namespace it was made in) or to
// call uname(2), then returns to the host's namespaces at once; it holds no reference afterwards,
// so it never keeps a learner's namespace alive. The only files it keeps open are /proc files of
// processes asked for under a tag, released as described below. It makes no connections and
// writes nothing but stdout. Output is bounded (interfaces, addresses, string lengths).
//
// The parts: nsread.h lists them. This file: the request loop, replies, the host's namespaces.
#include "nsread.h"

int host_net = -1, host_uts = -1;
dev_t nsfs_dev;
ino_t own_net, own_uts, init_net, init_uts;

void put_json_string(FILE *out, const char *s, size_t max) {
  fputc('"', out);
  for (size_t i = 0; i < max && s[i]; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
    else if (c < 0x20 || c >= 0x7f) fprintf(out, "\\u%04x", c);
    else fputc(c, out);
  }
  fputc('"', out);
}

void reply_error(long id, const char *what) {
  printf("{\"id\":%ld,\"ok\":false,\"error\":", id);
  put_json_string(stdout, what, 200);
  printf("}\n");
}

ino_t inode_of(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? st.st_ino : 0;
}

/** Opens path and proves it is the nsfs file with this inode, and not the host's namespace. */
int open_proven(const char *path, unsigned long inode, ino_t own, ino_t init, const char **why) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    *why = "reader process ended";
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_dev != nsfs_dev || st.st_ino != (ino_t)inode) {
    close(fd);
    *why = "reader process ended";
    return -1;
  }
  if (st.st_ino == own || st.st_ino == init) {
    close(fd);
    *why = "refused: that is the host's namespace";
    return -1;
  }
  return fd;
}

/** Reads at most max bytes of a /proc file; -1 when it cannot be opened. */
ssize_t read_small(const char *file, char *buf, size_t max) {
  int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return -1;
  size_t n = 0;
  while (n < max) {
    ssize_t r = read(fd, buf + n, max - n);
    if (r <= 0) break;
    n += (size_t)r;
    // A short read of a /proc file is its end: skips the extra read that would return 0 (syscalls
    // are most of the cost of a snapshot).
    if ((size_t)r < max - n + (size_t)r) break;
  }
  close(fd);
  return (ssize_t)n;
}

void put_hex(FILE *out, const char *buf, ssize_t n) {
  static const char digits[] = "0123456789abcdef";
  fputc('"', out);
  for (ssize_t i = 0; i < n; i++) {
    fputc(digits[((unsigned char)buf[i]) >> 4], out);
    fputc(digits[((unsigned char)buf[i]) & 15], out);
  }
  fputc('"', out);
}

unsigned long long mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec;
}

int main(void) {
  signal(SIGPIPE, SIG_DFL);
  host_net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  host_uts = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (host_net < 0 || host_uts < 0 || fstat(host_net, &st) != 0) {
    fprintf(stderr, "nsread: cannot open its own namespaces\n");
    return 71;
  }
  nsfs_dev = st.st_dev;
  own_net = st.st_ino;
  own_uts = inode_of("/proc/self/ns/uts");
  init_net = inode_of("/proc/1/ns/net");
  init_uts = inode_of("/proc/1/ns/uts");
  procs_init();
  printf("{\"ready\":true}\n");
  fflush(stdout);
  char line[MAX_LINE];
  while (fgets(line, sizeof line, stdin)) {
    long id = -1;
    char kind[8], path[MAX_LINE];
    unsigned long inode = 0;
    if (sscanf(line, "%ld %7s %16383s %lu", &id, kind, path, &inode) != 4) {
      reply_error(id, "bad request");
    } else if (strcmp(kind, "net") == 0) {
      read_net(id, path, inode, 1);
    } else if (strcmp(kind, "netfp") == 0) {
      read_net(id, path, inode, 0);
    } else if (strcmp(kind, "uts") == 0) {
      read_uts(id, path, inode);
    } else if (strcmp(kind, "userns") == 0) {
      read_userns(id, path, inode);
    } else if (strcmp(kind, "drop") == 0) {
      drop_tag(id, inode);
    } else if (strcmp(kind, "procs") == 0) {
      read_procs(id, path, inode);
    } else {
      reply_error(id, "unknown kind");
    }
    fflush(stdout);
  }
  return 0;
}
