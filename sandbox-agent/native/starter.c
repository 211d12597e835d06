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
//
// The parts: starter.h lists them.
#include "starter.h"

void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("nslab-start: ", stderr);
  vfprintf(stderr, fmt, ap);
  if (errno) fprintf(stderr, ": %s", strerror(errno));
  fputc('\n', stderr);
  va_end(ap);
  _exit(1);
}

void path_join(char *out, size_t size, const char *a, const char *b) {
  if ((size_t)snprintf(out, size, "%s/%s", a, b) >= size) {
    errno = ENAMETOOLONG;
    die("path too long: %s/%s", a, b);
  }
}

void set_limits(const char *nofile, const char *nproc) {
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
void drop_to(uid_t base) {
  if (setgroups(0, NULL) != 0) die("setgroups");
  if (setresgid(base, base, base) != 0) die("setresgid %u", (unsigned)base);
  if (setresuid(base, base, base) != 0) die("setresuid %u", (unsigned)base);
  if (geteuid() != base || getuid() != base) die("still uid %u", (unsigned)geteuid());
}

uid_t parse_uid(const char *s) {
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
void expect_token(const char *word) {
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

/** Waits for the child as nsenter does: a stopped child stops us too (job control), then its status. */
int continue_as_parent(pid_t child) {
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
