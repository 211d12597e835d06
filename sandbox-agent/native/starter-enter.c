// nslab-start's `enter` mode: a learner shell joins the sandbox as its host uid (see starter.c).
#include "starter.h"

int enter_main(int argc, char **argv) {
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
