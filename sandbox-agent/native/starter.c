// nslab-start: builds one sandbox in a single program, instead of the chain of execs the shell
// path runs (unshare, sh, unshare, sh, hostname, mount, cp, mount -a, pivot_root, umount: ~8 ms
// each on our VMs). Same steps, same result, same order as sandbox-agent/src/sandbox/rootfs-setup.sh
// (kept as the fallback; read it for why each mount is there).
//
// Spawned by the agent as the sandbox's host uid (unprivileged on the host), RLIMIT_NOFILE set here:
//   nslab-start <rootfs mount point> <hostname> <disk bytes> <inodes> <shm bytes> <template dir> <nofile>
// 1. unshare(CLONE_NEWUSER): a user namespace owned by that uid, with every capability inside it;
// 2. waits for "go" on stdin: meanwhile the agent (host root) writes the uid/gid maps and moves this
//    process into the sandbox's cgroups;
// 3. unshare(pid, mount, uts, ipc, net, cgroup) (the cgroup namespace is rooted at the cgroups it
//    was just moved into), mounts private, fork: the child is PID 1 of the new PID namespace and
//    dies with this process (PR_SET_PDEATHSIG), which waits for it (as `unshare --fork --kill-child`);
// 4. the child builds the root filesystem on a size-capped tmpfs from the template, mounts /usr
//    read-only, device nodes, devpts, shm, mqueue, proc, sysfs, brings lo up, pivots, prints
//    "ready" and execs the sandbox init.
#define _GNU_SOURCE
#include <dirent.h>
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

static void setup_and_exec(char **argv) {
  const char *R = argv[1], *HN = argv[2], *DISK = argv[3], *INODES = argv[4], *SHM = argv[5], *T = argv[6];
  char p[PATH_MAX], opts[256];

  if (sethostname(HN, strlen(HN)) != 0) die("sethostname");
  snprintf(opts, sizeof opts, "size=%s,nr_inodes=%s,mode=755", DISK, INODES);
  do_mount("nslab-root", R, "tmpfs", MS_NOSUID | MS_NODEV, opts);
  copy_tree(T, R);
  path_join(p, sizeof p, R, "etc/hostname");
  char text[512];
  snprintf(text, sizeof text, "%s\n", HN);
  write_file(p, text);
  path_join(p, sizeof p, R, "etc/hosts");
  snprintf(text, sizeof text, "127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n", HN);
  write_file(p, text);

  path_join(p, sizeof p, R, "usr");
  bind_ro("/usr", p, MS_NOSUID | MS_NODEV);
  path_join(p, sizeof p, R, "usr/local");
  do_mount("nslab-empty", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,nr_inodes=16,mode=755");
  static const char *devs[] = {"null", "zero", "full", "random", "urandom", "tty"};
  for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
    char src[64], dst[PATH_MAX], rel[32];
    snprintf(src, sizeof src, "/dev/%s", devs[i]);
    snprintf(rel, sizeof rel, "dev/%s", devs[i]);
    path_join(dst, sizeof dst, R, rel);
    do_mount(src, dst, NULL, MS_BIND, NULL);
  }
  path_join(p, sizeof p, R, "dev/pts");
  do_mount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620,gid=5");
  path_join(p, sizeof p, R, "dev/shm");
  snprintf(opts, sizeof opts, "size=%s,nr_inodes=4096,mode=1777", SHM);
  do_mount("shm", p, "tmpfs", MS_NOSUID | MS_NODEV, opts);
  path_join(p, sizeof p, R, "dev/mqueue");
  do_mount("mqueue", p, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  path_join(p, sizeof p, R, "proc");
  do_mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  char sys[PATH_MAX], runsys[PATH_MAX];
  path_join(sys, sizeof sys, R, "sys");
  do_mount("sysfs", sys, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  path_join(runsys, sizeof runsys, R, "run/.sys");
  bind_ro(sys, runsys, MS_NOSUID | MS_NODEV | MS_NOEXEC);
  do_mount(NULL, sys, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);

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

  if (chdir(R) != 0) die("chdir %s", R);
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

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: nslab-start <rootfs> <hostname> <disk-bytes> <inodes> <shm-bytes> <template> <nofile>\n");
    return 2;
  }
  errno = 0;
  struct rlimit nofile = {(rlim_t)strtoul(argv[7], NULL, 10), (rlim_t)strtoul(argv[7], NULL, 10)};
  if (nofile.rlim_cur == 0 || setrlimit(RLIMIT_NOFILE, &nofile) != 0) die("setrlimit RLIMIT_NOFILE %s", argv[7]);
  if (unshare(CLONE_NEWUSER) != 0) die("unshare user");
  // Wait for the agent: maps written, cgroups joined.
  char go[8];
  ssize_t n = read(0, go, sizeof go);
  if (n < 3 || memcmp(go, "go\n", 3) != 0) {
    errno = 0;
    die("no go from the agent");
  }
  if (unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP) != 0) die("unshare");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("make mounts private");
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
