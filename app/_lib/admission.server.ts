// The admission gate of this app process (see admission.ts for the quotas and for how the state
// behaves with several app replicas) and the trusted client address of a request.
import 'server-only';
import type { NextRequest } from 'next/server';
import { AdmissionGate, clientAddress, PEER_HEADER, TrustedProxies } from './admission';
import { parseAdmissionConfig, type AdmissionConfig } from './admission-config.mjs';
import { querySessions } from './agent-client.server';
import { sharedDatabase } from './db/database';
import { workshopHasEnded, workshopsForLearner } from './db/repository';

interface AdmissionState {
  config: AdmissionConfig;
  trusted: TrustedProxies;
  gate: AdmissionGate;
}

type Holder = typeof globalThis & { __nslabAdmission?: AdmissionState };

/** Parsed once per process (scripts/start.mjs already refused bad values at launch); throws AdmissionConfigError. */
export function admissionState(): AdmissionState {
  const holder = globalThis as Holder;
  if (holder.__nslabAdmission) return holder.__nslabAdmission;
  const config = parseAdmissionConfig(process.env);
  const gate = new AdmissionGate(config, {
    async runningSessions(learnerIds) {
      const reply = await querySessions(learnerIds.slice(0, 2000));
      return reply.ok ? reply.value.sessions.map((s) => ({ learnerId: s.learnerId, labId: s.labId })) : null;
    },
  });
  return (holder.__nslabAdmission = { config, trusted: new TrustedProxies(config.trustedProxies), gate });
}

/**
 * The request's client address: the TCP peer (set by the launcher), or, when that peer is a proxy
 * listed in NSLAB_TRUSTED_PROXIES, the first untrusted X-Forwarded-For hop from the right.
 * Rate limiters key on this, never on a header a client can set.
 */
export function requestClient(request: NextRequest): string {
  let trusted: TrustedProxies;
  try {
    trusted = admissionState().trusted;
  } catch {
    trusted = new TrustedProxies([]); // misconfigured: believe no header
  }
  return clientAddress(request.headers.get(PEER_HEADER), request.headers.get('x-forwarded-for'), trusted);
}

/**
 * Whether the learner is a member of a running (not ended) workshop whose lessons include this lab:
 * such learners are counted per learner, not per address. When the database cannot be read an
 * existing learner is treated as a member (a class keeps working through a database outage; a
 * cookie-less flood never reaches here as a member, its learners are new).
 */
export async function isWorkshopMember(learnerId: string, labId: string, now = Date.now()): Promise<boolean> {
  try {
    const { db } = await sharedDatabase();
    const mine = await workshopsForLearner(db, learnerId);
    return mine.some((w) => w.lessons.includes(labId) && !workshopHasEnded(w, now));
  } catch (error) {
    console.error(JSON.stringify({ level: 'warn', msg: 'workshop membership unknown: database unavailable', error: String(error) }));
    return true;
  }
}
