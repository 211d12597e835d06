// nsread: the grader's reader of network and UTS namespaces, without one exec per namespace.
//
// A long-lived child of the agent (root, on the host). One request per line on stdin:
//     <id> net <path> <inode>      the links and addresses of that network namespace
//     <id> uts <path> <inode>      the hostname of that UTS namespace
// and one JSON line per request on stdout:
//     {"id":N,"ok":true,"total":T,"links":[...]}   the first 256 of T links, in the shape of `ip -j -d addr show` (the subset the
//                                        agent reads: ifindex, ifname, flags, mtu, operstate,
//                                        address, master, link_index, link, link_netnsid,
//                                        linkinfo.info_kind, addr_info[family, local, prefixlen])
//     {"id":N,"ok":true,"hostname":"..."}
//   <id> procs <pid,pid,...> 0   /proc/<pid>/{status,comm,cmdline,ns/*} of these host PIDs (the
//                                sandbox's cgroup lists them), one object each, in order:
//     {"id":N,"ok":true,"procs":[{"pid":P,"status":"...","comm":"<hex>","cmdline":"<hex>","ns":{...}}|null, ...]}
//     status holds the lines the grader reads (NSpid, PPid, Uid, State, CapEff); comm and cmdline
//     are hex (the agent decodes them exactly as it decodes a /proc read); null: the process is gone.
//     {"id":N,"ok":false,"error":"..."}
//
// Safety: <path> is opened and must be an nsfs file with exactly <inode> (the agent found that
// inode inside the sandbox; a reused PID or a learner's symlink can only make the check fail), and
// never the reader's own (the host's) namespace. The reader joins the namespace only for as long
// as it takes to create a netlink socket (a socket stays in the namespace it was made in) or to
// call uname(2), then returns to the host's namespaces at once; it holds no reference afterwards,
// so it never keeps a learner's namespace alive. It opens no other files, makes no connections
// and writes nothing but stdout. Output is bounded (interfaces, addresses, string lengths).
#define _GNU_SOURCE
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#define NSREAD_MAX_LINKS 256
#define MAX_ADDRS 32
#define MAX_LINE 16384
#define MAX_CMDLINE 4096

struct addr {
  int family;
  unsigned char prefixlen;
  char text[64];
};

struct link {
  int ifindex;
  char name[IFNAMSIZ + 1];
  unsigned int flags;
  int mtu;
  int operstate;
  char mac[3 * 32];
  int master;
  int link_index;
  int has_netnsid;
  int netnsid;
  char kind[32];
  int naddrs;
  struct addr addrs[MAX_ADDRS];
};

static struct link links[NSREAD_MAX_LINKS];
static int nlinks, nseen;
static int host_net = -1, host_uts = -1;
static dev_t nsfs_dev;
static ino_t own_net, own_uts, init_net, init_uts;

static void put_json_string(FILE *out, const char *s, size_t max) {
  fputc('"', out);
  for (size_t i = 0; i < max && s[i]; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
    else if (c < 0x20 || c >= 0x7f) fprintf(out, "\\u%04x", c);
    else fputc(c, out);
  }
  fputc('"', out);
}

static void reply_error(long id, const char *what) {
  printf("{\"id\":%ld,\"ok\":false,\"error\":", id);
  put_json_string(stdout, what, 200);
  printf("}\n");
}

static ino_t inode_of(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? st.st_ino : 0;
}

/** Opens path and proves it is the nsfs file with this inode, and not the host's namespace. */
static int open_proven(const char *path, unsigned long inode, ino_t own, ino_t init, const char **why) {
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

static struct link *find_link(int ifindex) {
  for (int i = 0; i < nlinks; i++)
    if (links[i].ifindex == ifindex) return &links[i];
  return NULL;
}

static void parse_link(struct nlmsghdr *h) {
  struct ifinfomsg *ifi = NLMSG_DATA(h);
  nseen++;
  if (nlinks >= NSREAD_MAX_LINKS) return;
  struct link *l = &links[nlinks];
  memset(l, 0, sizeof *l);
  l->ifindex = ifi->ifi_index;
  l->flags = ifi->ifi_flags;
  l->operstate = -1;
  int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *ifi));
  for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    void *data = RTA_DATA(a);
    int dlen = (int)RTA_PAYLOAD(a);
    switch (a->rta_type) {
      case IFLA_IFNAME:
        snprintf(l->name, sizeof l->name, "%.*s", dlen, (char *)data);
        break;
      case IFLA_MTU:
        if (dlen >= 4) l->mtu = *(int *)data;
        break;
      case IFLA_OPERSTATE:
        if (dlen >= 1) l->operstate = *(unsigned char *)data;
        break;
      case IFLA_MASTER:
        if (dlen >= 4) l->master = *(int *)data;
        break;
      case IFLA_LINK:
        if (dlen >= 4) l->link_index = *(int *)data;
        break;
      case IFLA_LINK_NETNSID:
        if (dlen >= 4) {
          l->has_netnsid = 1;
          l->netnsid = *(int *)data;
        }
        break;
      case IFLA_ADDRESS: {
        int n = dlen > 31 ? 31 : dlen;
        char *p = l->mac;
        for (int i = 0; i < n; i++) p += sprintf(p, i ? ":%02x" : "%02x", ((unsigned char *)data)[i]);
        break;
      }
      case IFLA_LINKINFO: {
        int ilen = dlen;
        for (struct rtattr *b = data; RTA_OK(b, ilen); b = RTA_NEXT(b, ilen)) {
          if (b->rta_type == IFLA_INFO_KIND) snprintf(l->kind, sizeof l->kind, "%.*s", (int)RTA_PAYLOAD(b), (char *)RTA_DATA(b));
        }
        break;
      }
    }
  }
  // The kernel's IFLA_INFO_KIND may carry its NUL inside the payload: trimmed by %.*s + snprintf.
  nlinks++;
}

static void parse_addr(struct nlmsghdr *h) {
  struct ifaddrmsg *ifa = NLMSG_DATA(h);
  if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) return;
  struct link *l = find_link((int)ifa->ifa_index);
  if (!l || l->naddrs >= MAX_ADDRS) return;
  int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *ifa));
  const unsigned char *local = NULL, *address = NULL;
  for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    int need = ifa->ifa_family == AF_INET ? 4 : 16;
    if ((int)RTA_PAYLOAD(a) < need) continue;
    if (a->rta_type == IFA_LOCAL) local = RTA_DATA(a);
    else if (a->rta_type == IFA_ADDRESS) address = RTA_DATA(a);
  }
  const unsigned char *shown = local ? local : address; // as `ip`: the local address when there is one
  if (!shown) return;
  struct addr *out = &l->addrs[l->naddrs++];
  out->family = ifa->ifa_family;
  out->prefixlen = ifa->ifa_prefixlen;
  if (ifa->ifa_family == AF_INET) {
    snprintf(out->text, sizeof out->text, "%u.%u.%u.%u", shown[0], shown[1], shown[2], shown[3]);
  } else {
    // RFC 5952 text, as inet_ntop gives it (and as `ip` prints).
    char buf[64];
    if (!inet_ntop(AF_INET6, shown, buf, sizeof buf)) buf[0] = 0;
    snprintf(out->text, sizeof out->text, "%s", buf);
  }
}

/** Sends one dump request and feeds every answer to parse; 0 on success. */
static int dump(int sock, int type, void (*parse)(struct nlmsghdr *), const char **why) {
  struct {
    struct nlmsghdr h;
    union {
      struct ifinfomsg ifi;
      struct ifaddrmsg ifa;
    } u;
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_type = (unsigned short)type;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = (unsigned int)type;
  if (type == RTM_GETLINK) {
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    req.u.ifi.ifi_family = AF_UNSPEC;
  } else {
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
    req.u.ifa.ifa_family = AF_UNSPEC;
  }
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(sock, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    *why = "netlink send failed";
    return -1;
  }
  static char buf[1 << 16] __attribute__((aligned(4)));
  for (;;) {
    ssize_t n = recv(sock, buf, sizeof buf, 0);
    if (n < 0) {
      *why = errno == EAGAIN || errno == EWOULDBLOCK ? "netlink timeout" : "netlink receive failed";
      return -1;
    }
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned int)len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) {
        *why = "netlink error";
        return -1;
      }
      if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_NEWADDR) parse(h);
    }
  }
}

static const char *operstate_name(int s) {
  static const char *names[] = {"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"};
  return s >= 0 && s <= 6 ? names[s] : "UNKNOWN";
}

/** Flag names in the order `ip` prints them (print_link_flags in iproute2); M-DOWN: the link it
 * sits on (same namespace) is down. */
static void put_flags(unsigned int flags, int mdown) {
  static const struct {
    unsigned int bit;
    const char *name;
  } table[] = {
      {IFF_LOOPBACK, "LOOPBACK"}, {IFF_BROADCAST, "BROADCAST"}, {IFF_POINTOPOINT, "POINTOPOINT"},
      {IFF_MULTICAST, "MULTICAST"}, {IFF_NOARP, "NOARP"}, {IFF_ALLMULTI, "ALLMULTI"},
      {IFF_PROMISC, "PROMISC"}, {IFF_MASTER, "MASTER"}, {IFF_SLAVE, "SLAVE"},
      {IFF_DEBUG, "DEBUG"}, {IFF_DYNAMIC, "DYNAMIC"}, {IFF_AUTOMEDIA, "AUTOMEDIA"},
      {IFF_PORTSEL, "PORTSEL"}, {IFF_NOTRAILERS, "NOTRAILERS"}, {IFF_UP, "UP"},
      {IFF_LOWER_UP, "LOWER_UP"}, {IFF_DORMANT, "DORMANT"}, {IFF_ECHO, "ECHO"},
  };
  int first = 1;
  fputc('[', stdout);
  if ((flags & IFF_UP) && !(flags & IFF_RUNNING)) {
    fputs("\"NO-CARRIER\"", stdout);
    first = 0;
  }
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    if (!(flags & table[i].bit)) continue;
    printf("%s\"%s\"", first ? "" : ",", table[i].name);
    first = 0;
  }
  if (mdown) printf("%s\"M-DOWN\"", first ? "" : ",");
  fputc(']', stdout);
}

static void read_net(long id, const char *path, unsigned long inode) {
  const char *why = NULL;
  int fd = open_proven(path, inode, own_net, init_net, &why);
  if (fd < 0) return reply_error(id, why);
  int sock = -1;
  if (setns(fd, CLONE_NEWNET) == 0) {
    sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    int back = setns(host_net, CLONE_NEWNET);
    if (back != 0) {
      // Never stay in a learner's namespace: give up the whole process.
      fprintf(stderr, "nsread: cannot return to the host network namespace: %s\n", strerror(errno));
      _exit(70);
    }
  } else {
    why = "setns failed";
  }
  close(fd);
  if (sock < 0) return reply_error(id, why ? why : "netlink socket failed");
  struct timeval tv = {.tv_sec = 2, .tv_usec = 0};
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  nlinks = 0;
  nseen = 0;
  int ok = dump(sock, RTM_GETLINK, parse_link, &why) == 0 && dump(sock, RTM_GETADDR, parse_addr, &why) == 0;
  close(sock);
  if (!ok) return reply_error(id, why);
  printf("{\"id\":%ld,\"ok\":true,\"total\":%d,\"links\":[", id, nseen);
  for (int i = 0; i < nlinks; i++) {
    struct link *l = &links[i];
    printf("%s{\"ifindex\":%d,\"ifname\":", i ? "," : "", l->ifindex);
    put_json_string(stdout, l->name, IFNAMSIZ);
    fputs(",\"flags\":", stdout);
    struct link *under = l->link_index > 0 && l->link_index != l->ifindex && !l->has_netnsid ? find_link(l->link_index) : NULL;
    put_flags(l->flags, under && !(under->flags & IFF_UP));
    printf(",\"mtu\":%d,\"operstate\":\"%s\"", l->mtu, operstate_name(l->operstate));
    if (l->mac[0]) printf(",\"address\":\"%s\"", l->mac);
    if (l->master > 0) {
      struct link *m = find_link(l->master);
      if (m) {
        fputs(",\"master\":", stdout);
        put_json_string(stdout, m->name, IFNAMSIZ);
      }
    }
    if (l->link_index > 0 && l->link_index != l->ifindex) {
      if (l->has_netnsid) {
        printf(",\"link_index\":%d,\"link_netnsid\":%d", l->link_index, l->netnsid);
      } else {
        struct link *peer = find_link(l->link_index);
        printf(",\"link_index\":%d", l->link_index);
        if (peer) {
          fputs(",\"link\":", stdout);
          put_json_string(stdout, peer->name, IFNAMSIZ);
        }
      }
    }
    if (l->kind[0]) {
      fputs(",\"linkinfo\":{\"info_kind\":", stdout);
      put_json_string(stdout, l->kind, sizeof l->kind);
      fputc('}', stdout);
    }
    fputs(",\"addr_info\":[", stdout);
    for (int k = 0; k < l->naddrs; k++) {
      printf("%s{\"family\":\"%s\",\"local\":\"%s\",\"prefixlen\":%u}", k ? "," : "", l->addrs[k].family == AF_INET ? "inet" : "inet6",
             l->addrs[k].text, l->addrs[k].prefixlen);
    }
    fputs("]}", stdout);
  }
  fputs("]}\n", stdout);
}

static void read_uts(long id, const char *path, unsigned long inode) {
  const char *why = NULL;
  int fd = open_proven(path, inode, own_uts, init_uts, &why);
  if (fd < 0) return reply_error(id, why);
  struct utsname u;
  int got = -1;
  if (setns(fd, CLONE_NEWUTS) == 0) {
    got = uname(&u);
    if (setns(host_uts, CLONE_NEWUTS) != 0) {
      fprintf(stderr, "nsread: cannot return to the host UTS namespace: %s\n", strerror(errno));
      _exit(70);
    }
  }
  close(fd);
  if (got != 0) return reply_error(id, "setns failed");
  printf("{\"id\":%ld,\"ok\":true,\"hostname\":", id);
  put_json_string(stdout, u.nodename, 64);
  fputs("}\n", stdout);
}


static const char *ns_types[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"};

/** Reads at most max bytes of a /proc file; -1 when it cannot be opened. */
static ssize_t read_small(const char *file, char *buf, size_t max) {
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

static void put_hex(FILE *out, const char *buf, ssize_t n) {
  static const char digits[] = "0123456789abcdef";
  fputc('"', out);
  for (ssize_t i = 0; i < n; i++) {
    fputc(digits[((unsigned char)buf[i]) >> 4], out);
    fputc(digits[((unsigned char)buf[i]) & 15], out);
  }
  fputc('"', out);
}

static int put_proc(FILE *out, long pid) {
  char file[64], status[8192], comm[64], cmdline[MAX_CMDLINE];
  snprintf(file, sizeof file, "/proc/%ld/status", pid);
  ssize_t ns = read_small(file, status, sizeof status - 1);
  if (ns < 0) return 0;
  status[ns] = 0;
  // comm from status's Name line (one file fewer per process): the kernel escapes only newline and
  // backslash there (proc_task_name: seq_escape_str(..., "\n\\")), so this gives /proc/PID/comm.
  ssize_t nc = 0;
  char *name = strncmp(status, "Name:\t", 6) == 0 ? status + 6 : strstr(status, "\nName:\t");
  if (!name) return 0;
  if (name != status + 6) name += 7;
  for (; *name && *name != '\n' && nc < (ssize_t)sizeof comm - 2; name++) {
    if (name[0] == '\\' && name[1] == 'n') comm[nc++] = '\n', name++;
    else if (name[0] == '\\' && name[1] == '\\') comm[nc++] = '\\', name++;
    else comm[nc++] = *name;
  }
  comm[nc++] = '\n';
  snprintf(file, sizeof file, "/proc/%ld/cmdline", pid);
  ssize_t nl = read_small(file, cmdline, sizeof cmdline);
  if (nl < 0) nl = 0;
  fprintf(out, "{\"pid\":%ld,\"status\":\"", pid);
  // Only the lines the grader reads, as plain text (digits, spaces, tabs, hex, letters).
  static const char *keep[] = {"NSpid:", "PPid:", "Uid:", "State:", "CapEff:"};
  for (char *line = status; line && *line;) {
    char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
      size_t kl = strlen(keep[k]);
      if (len >= kl && strncmp(line, keep[k], kl) == 0) {
        for (size_t i = 0; i < len; i++) {
          unsigned char c = (unsigned char)line[i];
          if (c == '\t') fputs("\\t", out);
          else if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') fputc(c, out);
        }
        fputs("\\n", out);
      }
    }
    line = end ? end + 1 : NULL;
  }
  fputs("\",\"comm\":", out);
  put_hex(out, comm, nc);
  fputs(",\"cmdline\":", out);
  put_hex(out, cmdline, nl);
  fputs(",\"ns\":{", out);
  int first = 1;
  for (size_t t = 0; t < sizeof ns_types / sizeof ns_types[0]; t++) {
    char link[128];
    snprintf(file, sizeof file, "/proc/%ld/ns/%s", pid, ns_types[t]);
    ssize_t r = readlink(file, link, sizeof link - 1);
    if (r <= 0) continue;
    link[r] = 0;
    char *open_b = strchr(link, '[');
    if (!open_b) continue;
    unsigned long long inode = strtoull(open_b + 1, NULL, 10);
    if (!inode) continue;
    fprintf(out, "%s\"%s\":%llu", first ? "" : ",", ns_types[t], inode);
    first = 0;
  }
  fputs("}}", out);
  return 1;
}

#define MAX_PROCS 2048

struct proc_job {
  long pids[MAX_PROCS];
  char *text[MAX_PROCS];
  size_t len[MAX_PROCS];
  int n;
  int next; /* taken with __atomic_fetch_add */
};

static void *proc_worker(void *arg) {
  struct proc_job *job = arg;
  for (;;) {
    int i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
    if (i >= job->n) return NULL;
    FILE *out = open_memstream(&job->text[i], &job->len[i]);
    if (!out) continue;
    if (!put_proc(out, job->pids[i])) {
      rewind(out);
      fputs("null", out);
    }
    fclose(out);
    // A process that vanished mid-read may have left a partial object before "null": keep only
    // what follows the last rewind (open_memstream keeps the length at the current position).
  }
}

static struct proc_job job;

/** Reads the processes on up to 4 threads (the reads are ~16 syscalls each; the cores are idle). */
static void read_procs(long id, char *list) {
  job.n = 0;
  job.next = 0;
  for (char *tok = strtok(list, ","); tok && job.n < MAX_PROCS; tok = strtok(NULL, ",")) {
    char *end;
    long pid = strtol(tok, &end, 10);
    if (*end || pid <= 0) continue;
    job.pids[job.n] = pid;
    job.text[job.n] = NULL;
    job.len[job.n] = 0;
    job.n++;
  }
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int threads = job.n < 32 ? 1 : (int)(cpus < 1 ? 1 : cpus > 4 ? 4 : cpus);
  pthread_t tids[4];
  int started = 0;
  for (int t = 1; t < threads; t++) {
    if (pthread_create(&tids[started], NULL, proc_worker, &job) == 0) started++;
  }
  proc_worker(&job);
  for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
  printf("{\"id\":%ld,\"ok\":true,\"procs\":[", id);
  for (int i = 0; i < job.n; i++) {
    if (i) fputc(',', stdout);
    if (job.text[i]) fwrite(job.text[i], 1, job.len[i], stdout);
    else fputs("null", stdout);
    free(job.text[i]);
  }
  fputs("]}\n", stdout);
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
      read_net(id, path, inode);
    } else if (strcmp(kind, "uts") == 0) {
      read_uts(id, path, inode);
    } else if (strcmp(kind, "procs") == 0) {
      read_procs(id, path);
    } else {
      reply_error(id, "unknown kind");
    }
    fflush(stdout);
  }
  return 0;
}
