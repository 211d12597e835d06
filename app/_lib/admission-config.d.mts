export declare const ADMISSION_MODES: readonly ['open', 'public', 'workshop-only'];
export type AdmissionMode = (typeof ADMISSION_MODES)[number];

export interface Cidr {
  address: string;
  prefix: number;
  family: 4 | 6;
}

export interface AdmissionConfig {
  mode: AdmissionMode;
  /** NSLAB_TRUSTED_PROXIES: only these peers' X-Forwarded-For is believed. */
  trustedProxies: Cidr[];
  /** Running sandboxes per learner (one per lab). */
  learnerMaxSandboxes: number;
  /** New sandboxes per learner per minute (also the burst). */
  learnerStartsPerMin: number;
  /** Running sandboxes of learners outside a workshop, per client address (IPv6: per /64). */
  clientMaxSandboxes: number;
  /** New sandboxes for learners outside a workshop, per client address per minute. */
  clientStartsPerMin: number;
  /** Sandboxes being started at once for learners outside a workshop, per client address. */
  clientMaxStarting: number;
}

export declare class AdmissionConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]);
}

export declare function parseCidr(text: string): Cidr | null;
export declare function parseAdmissionConfig(env: Record<string, string | undefined>): AdmissionConfig;
