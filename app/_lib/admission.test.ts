import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdmissionGate, clientAddress, clientKey, normalizeAddress, TokenBuckets, TrustedProxies, type RunningSession } from './admission';
import { parseAdmissionConfig } from './admission-config.mjs';

const trusted = (list: string) => new TrustedProxies(parseAdmissionConfig({ NSLAB_TRUSTED_PROXIES: list }).trustedProxies);

describe('client address', () => {
  test('without trusted proxies X-Forwarded-For is ignored: the peer is the client', () => {
    const none = trusted('');
    assert.equal(clientAddress('203.0.113.7', '1.2.3.4', none), '203.0.113.7');
    assert.equal(clientAddress('::ffff:127.0.0.1', '9.9.9.9, 8.8.8.8', none), '127.0.0.1');
    assert.equal(clientAddress(null, '1.2.3.4', none), 'unknown');
  });

  test('from a trusted proxy: the first untrusted hop from the right; a spoofed left part is ignored', () => {
    const t = trusted('10.0.0.0/8');
    assert.equal(clientAddress('10.0.0.2', '198.51.100.9', t), '198.51.100.9');
    // The client wrote "1.1.1.1" itself; the proxy appended the real peer.
    assert.equal(clientAddress('10.0.0.2', '1.1.1.1, 198.51.100.9', t), '198.51.100.9');
    // Two proxies in a row, both trusted.
    assert.equal(clientAddress('10.0.0.2', '1.1.1.1, 198.51.100.9, 10.0.0.3', t), '198.51.100.9');
    // No header, or garbage: the proxy itself (nothing beyond it is believed).
    assert.equal(clientAddress('10.0.0.2', null, t), '10.0.0.2');
    assert.equal(clientAddress('10.0.0.2', 'not-an-ip', t), '10.0.0.2');
    assert.equal(clientAddress('10.0.0.2', '[2001:db8::1]:443', t), '2001:db8::1');
    // An untrusted peer's header is never read.
    assert.equal(clientAddress('198.51.100.1', '10.0.0.9', t), '198.51.100.1');
  });

  test('addresses are normalized; IPv6 clients are counted per /64', () => {
    assert.equal(normalizeAddress('1.2.3.4:5678'), '1.2.3.4');
    assert.equal(normalizeAddress('[::1]:80'), '::1');
    assert.equal(normalizeAddress('fe80::1%eth0'), 'fe80::1');
    assert.equal(normalizeAddress('x'), null);
    assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8:1:2:ffff:1:2:3'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
  });
});

test('token buckets: a burst of perMin, then one per 60/perMin s; a refund gives one back', () => {
  const b = new TokenBuckets(6);
  for (let i = 0; i < 6; i++) assert.ok(b.take('k', 0).ok);
  const no = b.take('k', 0);
  assert.ok(!no.ok && no.retryAfterS === 10, JSON.stringify(no));
  assert.ok(b.take('k', 10_000).ok);
  assert.ok(!b.take('k', 10_000).ok);
  b.refund('k', 10_000);
  assert.ok(b.take('k', 10_000).ok);
  assert.ok(b.take('other', 0).ok, 'keys are independent');
});

/** A fake agent: the sessions the gate made, running until ended. */
function fakeAgent() {
  const running: RunningSession[] = [];
  let clock = 0;
  return {
    running,
    tick: (ms: number) => (clock += ms),
    deps: { runningSessions: async (ids: string[]) => running.filter((s) => ids.includes(s.learnerId)), now: () => clock },
  };
}

async function start(gate: AdmissionGate, agent: ReturnType<typeof fakeAgent>, learnerId: string, client: string, member = false, labId = 'lab') {
  const a = await gate.admit({ learnerId, labId, client, member });
  if (!a.ok) return a;
  const exists = agent.running.some((s) => s.learnerId === learnerId && s.labId === labId);
  if (!exists) agent.running.push({ learnerId, labId });
  gate.settle(a.ticket, !exists);
  return a;
}

describe('admission gate', () => {
  test('a cookie-less flood from one address is refused (429 + Retry-After) while another address still gets in', async () => {
    const agent = fakeAgent();
    const gate = new AdmissionGate(parseAdmissionConfig({}), agent.deps);
    let admitted = 0;
    let refused: { code: string; retryAfterS: number } | null = null;
    for (let i = 0; i < 215; i++) {
      const r = await start(gate, agent, `flood-${i}`, '198.51.100.66');
      if (r.ok) admitted++;
      else refused ??= r;
    }
    assert.equal(admitted, 30, 'the per-minute burst of one address');
    assert.equal(refused?.code, 'sandbox_rate_limited');
    assert.ok(refused!.retryAfterS >= 1);
    const other = await start(gate, agent, 'real-learner', '203.0.113.5');
    assert.ok(other.ok, 'another address is not affected');
    // Over time the rate refills, but the address's running sandboxes are capped.
    for (let m = 0; m < 10; m++) {
      agent.tick(60_000);
      for (let i = 0; i < 40; i++) await start(gate, agent, `flood-${m}-${i}`, '198.51.100.66');
    }
    const fromFlood = agent.running.filter((s) => s.learnerId.startsWith('flood-')).length;
    assert.equal(fromFlood, 40, 'clientMaxSandboxes');
    const capped = await start(gate, agent, 'flood-x', '198.51.100.66');
    assert.ok(!capped.ok && capped.code === 'client_sandbox_limit' && capped.retryAfterS === 30);
    // When those sandboxes end (idle), the address may start again.
    agent.running.splice(0, agent.running.length);
    agent.tick(120_000);
    assert.ok((await start(gate, agent, 'flood-y', '198.51.100.66')).ok);
  });

  test('a class of 100 workshop members behind one NAT address all get sandboxes', async () => {
    const agent = fakeAgent();
    const gate = new AdmissionGate(parseAdmissionConfig({ NSLAB_ADMISSION: 'public' }), agent.deps);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => start(gate, agent, `student-${i}`, '192.0.2.1', true)));
    assert.equal(results.filter((r) => r.ok).length, 100);
    assert.equal(agent.running.length, 100);
    // The same address without a workshop: public mode's per-address cap.
    let anonOk = 0;
    for (let i = 0; i < 10; i++) if ((await start(gate, agent, `anon-${i}`, '192.0.2.1')).ok) anonOk++;
    assert.equal(anonOk, 4);
  });

  test('per learner: running sandboxes and starts per minute; fetching the running session is free', async () => {
    const agent = fakeAgent();
    const gate = new AdmissionGate(parseAdmissionConfig({ NSLAB_LEARNER_MAX_SANDBOXES: '2', NSLAB_LEARNER_STARTS_PER_MIN: '3' }), agent.deps);
    assert.ok((await start(gate, agent, 'l', '192.0.2.9', true, 'a')).ok);
    assert.ok((await start(gate, agent, 'l', '192.0.2.9', true, 'b')).ok);
    const third = await start(gate, agent, 'l', '192.0.2.9', true, 'c');
    assert.ok(!third.ok && third.code === 'learner_sandbox_limit' && third.limit === 2);
    for (let i = 0; i < 20; i++) assert.ok((await start(gate, agent, 'l', '192.0.2.9', true, 'a')).ok, 'a reload is never refused');
    agent.running.splice(0, agent.running.length);
    assert.ok((await start(gate, agent, 'l', '192.0.2.9', true, 'c')).ok, 'third start of the minute');
    agent.running.splice(0, agent.running.length);
    const rate = await start(gate, agent, 'l', '192.0.2.9', true, 'd');
    assert.ok(!rate.ok && rate.code === 'sandbox_rate_limited', JSON.stringify(rate));
  });

  test('parallel requests reserve before asking the agent, so a burst cannot overshoot the cap', async () => {
    const agent = fakeAgent();
    const gate = new AdmissionGate(parseAdmissionConfig({ NSLAB_CLIENT_MAX_SANDBOXES: '5', NSLAB_CLIENT_STARTS_PER_MIN: '100', NSLAB_CLIENT_MAX_STARTING: '64' }), agent.deps);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => start(gate, agent, `p-${i}`, '198.51.100.1')));
    assert.equal(results.filter((r) => r.ok).length, 5);
    assert.equal(agent.running.length, 5);
  });

  test('one address drives at most clientMaxStarting starts at once; the rest are told to retry in a second', async () => {
    const agent = fakeAgent();
    const gate = new AdmissionGate(parseAdmissionConfig({}), agent.deps);
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => start(gate, agent, `burst-${i}`, '198.51.100.2')));
    const refused = results.filter((r) => !r.ok);
    assert.equal(results.length - refused.length, 2, 'NSLAB_CLIENT_MAX_STARTING defaults to 2');
    assert.ok(refused.every((r) => !r.ok && r.code === 'sandbox_rate_limited' && r.retryAfterS === 1));
    // Once those have started, the address may start more; workshop members are not held by it.
    assert.ok((await start(gate, agent, 'burst-next', '198.51.100.2')).ok);
    const members = await Promise.all(Array.from({ length: 16 }, (_, i) => start(gate, agent, `member-${i}`, '198.51.100.2', true)));
    assert.equal(members.filter((r) => r.ok).length, 16);
  });

  test('workshop-only mode refuses learners outside a workshop (403), admits members', async () => {
    const agent = fakeAgent();
    const gate = new AdmissionGate(parseAdmissionConfig({ NSLAB_ADMISSION: 'workshop-only' }), agent.deps);
    const anon = await start(gate, agent, 'a', '198.51.100.1');
    assert.ok(!anon.ok && anon.status === 403 && anon.code === 'workshop_required');
    assert.ok((await start(gate, agent, 'm', '198.51.100.1', true)).ok);
  });

  test('a start that made no sandbox (agent busy, or an existing session) gives the tokens back', async () => {
    const agent = fakeAgent();
    const gate = new AdmissionGate(parseAdmissionConfig({ NSLAB_CLIENT_STARTS_PER_MIN: '2' }), agent.deps);
    for (let i = 0; i < 10; i++) {
      const a = await gate.admit({ learnerId: `b-${i}`, labId: 'lab', client: '198.51.100.1', member: false });
      assert.ok(a.ok);
      gate.settle(a.ticket, false);
    }
  });
});
