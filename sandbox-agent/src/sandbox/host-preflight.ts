// The start-up check of everything on a host, other than cgroups (cgroups.ts), that decides whether
// sandboxes can work there: the kernel's patch floor, namespaces, user-namespace limits, and the
// AppArmor restriction of Ubuntu 23.10+. Each trap stops start-up with one message that names the
// setting and its fix. Pure over a HostFacts record, so every trap is unit-tested.
import * as fs from 'node:fs';
import * as os from 'node:os';

/** The kernel patch floor of SECURITY.md (fixes for CVE-2022-0185, CVE-2022-0492, CVE-2024-1086). */
export function kernelFloor(release: string): { ok: boolean; detail: string } {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (!m) return { ok: false, detail: `cannot parse kernel release ${release}` };
  const [maj, min, patch] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  // Stable lines with the CVE-2024-1086 fix backported, and the first fixed patch level.
  const lines: Record<string, number> = { '5.4': 269, '5.10': 209, '5.15': 149, '6.1': 76, '6.6': 15, '6.7': 3 };
  const key = `${maj}.${min}`;
  let ok: boolean;
  if (maj > 6 || (maj === 6 && min >= 8)) ok = true;
  else if (key in lines) ok = patch >= lines[key]!;
  else ok = false;
  return {
    ok,
    detail: `kernel ${release} ${ok ? 'meets' : 'is below'} the floor (>= 6.8, or 6.6.15 / 6.1.76 / 5.15.149 / 5.10.209 / 5.4.269)`,
  };
}

/**
 * The upstream version a distribution kernel is built from. `uname -r` names the ABI on Debian
 * ("6.1.0-28-amd64" is 6.1.119) and Ubuntu ("5.15.0-125-generic" is 5.15.167): their own files say
 * the real patch level (/proc/version "Debian 6.1.119-1", /proc/version_signature "... 5.15.167").
 */
export function upstreamKernelVersion(release: string, procVersion: string | null, versionSignature: string | null): string {
  const ubuntu = /\s(\d+\.\d+\.\d+)\s*$/.exec(versionSignature ?? '');
  if (ubuntu) return ubuntu[1]!;
  const debian = /.*\bDebian (\d+\.\d+\.\d+)/.exec(procVersion ?? ''); // the last one (the compiler's comes first)
  if (debian) return debian[1]!;
  return release;
}

/** The AppArmor profile nslab ships (deploy/apparmor/nslab-sandbox) for hosts that restrict user namespaces. */
export const APPARMOR_PROFILE = 'nslab-sandbox';

export interface HostFacts {
  release: string;
  /** Namespace types the kernel offers (/proc/self/ns). */
  namespaces: string[];
  maxUserNamespaces: number | null;
  /** Debian/Ubuntu's older kernel.unprivileged_userns_clone (absent on most kernels). */
  unprivilegedUsernsClone: number | null;
  /** kernel.apparmor_restrict_unprivileged_userns (Ubuntu 23.10+); null when absent. */
  apparmorRestrictUserns: number | null;
  /** Names of the loaded AppArmor profiles (empty without AppArmor or securityfs). */
  apparmorProfiles: string[];
  /** /proc/self/attr/apparmor/exec (5.8+) or /proc/self/attr/exec, when present. */
  apparmorExecAttr: string | null;
  /** AGENT_KERNEL_FLOOR: "enforce" (default) or "warn". */
  kernelFloorSetting: string;
}

export interface HostPreflight {
  kernel: string;
  kernelFloorOk: boolean;
  warnings: string[];
  apparmorRestrictsUserns: boolean;
  /** The profile name the learner's shells change to on exec, when AppArmor restricts and it is loaded. */
  apparmorProfile: string | null;
  apparmorExecAttr: string | null;
  apparmorAdvice: string;
}

const NEEDED_NS = ['user', 'pid', 'mnt', 'net', 'uts', 'ipc', 'cgroup'];

function readNum(file: string): number | null {
  try {
    const n = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

export function readHostFacts(env: NodeJS.ProcessEnv = process.env): HostFacts {
  let profiles: string[] = [];
  try {
    profiles = fs
      .readFileSync('/sys/kernel/security/apparmor/profiles', 'utf8')
      .split('\n')
      .map((l) => l.replace(/ \([a-z]+\)$/, ''))
      .filter(Boolean);
  } catch {
    /* no AppArmor, or securityfs not mounted */
  }
  let namespaces: string[] = [];
  try {
    namespaces = fs.readdirSync('/proc/self/ns');
  } catch {
    /* no /proc */
  }
  const text = (f: string) => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return null;
    }
  };
  return {
    release: upstreamKernelVersion(os.release(), text('/proc/version'), text('/proc/version_signature')),
    namespaces,
    maxUserNamespaces: readNum('/proc/sys/user/max_user_namespaces'),
    unprivilegedUsernsClone: readNum('/proc/sys/kernel/unprivileged_userns_clone'),
    apparmorRestrictUserns: readNum('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
    apparmorProfiles: profiles,
    apparmorExecAttr: ['/proc/self/attr/apparmor/exec', '/proc/self/attr/exec'].find((f) => fs.existsSync(f)) ?? null,
    kernelFloorSetting: env.AGENT_KERNEL_FLOOR ?? 'enforce',
  };
}

/** Throws an Error whose message starts "sandbox preflight:" and names the fix, for each trap. */
export function checkHost(f: HostFacts): HostPreflight {
  const fail = (msg: string): never => {
    throw new Error(`sandbox preflight: ${msg}`);
  };
  if (f.kernelFloorSetting !== 'enforce' && f.kernelFloorSetting !== 'warn') {
    fail(`AGENT_KERNEL_FLOOR must be "enforce" or "warn", got ${JSON.stringify(f.kernelFloorSetting)}`);
  }
  for (const ns of NEEDED_NS) {
    if (!f.namespaces.includes(ns))
      fail(
        `the kernel has no ${ns} namespaces (/proc/self/ns/${ns} is missing): enable CONFIG_${ns === 'mnt' ? 'NAMESPACES' : `${ns.toUpperCase()}_NS`} or use a stock distribution kernel`,
      );
  }
  const warnings: string[] = [];
  const floor = kernelFloor(f.release);
  if (!floor.ok) {
    const msg = `${floor.detail}: learners get root in a user namespace, and older kernels have known escapes from one. Update the kernel (Debian 12: apt install linux-image-amd64, then reboot).`;
    if (f.kernelFloorSetting === 'enforce') {
      fail(
        `${msg} A distribution kernel that backports these fixes under an older version number (RHEL 9's 5.14.0-xxx) may be allowed with AGENT_KERNEL_FLOOR=warn.`,
      );
    }
    warnings.push(msg);
  }
  if (f.unprivilegedUsernsClone === 0) {
    fail(
      'kernel.unprivileged_userns_clone is 0: each sandbox is made by an unprivileged host uid, which then cannot create its user namespace. Fix: sysctl -w kernel.unprivileged_userns_clone=1 (and keep it in /etc/sysctl.d/).',
    );
  }
  if (f.maxUserNamespaces !== null && f.maxUserNamespaces < 1000) {
    fail(
      `user.max_user_namespaces is ${f.maxUserNamespaces}: every sandbox needs one user namespace and learners make more (the user-namespace lab). Fix: sysctl -w user.max_user_namespaces=15000 (and keep it in /etc/sysctl.d/).`,
    );
  }
  const restricts = f.apparmorRestrictUserns === 1;
  const loaded = f.apparmorProfiles.includes(APPARMOR_PROFILE);
  const advice =
    'sandbox preflight: AppArmor restricts unprivileged user namespaces here (kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu 23.10+): ' +
    "nslab's starter creates each sandbox's user namespace as an unprivileged host uid, and learners create their own in the user-namespace lab; both would lose their capabilities. " +
    `Fix: load the profile nslab ships: install -m 0644 deploy/apparmor/${APPARMOR_PROFILE} /etc/apparmor.d/${APPARMOR_PROFILE} && apparmor_parser -r /etc/apparmor.d/${APPARMOR_PROFILE} ` +
    '(it allows user namespaces to /run/nslab/nslab-start-* and to the learner shells the agent starts), or turn the restriction off host-wide: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0.';
  if (restricts && loaded && f.apparmorExecAttr === null) {
    fail(
      'AppArmor restricts user namespaces and the nslab-sandbox profile is loaded, but /proc/self/attr/exec is missing: cannot start learner shells under the profile.',
    );
  }
  return {
    kernel: f.release,
    kernelFloorOk: floor.ok,
    warnings,
    apparmorRestrictsUserns: restricts,
    apparmorProfile: restricts && loaded ? APPARMOR_PROFILE : null,
    apparmorExecAttr: f.apparmorExecAttr,
    apparmorAdvice: advice,
  };
}

export function hostPreflight(): HostPreflight {
  return checkHost(readHostFacts());
}
