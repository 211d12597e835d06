// nsread's reads of one namespace by ioctl or a syscall made inside it: a UTS namespace's hostname
// (uname in it) and owner, a user namespace's owner uid and parent (the snapshot's userns list).
#include "nsread.h"

void read_uts(long id, const char *path, unsigned long inode) {
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
  // Its owner: the user namespace whose capabilities govern it (sethostname needs CAP_SYS_ADMIN
  // there). The host's root may ask about any namespace; the new fd is closed at once.
  unsigned long long owner = 0;
  int ufd = ioctl(fd, NS_GET_USERNS);
  if (ufd >= 0) {
    struct stat ust;
    if (fstat(ufd, &ust) == 0 && ust.st_dev == nsfs_dev) owner = (unsigned long long)ust.st_ino;
    close(ufd);
  }
  close(fd);
  if (got != 0) return reply_error(id, "setns failed");
  printf("{\"id\":%ld,\"ok\":true,\"hostname\":", id);
  put_json_string(stdout, u.nodename, 64);
  printf(",\"owner\":%llu}\n", owner);
}

/** Owner uid (as the host sees it) and parent inode of a user namespace; -1 when unknown. No setns. */
void read_userns(long id, const char *path, unsigned long inode) {
  const char *why = NULL;
  // Only ioctls on the proven file, no setns: the snapshot asks about its sandbox's user namespaces.
  int fd = open_proven(path, inode, 0, 0, &why);
  if (fd < 0) return reply_error(id, why);
  long long owner = -1, parent = -1;
  uid_t uid;
  if (ioctl(fd, NS_GET_OWNER_UID, &uid) == 0) owner = (long long)uid;
  int pfd = ioctl(fd, NS_GET_PARENT);
  if (pfd >= 0) {
    struct stat st;
    if (fstat(pfd, &st) == 0) parent = (long long)st.st_ino;
    close(pfd);
  }
  close(fd);
  printf("{\"id\":%ld,\"ok\":true,\"ownerUid\":%lld,\"parent\":%lld}\n", id, owner, parent);
}
