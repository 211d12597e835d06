// nslab-start's mounts: the host-provided ones (step 2, as host root) and PID 1's own (step 5).
// Same steps, same order as rootfs-setup.sh (read it for why each mount is there).
#include "starter.h"

/** cp -dR --preserve=mode,timestamps of one template tree (dirs, files, symlinks, FIFOs). */
void copy_tree(const char *from, const char *to) {
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

void write_file(const char *file, const char *text) {
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) die("open %s", file);
  size_t len = strlen(text);
  if (write(fd, text, len) != (ssize_t)len) die("write %s", file);
  close(fd);
}

void do_mount(const char *src, const char *target, const char *type, unsigned long flags, const char *data) {
  if (mount(src, target, type, flags, data) != 0) die("mount %s on %s (%s)", src ? src : "-", target, type ? type : "bind");
}

/**
 * A read-only bind mount, as mount(8)'s "bind,ro,...": bind, then remount with the extra flags plus
 * the flags the kernel keeps locked on a mount made in another user namespace (atime, nosuid,
 * nodev, noexec: dropping one of them fails with EPERM).
 */
void bind_ro(const char *src, const char *target, unsigned long extra) {
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

/** Step 2: the host-provided mounts, made as host root in a mount namespace the host user namespace owns. */
void host_mounts(const char *R, const char *DISK, const char *INODES, const char *T, uid_t base) {
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
void setup_and_exec(char **argv) {
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
