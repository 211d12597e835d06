// Runs the agent client against a real HTTP server on loopback that answers like the agent would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { agentEnv, createAgentSession } from './agent-client.server';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

async function withAgent(handler: Handler, run: (url: string) => Promise<void>): Promise<void> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await run(`http://127.0.0.1:${port}`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const sessionInfo = {
  sessionId: 's-1',
  learnerId: 'learner-1',
  labId: 'exercise-net-namespace',
  createdAtMs: 1,
  state: 'running',
  terminals: 2,
  steps: [{ stepId: 'isolate-sleep', status: 'pending', message: null, hint: null, evidence: {}, atMs: 1 }],
  token: 'tok',
  tokenExpiresAtMs: 2,
  created: true,
};

test('creates a session with the bearer secret and reshapes the reply', async () => {
  await withAgent(
    (req, body, res) => {
      assert.equal(req.method, 'POST');
      assert.equal(req.url, '/v1/sessions');
      assert.equal(req.headers.authorization, 'Bearer s3cret');
      assert.deepEqual(JSON.parse(body), { learnerId: 'learner-1', labId: 'exercise-net-namespace' });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(sessionInfo));
    },
    async (url) => {
      const result = await createAgentSession(
        { learnerId: 'learner-1', labId: 'exercise-net-namespace' },
        { env: { AGENT_URL: url, AGENT_SECRET: 's3cret' } },
      );
      assert.ok(result.ok);
      assert.deepEqual(result.session, {
        sessionId: 's-1',
        token: 'tok',
        tokenExpiresAtMs: 2,
        terminals: 2,
        steps: sessionInfo.steps,
      });
    },
  );
});

test('maps 429 and 503 to busy with Retry-After', async () => {
  for (const status of [429, 503]) {
    await withAgent(
      (_req, _body, res) => res.writeHead(status, { 'retry-after': '7' }).end(JSON.stringify({ error: 'full' })),
      async (url) => {
        const result = await createAgentSession({ learnerId: 'l', labId: 'x' }, { env: { AGENT_URL: url, AGENT_SECRET: 's' } });
        assert.deepEqual(result, { ok: false, kind: 'busy', retryAfterS: 7, message: 'full' });
      },
    );
  }
});

test('a malformed reply is reported, not passed on', async () => {
  await withAgent(
    (_req, _body, res) => res.writeHead(200).end(JSON.stringify({ ...sessionInfo, token: 42 })),
    async (url) => {
      const result = await createAgentSession({ learnerId: 'l', labId: 'x' }, { env: { AGENT_URL: url, AGENT_SECRET: 's' } });
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.kind, 'bad-reply');
    },
  );
});

test('an agent that is not listening is unreachable', async () => {
  let closedUrl = '';
  await withAgent(
    (_req, _body, res) => res.end(),
    async (url) => {
      closedUrl = url;
    },
  );
  const result = await createAgentSession({ learnerId: 'l', labId: 'x' }, { env: { AGENT_URL: closedUrl, AGENT_SECRET: 's' } });
  assert.deepEqual(result, { ok: false, kind: 'unreachable', message: 'The sandbox service is not reachable' });
});

test('env validation names the variable', () => {
  assert.throws(() => agentEnv({}), /AGENT_SECRET/);
  assert.throws(() => agentEnv({ AGENT_SECRET: 's', AGENT_URL: 'not a url' }), /AGENT_URL/);
  assert.equal(agentEnv({ AGENT_SECRET: 's' }).AGENT_URL, 'http://127.0.0.1:7071');
});
