// Where a sandbox's cgroups live and how its limits are written, on every cgroup layout a host can
// have: cgroup v2 only (every stock distribution, cloud image and Kubernetes node), the hybrid
// layout (v1 controllers + a controller-less cgroup2, as on our CI machines), and a delegated
// subtree (the agent in a Docker/Podman container or a Kubernetes pod with its own cgroup
// namespace, or a systemd unit with Delegate=yes).
//
// Each controller the sandboxes need (pids, memory, cpu) is placed on its own: in cgroup v2 when
// the v2 tree offers it, else in the v1 hierarchy that holds it. There is one code path per
// controller and version (ControllerOps, cgroup-controllers.ts), not one copy of the driver per layout. The cgroup2
// tree is always needed: it lists a sandbox's processes and ends them with cgroup.kill.
//
// Placement of the parent of all sandboxes (`<name>`):
// - "root":    the agent sees the true root of the cgroup2 tree (a host, or a container started with
//              --cgroupns=host and /sys/fs/cgroup mounted rw): <root>/<name>, as Docker's cgroupfs
//              driver does. The root cgroup is exempt from the "no internal processes" rule.
// - "subtree": the agent was given a subtree (AGENT_CGROUP_PARENT=self or a path, or auto-detected
//              inside a cgroup namespace): <base>/<name>. The kernel forbids enabling controllers
//              for the children of a non-root cgroup that holds processes, so every process of <base>
//              (the agent, its launcher, the app) is first moved into the leaf <base>/nslab-supervisor.
//              An agent that finds itself already in that leaf (a restart) uses its parent as <base>.
//
// This file: the layout (detect, place, prepare, create). Its parts: cgroup-mounts.ts (what the host
// mounts), cgroup-controllers.ts (pids / memory / cpu in v1 and v2), cgroup-ceiling.ts (the ceiling
// on all sandboxes together), cgroup-files.ts (file reads and CgroupLayoutError).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SandboxLimits } from './driver';
import { hostCeilingInput, sandboxesCeiling, type SandboxesCeiling } from './cgroup-ceiling';
import {
  enableControllers,
  OPS,
  readAppliedLimits,
  readStats,
  REQUIRED_CONTROLLERS,
  type AppliedLimits,
  type CgroupStats,
  type ControllerName,
  type Placement,
} from './cgroup-controllers';
import { CgroupLayoutError, readOr, readProcs, words } from './cgroup-files';
import { dirOf, parseCgroupMounts, parseSelfCgroup, realHost, type CgroupMount, type HostView } from './cgroup-mounts';

// The parts, re-exported for the driver, the tests and the security battery.
export * from './cgroup-ceiling';
export { REQUIRED_CONTROLLERS, SANDBOXES_CPU_SHARES, SANDBOXES_CPU_WEIGHT } from './cgroup-controllers';
export type { AppliedLimits, CgroupStats, ControllerName } from './cgroup-controllers';
export { CgroupLayoutError, readProcs } from './cgroup-files';
export { parseCgroupMounts, parseSelfCgroup, realHost, type HostView } from './cgroup-mounts';

/** The leaf the processes of a delegated subtree are moved into before controllers are enabled. */
export const SUPERVISOR_LEAF = 'nslab-supervisor';

/** A delegated base is the cgroup above the supervisor leaf when the agent already sits in that leaf (a restart). */
const aboveSupervisorLeaf = (dir: string): string => (path.basename(dir) === SUPERVISOR_LEAF ? path.dirname(dir) : dir);

/**
 * Where the parent of all sandboxes goes in the v1 hierarchy `v1`: at its root (root mode), in the
 * agent's own cgroup there `own` (auto / self, above the supervisor leaf), or at AGENT_CGROUP_PARENT.
 */
function v1BaseDir(v1: CgroupMount, mode: 'root' | 'subtree', parent: string, own: string): string {
  if (mode === 'root') return dirOf(v1, '/') ?? v1.point;
  if (parent === 'auto' || parent === 'self') return aboveSupervisorLeaf(dirOf(v1, own) ?? v1.point);
  return dirOf(v1, parent) ?? path.join(v1.point, parent);
}

export interface CgroupLayoutSummary {
  mode: 'root' | 'subtree';
  v2Base: string;
  controllers: Record<ControllerName, { version: 1 | 2; base: string }>;
}

export class CgroupLayout {
  /** The ceiling prepare() wrote on the parent of all sandboxes. */
  ceiling: SandboxesCeiling | null = null;

  private constructor(
    readonly mode: 'root' | 'subtree',
    /** The cgroup2 directory the parent of all sandboxes is made in. */
    readonly v2Base: string,
    readonly placements: Record<ControllerName, Placement>,
  ) {}

  /**
   * Reads the host's layout. `parent` is AGENT_CGROUP_PARENT: "auto" (default), "root", "self", or
   * a cgroup path such as /system.slice/nslab.service (relative to the cgroup2 mount).
   */
  static detect(parent = process.env.AGENT_CGROUP_PARENT ?? 'auto', host: HostView = realHost): CgroupLayout {
    if (!/^(auto|root|self|\/[A-Za-z0-9._@:/-]*)$/.test(parent) || parent.includes('/..') || parent.includes('//')) {
      throw new CgroupLayoutError(
        `AGENT_CGROUP_PARENT must be auto, root, self or a cgroup path such as /system.slice/nslab.service, got ${JSON.stringify(parent)}`,
      );
    }
    const mounts = parseCgroupMounts(host.mountinfo);
    const v2Mounts = mounts.filter((m) => m.version === 2);
    const v2 =
      v2Mounts.find((m) => m.point === '/sys/fs/cgroup') ??
      v2Mounts.find((m) => m.point === '/sys/fs/cgroup/unified') ??
      v2Mounts[0];
    if (!v2) {
      throw new CgroupLayoutError(
        'no cgroup2 file system is mounted (none in /proc/self/mountinfo). nslab needs cgroup v2 (a kernel >= 5.14 for cgroup.kill). ' +
          'On a systemd host boot with systemd.unified_cgroup_hierarchy=1 (the default on every current distribution); in a container mount /sys/fs/cgroup from the host (-v /sys/fs/cgroup:/sys/fs/cgroup:rw) or let the runtime give it a cgroup namespace.',
      );
    }
    const self = parseSelfCgroup(host.selfCgroup);
    if (self.v2 === null) throw new CgroupLayoutError('/proc/self/cgroup has no cgroup2 line ("0::/...")');
    const ownDir = dirOf(v2, self.v2);
    // The true root of the cgroup2 tree has no cgroup.type (only non-root cgroups do); inside a
    // cgroup namespace the visible top is the namespace's root, a non-root cgroup.
    const trueRootVisible = !host.exists(path.join(v2.point, 'cgroup.type'));
    let mode: 'root' | 'subtree';
    let v2Base: string;
    if (parent === 'root' || (parent === 'auto' && trueRootVisible)) {
      if (!trueRootVisible) {
        throw new CgroupLayoutError(
          `AGENT_CGROUP_PARENT=root, but ${v2.point} is not the root of the cgroup tree (it has cgroup.type: the agent runs in a cgroup namespace). Use AGENT_CGROUP_PARENT=self (the delegated subtree) or run the container with --cgroupns=host.`,
        );
      }
      mode = 'root';
      v2Base = v2.point;
    } else {
      mode = 'subtree';
      if (parent === 'auto' || parent === 'self') {
        if (ownDir === null)
          throw new CgroupLayoutError(`the agent's cgroup ${self.v2} is outside the cgroup2 mount at ${v2.point}`);
        v2Base = aboveSupervisorLeaf(ownDir);
      } else {
        const dir = dirOf(v2, parent);
        if (dir === null)
          throw new CgroupLayoutError(`AGENT_CGROUP_PARENT ${parent} is outside the cgroup2 mount at ${v2.point}`);
        v2Base = dir;
      }
    }
    const v2Available = new Set(words(host.read(path.join(v2Base, 'cgroup.controllers'))));
    // Controllers the root (or the subtree's parent) offers: in root mode the root cgroup lists every
    // controller bound to v2; in subtree mode what was delegated to the base.
    const placements = {} as Record<ControllerName, Placement>;
    for (const c of REQUIRED_CONTROLLERS) {
      if (v2Available.has(c)) {
        placements[c] = { version: 2, baseDir: v2Base };
        continue;
      }
      const v1 = mounts.find((m) => m.version === 1 && m.controllers.includes(c));
      if (v1) {
        placements[c] = { version: 1, baseDir: v1BaseDir(v1, mode, parent, self.v1.get(c) ?? '/') };
        continue;
      }
      const listed = [...v2Available].join(' ') || '(nothing)';
      throw new CgroupLayoutError(
        `the ${c} controller is not available: ${path.join(v2Base, 'cgroup.controllers')} lists ${listed} and no cgroup v1 hierarchy holds it. ` +
          (mode === 'subtree'
            ? `The agent runs in a delegated cgroup (${v2Base}) that was not given ${c}: for a systemd unit set Delegate=yes (deploy/systemd/nslab.service); for Docker/Podman on cgroup v2 use --privileged (or --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw); for Kubernetes a privileged pod; or enable it in the parent's cgroup.subtree_control.`
            : c === 'memory'
              ? 'Enable it at boot with the kernel parameter cgroup_enable=memory (some Raspberry Pi and embedded kernels leave it off).'
              : `Enable it in the kernel (CONFIG_CGROUP_${c === 'pids' ? 'PIDS' : 'SCHED'}).`),
      );
    }
    return new CgroupLayout(mode, v2Base, placements);
  }

  summary(): CgroupLayoutSummary {
    const controllers = {} as CgroupLayoutSummary['controllers'];
    for (const c of REQUIRED_CONTROLLERS)
      controllers[c] = { version: this.placements[c].version, base: this.placements[c].baseDir };
    return { mode: this.mode, v2Base: this.v2Base, controllers };
  }

  /** One line for the agent's start-up log. */
  describe(): string {
    const per = REQUIRED_CONTROLLERS.map((c) => `${c}: v${this.placements[c].version}`).join(', ');
    const allV2 = REQUIRED_CONTROLLERS.every((c) => this.placements[c].version === 2);
    const ceiling = this.ceiling ? `; all sandboxes: ${this.ceiling.reason}` : '';
    return `${allV2 ? 'cgroup v2' : 'hybrid (cgroup v1 controllers + cgroup2)'}, ${this.mode === 'root' ? 'at the root' : 'in the delegated subtree'} ${this.v2Base} (${per})${ceiling}`;
  }

  /** The distinct hierarchies' base directories: the cgroup2 one first. */
  private bases(): string[] {
    const out = [this.v2Base];
    for (const c of REQUIRED_CONTROLLERS) {
      const p = this.placements[c];
      if (p.version === 1 && !out.includes(p.baseDir)) out.push(p.baseDir);
    }
    return out;
  }

  /** The parent directory of all sandboxes named `name`, one per hierarchy (cgroup2 first). */
  parentDirs(name: string): string[] {
    return this.bases().map((b) => path.join(b, name));
  }

  /** One sandbox's directories, one per hierarchy; `v2` lists its processes and has cgroup.kill. */
  sandboxDirs(name: string, id: string): { v2: string; all: string[] } {
    const all = this.parentDirs(name).map((d) => path.join(d, id));
    return { v2: all[0]!, all };
  }

  /** The directory that holds `controller`'s files for a sandbox. */
  controllerDir(name: string, id: string, controller: ControllerName): string {
    return path.join(this.placements[controller].baseDir, name, id);
  }

  /**
   * Makes the parent of all sandboxes in every hierarchy and enables the controllers its children
   * need (moving a subtree's own processes into a leaf first). Idempotent. Throws CgroupLayoutError
   * with the file and the fix when the host does not allow it.
   */
  prepare(name: string): void {
    const v2Ctrls = REQUIRED_CONTROLLERS.filter((c) => this.placements[c].version === 2);
    if (v2Ctrls.length > 0) {
      if (this.mode === 'subtree') this.evacuate(this.v2Base, v2Ctrls);
      enableControllers(this.v2Base, v2Ctrls);
    }
    for (const dir of this.parentDirs(name)) {
      try {
        fs.mkdirSync(dir, { recursive: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new CgroupLayoutError(
          `cannot create the cgroup ${dir}: ${(e as Error).message}.` +
            (code === 'EROFS'
              ? ' /sys/fs/cgroup is mounted read-only: run the container with -v /sys/fs/cgroup:/sys/fs/cgroup:rw (Docker/Podman) or privileged (Kubernetes).'
              : ' The agent must run as root with a writable cgroup file system.'),
        );
      }
    }
    if (v2Ctrls.length > 0) enableControllers(path.join(this.v2Base, name), v2Ctrls);
    // All sandboxes together weigh a quarter of a sibling at the default weight: when learners burn
    // every core, the agent (and the system) still get the CPU first, so echo and grading stay fast.
    // Sandboxes still share among themselves by equal weight (each its own cgroup below this one).
    const cpu = this.placements.cpu;
    const ceiling = sandboxesCeiling(hostCeilingInput(this.placements.memory.baseDir));
    try {
      OPS[`cpu${cpu.version}`].applyParent?.(path.join(cpu.baseDir, name), ceiling);
    } catch {
      /* not fatal: fairness among sandboxes still holds */
    }
    // All sandboxes together stay below the host's memory and pid space (sandboxesCeiling).
    for (const c of ['memory', 'pids'] as const) {
      const dir = path.join(this.placements[c].baseDir, name);
      try {
        OPS[`${c}${this.placements[c].version}`].applyParent?.(dir, ceiling);
      } catch (e) {
        throw new CgroupLayoutError(`cannot set the ${c} ceiling of all sandboxes in ${dir} (${ceiling.reason}): ${(e as Error).message}`);
      }
    }
    this.ceiling = ceiling;
    if (!fs.existsSync(path.join(this.v2Base, name, 'cgroup.kill'))) {
      throw new CgroupLayoutError(
        `${path.join(this.v2Base, name)} has no cgroup.kill: the kernel is older than 5.14; nslab needs 5.14 or later (see SECURITY.md for the patch floor)`,
      );
    }
  }

  /** "No internal processes": move every process of `base` into its supervisor leaf. */
  private evacuate(base: string, needed: ControllerName[]): void {
    const enabled = new Set(words(readOr(path.join(base, 'cgroup.subtree_control'))));
    if (needed.every((c) => enabled.has(c))) return; // done before (the kernel keeps it empty since)
    const procs = path.join(base, 'cgroup.procs');
    if (readProcs(procs).length === 0) return;
    const leaf = path.join(base, SUPERVISOR_LEAF);
    try {
      fs.mkdirSync(leaf, { recursive: true });
    } catch (e) {
      throw new CgroupLayoutError(
        `cannot create the supervisor leaf ${leaf}: ${(e as Error).message} (is the delegated cgroup writable by the agent?)`,
      );
    }
    for (let round = 0; round < 50; round++) {
      const left = readProcs(procs);
      if (left.length === 0) return;
      for (const pid of left) {
        try {
          fs.writeFileSync(path.join(leaf, 'cgroup.procs'), String(pid));
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'ESRCH') {
            throw new CgroupLayoutError(`cannot move process ${pid} from ${base} into ${leaf}: ${(e as Error).message}`);
          }
        }
      }
    }
    throw new CgroupLayoutError(`${procs} keeps getting new processes; cannot empty it to enable controllers`);
  }

  /** Makes one sandbox's cgroups and writes its limits. */
  create(name: string, id: string, limits: SandboxLimits): { v2: string; all: string[] } {
    const dirs = this.sandboxDirs(name, id);
    for (const d of dirs.all) fs.mkdirSync(d);
    for (const c of REQUIRED_CONTROLLERS) OPS[`${c}${this.placements[c].version}`].apply(this.controllerDir(name, id, c), limits);
    return dirs;
  }

  stats(name: string, id: string): CgroupStats {
    return readStats(this.placements, (c) => this.controllerDir(name, id, c), this.sandboxDirs(name, id).v2);
  }

  appliedLimits(name: string, id: string): AppliedLimits {
    return readAppliedLimits(this.placements, (c) => this.controllerDir(name, id, c));
  }
}
