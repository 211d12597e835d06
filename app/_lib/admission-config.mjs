// Admission settings (environment variables), parsed in one place: scripts/start.mjs calls this at
// launch so a bad value stops start-up (exit 78, the variable named), and the app reads the same
// result at run time (app/_lib/admission.server.ts). Plain JavaScript so that the launcher, which
// runs without a TypeScript loader, imports the very same code; types: admission-config.d.mts.
// Documented in the README's settings table and in SECURITY.md ("Admission control").
import net from 'node:net';

export const ADMISSION_MODES = /** @type {const} */ (['open', 'public', 'workshop-only']);

/**
 * Defaults per mode. `open` suits a classroom or a private site: self-paced learners behind one
 * address (a lab room without a workshop) still get up to 40 sandboxes. `public` and
 * `workshop-only` are for sites on the internet: learners outside a workshop are held to a few
 * sandboxes per address (`workshop-only` refuses them outright; the client quotas then only matter
 * if the mode changes). Workshop members are never counted per address (a class behind one NAT).
 */
const DEFAULTS = {
  open: { learnerMaxSandboxes: 16, learnerStartsPerMin: 30, clientMaxSandboxes: 40, clientStartsPerMin: 30, clientMaxStarting: 2 },
  public: { learnerMaxSandboxes: 2, learnerStartsPerMin: 6, clientMaxSandboxes: 4, clientStartsPerMin: 6, clientMaxStarting: 1 },
  'workshop-only': { learnerMaxSandboxes: 2, learnerStartsPerMin: 6, clientMaxSandboxes: 4, clientStartsPerMin: 6, clientMaxStarting: 1 },
};

const LIMITS = {
  NSLAB_LEARNER_MAX_SANDBOXES: ['learnerMaxSandboxes', 1, 50],
  NSLAB_LEARNER_STARTS_PER_MIN: ['learnerStartsPerMin', 1, 600],
  NSLAB_CLIENT_MAX_SANDBOXES: ['clientMaxSandboxes', 1, 5000],
  NSLAB_CLIENT_STARTS_PER_MIN: ['clientStartsPerMin', 1, 6000],
  NSLAB_CLIENT_MAX_STARTING: ['clientMaxStarting', 1, 64],
};

export class AdmissionConfigError extends Error {
  /** @param {string[]} problems one line per bad variable */
  constructor(problems) {
    super(problems.join('\n'));
    this.name = 'AdmissionConfigError';
    this.problems = problems;
  }
}

/**
 * One address or CIDR ("10.0.0.1", "10.0.0.0/8", "fd00::/8", "::1"); null when it is neither.
 * IPv4-mapped IPv6 ("::ffff:10.0.0.1") is read as the IPv4 address.
 * @param {string} text
 */
export function parseCidr(text) {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return null;
  let address = m[1];
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address)) address = address.slice(7);
  const family = net.isIP(address);
  if (family === 0) return null;
  const max = family === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) return null;
  return { address, prefix, family: /** @type {4 | 6} */ (family) };
}

/**
 * Reads and checks every admission variable; throws AdmissionConfigError naming each bad one.
 * @param {Record<string, string | undefined>} env
 */
export function parseAdmissionConfig(env) {
  const problems = [];
  const modeRaw = (env.NSLAB_ADMISSION ?? '').trim();
  let mode = 'open';
  if (modeRaw !== '') {
    if (ADMISSION_MODES.includes(modeRaw)) mode = modeRaw;
    else problems.push(`NSLAB_ADMISSION must be one of ${ADMISSION_MODES.join(', ')}, got "${modeRaw}"`);
  }
  const config = { mode, trustedProxies: [], ...DEFAULTS[mode] };
  for (const [name, [key, min, max]] of Object.entries(LIMITS)) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    if (!/^\d+$/.test(raw.trim())) {
      problems.push(`${name} must be a whole number, got "${raw}"`);
      continue;
    }
    const value = Number(raw.trim());
    if (value < min || value > max) problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
    else config[key] = value;
  }
  const proxies = (env.NSLAB_TRUSTED_PROXIES ?? '').split(/[\s,]+/).filter(Boolean);
  for (const entry of proxies) {
    const cidr = parseCidr(entry);
    if (cidr) config.trustedProxies.push(cidr);
    else problems.push(`NSLAB_TRUSTED_PROXIES must list IP addresses or CIDRs (e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8), got "${entry}"`);
  }
  if (problems.length > 0) throw new AdmissionConfigError(problems);
  return config;
}
