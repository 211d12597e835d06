// nsread's network namespace reads: links, addresses and a route count over netlink, bounded
// (see the protocol in nsread.c), printed in the shape of `ip -j -d addr show`.
#include "nsread.h"

#define NSREAD_MAX_LINKS 256
#define MAX_LINKS_SEEN 1024
#define MAX_ADDRS_SEEN 8192
#define MAX_ROUTES_SEEN 10000
#define NET_READ_BUDGET_NS (1000ull * 1000 * 1000)
#define MAX_ADDRS 32

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
static int nlinks, nseen, naddrs_seen, nroutes;
static unsigned long long net_deadline;

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

static void count_route(struct nlmsghdr *h) {
  (void)h;
  nroutes++;
}

static void parse_addr(struct nlmsghdr *h) {
  struct ifaddrmsg *ifa = NLMSG_DATA(h);
  naddrs_seen++;
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

/**
 * Sends one dump request and feeds every answer to parse, until *seen reaches limit. 0: the dump is
 * complete; 1: cut at the limit (the caller closes the socket, which ends the kernel's walk);
 * -1: failed (why says how; also when the read's time budget, net_deadline, is spent).
 */
static int dump(int sock, int type, void (*parse)(struct nlmsghdr *), const int *seen, int limit, const char **why) {
  struct {
    struct nlmsghdr h;
    union {
      struct ifinfomsg ifi;
      struct ifaddrmsg ifa;
      struct rtmsg rtm;
    } u;
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_type = (unsigned short)type;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = (unsigned int)type;
  if (type == RTM_GETLINK) {
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    req.u.ifi.ifi_family = AF_UNSPEC;
  } else if (type == RTM_GETADDR) {
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
    req.u.ifa.ifa_family = AF_UNSPEC;
  } else {
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
    req.u.rtm.rtm_family = AF_UNSPEC;
  }
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(sock, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    *why = "netlink send failed";
    return -1;
  }
  static char buf[1 << 16] __attribute__((aligned(4)));
  for (;;) {
    if (mono_ns() > net_deadline) {
      *why = "netlink dump took too long";
      return -1;
    }
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
      if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_NEWROUTE) {
        if (*seen >= limit) return 1;
        parse(h);
      }
    }
  }
}

static const char *operstate_name(int s) {
  static const char *names[] = {"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"};
  return s >= 0 && s <= 6 ? names[s] : "UNKNOWN";
}

/** Flag names in the order `ip` prints them (print_link_flags in iproute2); M-DOWN: the link it
 * sits on (same namespace) is down. */
static void put_flags(FILE *out, unsigned int flags, int mdown) {
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
  fputc('[', out);
  if ((flags & IFF_UP) && !(flags & IFF_RUNNING)) {
    fputs("\"NO-CARRIER\"", out);
    first = 0;
  }
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    if (!(flags & table[i].bit)) continue;
    fprintf(out, "%s\"%s\"", first ? "" : ",", table[i].name);
    first = 0;
  }
  if (mdown) fprintf(out, "%s\"M-DOWN\"", first ? "" : ",");
  fputc(']', out);
}

/** Prints the links read (the first NSREAD_MAX_LINKS) as a JSON array. */
static void put_links(FILE *out) {
  fputc('[', out);
  for (int i = 0; i < nlinks; i++) {
    struct link *l = &links[i];
    fprintf(out, "%s{\"ifindex\":%d,\"ifname\":", i ? "," : "", l->ifindex);
    put_json_string(out, l->name, IFNAMSIZ);
    fputs(",\"flags\":", out);
    struct link *under = l->link_index > 0 && l->link_index != l->ifindex && !l->has_netnsid ? find_link(l->link_index) : NULL;
    put_flags(out, l->flags, under && !(under->flags & IFF_UP));
    fprintf(out, ",\"mtu\":%d,\"operstate\":\"%s\"", l->mtu, operstate_name(l->operstate));
    if (l->mac[0]) fprintf(out, ",\"address\":\"%s\"", l->mac);
    if (l->master > 0) {
      struct link *m = find_link(l->master);
      if (m) {
        fputs(",\"master\":", out);
        put_json_string(out, m->name, IFNAMSIZ);
      }
    }
    if (l->link_index > 0 && l->link_index != l->ifindex) {
      if (l->has_netnsid) {
        fprintf(out, ",\"link_index\":%d,\"link_netnsid\":%d", l->link_index, l->netnsid);
      } else {
        struct link *peer = find_link(l->link_index);
        fprintf(out, ",\"link_index\":%d", l->link_index);
        if (peer) {
          fputs(",\"link\":", out);
          put_json_string(out, peer->name, IFNAMSIZ);
        }
      }
    }
    if (l->kind[0]) {
      fputs(",\"linkinfo\":{\"info_kind\":", out);
      put_json_string(out, l->kind, sizeof l->kind);
      fputc('}', out);
    }
    fputs(",\"addr_info\":[", out);
    for (int k = 0; k < l->naddrs; k++) {
      fprintf(out, "%s{\"family\":\"%s\",\"local\":\"%s\",\"prefixlen\":%u}", k ? "," : "", l->addrs[k].family == AF_INET ? "inet" : "inet6",
              l->addrs[k].text, l->addrs[k].prefixlen);
    }
    fputs("]}", out);
  }
  fputc(']', out);
}

/** 64-bit FNV-1a. */
static unsigned long long fnv1a(const char *p, size_t n) {
  unsigned long long h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ull;
  }
  return h;
}

/** Reads links, addresses and the route count of a network namespace; with_links: send the links too. */
void read_net(long id, const char *path, unsigned long inode, int with_links) {
  const char *why = NULL;
  int fd = open_proven(path, inode, own_net, init_net, &why);
  if (fd < 0) return reply_error(id, why);
  // One socket per dump (a socket stays in the namespace it was made in): a dump cut at its limit
  // is ended by closing its socket, and the next dump starts on a fresh one.
  int socks[3] = {-1, -1, -1};
  if (setns(fd, CLONE_NEWNET) == 0) {
    for (int i = 0; i < 3; i++) socks[i] = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
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
  if (socks[0] < 0 || socks[1] < 0 || socks[2] < 0) {
    for (int i = 0; i < 3; i++)
      if (socks[i] >= 0) close(socks[i]);
    return reply_error(id, why ? why : "netlink socket failed");
  }
  struct timeval tv = {.tv_sec = 1, .tv_usec = 0};
  for (int i = 0; i < 3; i++) setsockopt(socks[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  nlinks = 0;
  nseen = 0;
  naddrs_seen = 0;
  nroutes = 0;
  net_deadline = mono_ns() + NET_READ_BUDGET_NS;
  int links_cut = 0, routes_cut = 0, ok = 1, r;
  if ((r = dump(socks[0], RTM_GETLINK, parse_link, &nseen, MAX_LINKS_SEEN, &why)) < 0) ok = 0;
  links_cut = r == 1;
  if (ok && dump(socks[1], RTM_GETADDR, parse_addr, &naddrs_seen, MAX_ADDRS_SEEN, &why) < 0) ok = 0;
  if (ok && (r = dump(socks[2], RTM_GETROUTE, count_route, &nroutes, MAX_ROUTES_SEEN, &why)) < 0) ok = 0;
  routes_cut = ok && r == 1;
  for (int i = 0; i < 3; i++) close(socks[i]);
  if (!ok) return reply_error(id, why);
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem) return reply_error(id, "out of memory");
  put_links(mem);
  fclose(mem);
  printf("{\"id\":%ld,\"ok\":true,\"total\":%d,\"routes\":%d%s%s,\"fp\":\"%016llx\"", id, nseen, nroutes,
         links_cut ? ",\"linksCapped\":true" : "", routes_cut ? ",\"routesCapped\":true" : "", fnv1a(text, len));
  if (with_links) {
    fputs(",\"links\":", stdout);
    fwrite(text, 1, len, stdout);
  }
  fputs("}\n", stdout);
  free(text);
}
