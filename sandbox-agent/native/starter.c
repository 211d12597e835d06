// nslab-start: builds one sandbox in a single program, instead of the chain of execs the shell
// path runs (~8 ms each on our VMs). Same steps, same result, same order as
// sandbox-agent/src/sandbox/rootfs-setup.sh (kept as the fallback; read it for why each mount is there).
//
// Two modes, both spawned by the agent as HOST ROOT (sandbox-agent/SANDBOX.md, "Locked mounts"):
//
//   nslab-start <rootfs> <hostname> <disk bytes> <inodes> <shm bytes> <template dir> <nofile> <uid base> <nproc>
//     1. rlimits (NOFILE, CORE 0, NPROC); waits for "cg" on stdin: the agent has moved it into the
//        sandbox's cgroups, so what it allocates from now on is charged there;
//     2. as host root, in a new mount namespace owned by the HOST user namespace: the size-capped
//        tmpfs root (owned by the sandbox's uid base), the template copied as that uid (fsuid), /usr
//        read-only, an empty read-only tmpfs over /usr/local, the host's null/zero/full/random/
//        urandom/tty bound in. These are the "host-provided" mounts;
//     3. drops to the sandbox's host uid (groups cleared), unshare(CLONE_NEWUSER), waits for "go"
//        (the agent, host root, has written the 0 <base> 65536 uid/gid maps);
//     4. unshare(pid, mount, uts, ipc, net, cgroup): the new mount namespace is owned by the
//        sandbox's user namespace, less privileged than the one that made the mounts of step 2, so
//        the kernel copies them LOCKED (MNT_LOCKED: no umount; MNT_LOCK_READONLY/NOSUID/NODEV/
//        NOEXEC/ATIME: no remount that clears them). Installs the seccomp filter (seccomp_install);
//        forks PID 1 (PR_SET_PDEATHSIG) and waits for it, as `unshare --fork --kill-child`;
//     5. PID 1 binds the root onto itself (pivot_root refuses a locked new root; the bind's top is
//        unlocked, the binds below it stay locked), mounts devpts, shm, mqueue, proc and sysfs (those
//        must belong to the sandbox's own namespaces), brings lo up, pivots, detaches the host tree,
//        prints "ready" and execs the sandbox init.
//
//   nslab-start enter <init host pid> <uid base> <nofile> <nproc> <program> [args...]
//     A learner shell: the caller (host root) has joined the sandbox's cgroups. Opens the init's
//     namespaces and cwd, DROPS TO THE SANDBOX'S HOST UID, then joins its user namespace first (as
//     its owner: capabilities there, none on the host) and every other namespace, becomes uid 0
//     inside, installs the same seccomp filter, forks into the PID namespace and execs the program
//     (as `nsenter --all --wd` does, minus the host-root window). The parent waits and passes on
//     stops and the exit status, as nsenter does.
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

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("nslab-start: ", stderr);
  vfprintf(stderr, fmt, ap);
  if (errno) fprintf(stderr, ": %s", strerror(errno));
  fputc('\n', stderr);
  va_end(ap);
  _exit(1);
}

static void path_join(char *out, size_t size, const char *a, const char *b) {
  if ((size_t)snprintf(out, size, "%s/%s", a, b) >= size) {
    errno = ENAMETOOLONG;
    die("path too long: %s/%s", a, b);
  }
}

/** cp -dR --preserve=mode,timestamps of one template tree (dirs, files, symlinks, FIFOs). */
static void copy_tree(const char *from, const char *to) {
  DIR *dir = opendir(from);
  if (!dir) die("opendir %s", from);
  struct dirent *e;
  while ((e = readdir(dir))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char src[PATH_MAX], dst[PATH_MAX];
    path_join(src, sizeof src, from, e->d_name);
    path_join(dst, sizeof dst, to, e->d_name);
    struct stat st;
    if (lstat(src, &st) != 0) die("lstat %s", src);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (S_ISDIR(st.st_mode)) {
      if (mkdir(dst, 0700) != 0 && errno != EEXIST) die("mkdir %s", dst);
      copy_tree(src, dst);
      if (chmod(dst, st.st_mode & 07777) != 0) die("chmod %s", dst);
      utimensat(AT_FDCWD, dst, times, 0);
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlink(src, target, sizeof target - 1);
      if (n < 0) die("readlink %s", src);
      target[n] = 0;
      if (symlink(target, dst) != 0) die("symlink %s", dst);
      utimensat(AT_FDCWD, dst, times, AT_SYMLINK_NOFOLLOW);
    } else if (S_ISFIFO(st.st_mode)) {
      if (mkfifo(dst, st.st_mode & 07777) != 0) die("mkfifo %s", dst);
      if (chmod(dst, st.st_mode & 07777) != 0) die("chmod %s", dst);
      utimensat(AT_FDCWD, dst, times, 0);
    } else if (S_ISREG(st.st_mode)) {
      int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (in < 0) die("open %s", src);
      int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (out < 0) die("create %s", dst);
      char buf[65536];
      for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0) die("read %s", src);
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
          ssize_t w = write(out, buf + off, (size_t)(n - off));
          if (w < 0) die("write %s", dst);
          off += w;
        }
      }
      if (fchmod(out, st.st_mode & 07777) != 0) die("chmod %s", dst);
      futimens(out, times);
      close(in);
      close(out);
    }
    // Anything else (sockets, devices) is not part of a template: skipped, as it was never made.
  }
  closedir(dir);
}

static void write_file(const char *file, const char *text) {
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) die("open %s", file);
  size_t len = strlen(text);
  if (write(fd, text, len) != (ssize_t)len) die("write %s", file);
  close(fd);
}

static void do_mount(const char *src, const char *target, const char *type, unsigned long flags, const char *data) {
  if (mount(src, target, type, flags, data) != 0) die("mount %s on %s (%s)", src ? src : "-", target, type ? type : "bind");
}

/**
 * A read-only bind mount, as mount(8)'s "bind,ro,...": bind, then remount with the extra flags plus
 * the flags the kernel keeps locked on a mount made in another user namespace (atime, nosuid,
 * nodev, noexec: dropping one of them fails with EPERM).
 */
static void bind_ro(const char *src, const char *target, unsigned long extra) {
  do_mount(src, target, NULL, MS_BIND, NULL);
  struct statvfs sv;
  if (statvfs(target, &sv) != 0) die("statvfs %s", target);
  unsigned long keep = 0;
  if (sv.f_flag & ST_NOSUID) keep |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) keep |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) keep |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) keep |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) keep |= MS_RELATIME;
  do_mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | extra | keep, NULL);
}

// ---------------------------------------------------------------------------------------------
// The seccomp filter (SECURITY.md, "seccomp"): a classic BPF program written by hand (no libseccomp:
// one less build dependency on every host that compiles this file; the program is ~60 instructions).
//   - any other syscall ABI than the native one (i386 `int 0x80` on x86_64, x32): ENOSYS;
//   - socket()/socketpair(): an ALLOWLIST of address families (unix, inet, inet6, netlink, packet),
//     everything else (AF_VSOCK first) EAFNOSUPPORT, as if the family were not built in;
//   - a deny list of calls the course never needs and that reach much kernel code: EPERM.
// Everything else is allowed: the lessons need unshare, setns, mount, pivot_root, ptrace (strace)...
#if defined(__x86_64__)
#define NSLAB_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NSLAB_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef NSLAB_AUDIT_ARCH
static const int denied_calls[] = {
    // kernel replacement, modules
    __NR_kexec_load, __NR_kexec_file_load, __NR_init_module, __NR_finit_module, __NR_delete_module,
    // large kernel attack surfaces no lesson uses
    __NR_bpf, __NR_perf_event_open, __NR_userfaultfd, __NR_io_uring_setup, __NR_io_uring_enter,
    __NR_io_uring_register, __NR_keyctl, __NR_add_key, __NR_request_key,
    // host-global state (the kernel refuses most of them to a user namespace already: belt and braces)
    __NR_open_by_handle_at, __NR_syslog, __NR_acct, __NR_swapon, __NR_swapoff, __NR_quotactl,
#ifdef __NR_quotactl_fd
    __NR_quotactl_fd,
#endif
    __NR_lookup_dcookie, __NR_settimeofday, __NR_clock_settime, __NR_clock_adjtime,
#ifdef __NR_iopl
    __NR_iopl,
#endif
#ifdef __NR_ioperm
    __NR_ioperm,
#endif
#ifdef __NR_uselib
    __NR_uselib,
#endif
};
static const int allowed_families[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET};
#endif

/** Installs the filter (needs CAP_SYS_ADMIN in the caller's user namespace: uid 0 of the sandbox). */
static void seccomp_install(void) {
#ifdef NSLAB_AUDIT_ARCH
  enum { MAXI = 128 };
  struct sock_filter f[MAXI];
  size_t n = 0;
#define EMIT(code, k, jt, jf) (f[n++] = (struct sock_filter)BPF_JUMP((code), (k), (jt), (jf)))
  const unsigned ndeny = sizeof denied_calls / sizeof denied_calls[0];
  const unsigned nfam = sizeof allowed_families / sizeof allowed_families[0];
  EMIT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
  EMIT(BPF_JMP | BPF_JEQ | BPF_K, NSLAB_AUDIT_ARCH, 1, 0);
  EMIT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS, 0, 0); // a foreign ABI (i386 int 0x80)
  EMIT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
#ifdef __x86_64__
  EMIT(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u /* __X32_SYSCALL_BIT */, 0, 1);
  EMIT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS, 0, 0); // the x32 ABI
#endif
  for (unsigned i = 0; i < ndeny; i++) {
    EMIT(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied_calls[i], 0, 1);
    EMIT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM, 0, 0);
  }
  // socket(family, ...) and socketpair(family, ...): the family is an int, so only the low 32 bits
  // of args[0] count (the kernel ignores the upper half; little-endian: the low word comes first).
  EMIT(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 1, 0);
  EMIT(BPF_JMP | BPF_JEQ | BPF_K, __NR_socketpair, 0, (unsigned char)(nfam + 2));
  EMIT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]), 0, 0);
  for (unsigned i = 0; i < nfam; i++) EMIT(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)allowed_families[i], (unsigned char)(nfam - i), 0);
  EMIT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAFNOSUPPORT, 0, 0);
  EMIT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
#undef EMIT
  if (n > MAXI) abort(); // (cannot happen: the lists above are fixed)
  struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) die("seccomp");
#else
#error "nslab-start: no seccomp filter for this architecture (x86_64 and aarch64 only)"
#endif
}

static void set_limits(const char *nofile, const char *nproc) {
  errno = 0;
  rlim_t nf = (rlim_t)strtoul(nofile, NULL, 10), np = (rlim_t)strtoul(nproc, NULL, 10);
  struct rlimit l = {nf, nf};
  if (nf == 0 || setrlimit(RLIMIT_NOFILE, &l) != 0) die("setrlimit RLIMIT_NOFILE %s", nofile);
  // No core files: a crash in the sandbox writes nothing (core_pattern is host-global).
  l.rlim_cur = l.rlim_max = 0;
  if (setrlimit(RLIMIT_CORE, &l) != 0) die("setrlimit RLIMIT_CORE");
  // Counted per user namespace level: set before the sandbox's user namespace exists, it bounds every
  // task of every uid of the sandbox (a second bound next to pids.max; see SANDBOX.md).
  l.rlim_cur = l.rlim_max = np;
  if (np == 0 || setrlimit(RLIMIT_NPROC, &l) != 0) die("setrlimit RLIMIT_NPROC %s", nproc);
}

/** Host root -> the sandbox's host uid, no supplementary groups. */
static void drop_to(uid_t base) {
  if (setgroups(0, NULL) != 0) die("setgroups");
  if (setresgid(base, base, base) != 0) die("setresgid %u", (unsigned)base);
  if (setresuid(base, base, base) != 0) die("setresuid %u", (unsigned)base);
  if (geteuid() != base || getuid() != base) die("still uid %u", (unsigned)geteuid());
}

static uid_t parse_uid(const char *s) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || v < 100000 || v > 0xfffe0000ul) {
    errno = 0;
    die("bad uid base %s", s);
  }
  return (uid_t)v;
}

/** Reads exactly "<word>\n" from stdin (one token of the agent's handshake). */
static void expect_token(const char *word) {
  char buf[8];
  size_t want = strlen(word) + 1, got = 0;
  while (got < want) {
    ssize_t n = read(0, buf + got, want - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  if (got != want || memcmp(buf, word, want - 1) != 0 || buf[want - 1] != '\n') {
    errno = 0;
    die("no %s from the agent", word);
  }
}

/** Step 2: the host-provided mounts, made as host root in a mount namespace the host user namespace owns. */
static void host_mounts(const char *R, const char *DISK, const char *INODES, const char *T, uid_t base) {
  char p[PATH_MAX], opts[256];
  if (unshare(CLONE_NEWNS) != 0) die("unshare mount (host)");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("make mounts private");
  snprintf(opts, sizeof opts, "size=%s,nr_inodes=%s,mode=755,uid=%u,gid=%u", DISK, INODES, (unsigned)base, (unsigned)base);
  do_mount("nslab-root", R, "tmpfs", MS_NOSUID | MS_NODEV, opts);
  // The copy is made as the sandbox's uid (its root): owned by it, writable by it inside.
  setfsgid(base);
  setfsuid(base);
  copy_tree(T, R);
  setfsuid(0);
  setfsgid(0);
  if ((uid_t)setfsuid((uid_t)-1) != 0) die("fsuid not restored");
  path_join(p, sizeof p, R, "usr");
  bind_ro("/usr", p, MS_NOSUID | MS_NODEV);
  path_join(p, sizeof p, R, "usr/local");
  do_mount("nslab-empty", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,nr_inodes=16,mode=755");
  static const char *devs[] = {"null", "zero", "full", "random", "urandom", "tty"};
  for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
    char src[64], rel[32];
    snprintf(src, sizeof src, "/dev/%s", devs[i]);
    snprintf(rel, sizeof rel, "dev/%s", devs[i]);
    path_join(p, sizeof p, R, rel);
    do_mount(src, p, NULL, MS_BIND, NULL);
  }
}

/** Step 5, in PID 1 of the sandbox: its own mounts, lo, pivot_root, the init. */
static void setup_and_exec(char **argv) {
  const char *R = argv[1], *HN = argv[2], *SHM = argv[5];
  char opts[256];

  if (sethostname(HN, strlen(HN)) != 0) die("sethostname");
  // The root made in step 2 is locked here, and pivot_root refuses a locked new root: bind it onto
  // itself (recursively: /usr and the device binds come along, still locked) and work in the bind.
  do_mount(R, R, NULL, MS_BIND | MS_REC, NULL);
  if (chdir(R) != 0) die("chdir %s", R);
  char text[512];
  snprintf(text, sizeof text, "%s\n", HN);
  write_file("etc/hostname", text);
  snprintf(text, sizeof text, "127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n", HN);
  write_file("etc/hosts", text);

  do_mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620,gid=5");
  snprintf(opts, sizeof opts, "size=%s,nr_inodes=4096,mode=1777", SHM);
  do_mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, opts);
  do_mount("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  do_mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  do_mount("sysfs", "sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  bind_ro("sys", "run/.sys", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  do_mount(NULL, "sys", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);

  // lo up (IFF_UP), as `ip link set lo up`.
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) die("SIOCGIFFLAGS lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) die("SIOCSIFFLAGS lo");
  close(s);

  if (syscall(SYS_pivot_root, ".", ".") != 0) die("pivot_root");
  if (umount2(".", MNT_DETACH) != 0) die("umount old root");
  if (chdir("/root") != 0) die("chdir /root");

  if (write(1, "ready\n", 6) != 6) die("write ready");
  // The init (see rootfs-setup.sh): stdin, stdout and stderr on /dev/null, nothing else open.
  int null = open("/dev/null", O_RDWR);
  if (null < 0) die("open /dev/null");
  dup2(null, 0);
  dup2(null, 1);
  dup2(null, 2);
  if (null > 2) close(null);
  char *init_argv[] = {"/bin/bash", "--norc", "--noprofile", "/etc/nslab/init", NULL};
  execv("/bin/bash", init_argv);
  _exit(127);
}

/** Waits for the child as nsenter does: a stopped child stops us too (job control), then its status. */
static int continue_as_parent(pid_t child) {
  signal(SIGCHLD, SIG_DFL);
  int status = 0;
  for (;;) {
    pid_t r = waitpid(child, &status, WUNTRACED);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("waitpid");
    if (WIFSTOPPED(status)) {
      kill(getpid(), SIGSTOP);
      kill(child, SIGCONT);
      continue;
    }
    break;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    signal(WTERMSIG(status), SIG_DFL);
    kill(getpid(), WTERMSIG(status));
    return 128 + WTERMSIG(status);
  }
  return 1;
}

static int enter_main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: nslab-start enter <init pid> <uid base> <nofile> <nproc> <program> [args...]\n");
    return 2;
  }
  const char *pid = argv[2];
  for (const char *c = pid; *c; c++)
    if (*c < '0' || *c > '9') {
      errno = 0;
      die("bad pid %s", pid);
    }
  uid_t base = parse_uid(argv[3]);
  set_limits(argv[4], argv[5]);
  // nsenter --all's order, the user namespace first (we join it as its owner, not as host root).
  static const struct { const char *name; int type; } nss[] = {
      {"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
      {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS}, {"time", CLONE_NEWTIME}};
  enum { NNS = sizeof nss / sizeof nss[0] };
  int fds[NNS];
  char path[PATH_MAX];
  for (int i = 0; i < NNS; i++) {
    snprintf(path, sizeof path, "/proc/%s/ns/%s", pid, nss[i].name);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) {
      if (errno == ENOENT && nss[i].type == CLONE_NEWTIME) continue; // kernel without time namespaces
      die("open %s", path);
    }
    snprintf(path, sizeof path, "/proc/self/ns/%s", nss[i].name);
    struct stat theirs, ours;
    if (fstat(fds[i], &theirs) != 0) die("fstat ns");
    if (stat(path, &ours) == 0 && ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino) {
      if (nss[i].type == CLONE_NEWUSER) {
        errno = 0;
        die("process %s is in the host's user namespace", pid);
      }
      close(fds[i]); // the same as ours (e.g. time): nothing to join, as nsenter --all skips it
      fds[i] = -1;
    }
  }
  snprintf(path, sizeof path, "/proc/%s/cwd", pid);
  int cwd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cwd < 0) die("open %s", path);

  drop_to(base);
  for (int i = 0; i < NNS; i++) {
    if (fds[i] < 0) continue;
    if (setns(fds[i], nss[i].type) != 0) die("setns %s", nss[i].name);
    close(fds[i]);
  }
  if (fchdir(cwd) != 0) die("fchdir");
  close(cwd);
  // uid 0 of the sandbox (host uid base: the ids do not change, only how they read inside).
  if (setgroups(0, NULL) != 0) die("setgroups (inside)");
  if (setresgid(0, 0, 0) != 0) die("setresgid 0");
  if (setresuid(0, 0, 0) != 0) die("setresuid 0");
  seccomp_install();
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    execvp(argv[6], argv + 6);
    die("exec %s", argv[6]);
  }
  return continue_as_parent(child);
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "enter") == 0) return enter_main(argc, argv);
  if (argc != 10) {
    fprintf(stderr, "usage: nslab-start <rootfs> <hostname> <disk-bytes> <inodes> <shm-bytes> <template> <nofile> <uid base> <nproc>\n"
                    "       nslab-start enter <init pid> <uid base> <nofile> <nproc> <program> [args...]\n");
    return 2;
  }
  if (geteuid() != 0) {
    errno = 0;
    die("must be started as host root (it makes the locked mounts, then drops to the sandbox's uid)");
  }
  uid_t base = parse_uid(argv[8]);
  set_limits(argv[7], argv[9]);
  expect_token("cg");
  host_mounts(argv[1], argv[3], argv[4], argv[6], base);
  drop_to(base);
  // As the shell path, where the exec after the uid change resets it: /proc/<pid> stays the sandbox uid's.
  if (prctl(PR_SET_DUMPABLE, 1) != 0) die("PR_SET_DUMPABLE");
  if (unshare(CLONE_NEWUSER) != 0) die("unshare user");
  // Wait for the agent: uid/gid maps written.
  expect_token("go");
  if (unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP) != 0) die("unshare");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("make mounts private");
  seccomp_install();
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    // (getppid() is 0 here: the parent is outside this PID namespace. Should it die before this
    // line, the child is still in the sandbox's cgroups, which teardown empties.)
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) die("PR_SET_PDEATHSIG");
    setup_and_exec(argv);
  }
  // As `unshare --fork --kill-child`: wait for PID 1 and leave with its status; stdin is not read again.
  close(0);
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) die("waitpid");
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
