// nslab-start's seccomp filter (installed by both modes before the sandbox's programs run).
#include "starter.h"

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
void seccomp_install(void) {
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
