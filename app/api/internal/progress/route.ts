// POST /api/internal/progress: the sandbox agent delivers passed steps from its durable outbox.
// Authenticated with the agent's shared secret (Bearer AGENT_SECRET); never called by browsers.
// Each item is stored exactly once; the reply lists the keys now stored so the agent can drop them.
// Database unavailable: 503 + Retry-After, and the agent keeps the items and retries.
import { createHash, timingSafeEqual } from 'node:crypto';
import { NextResponse, type NextRequest } from 'next/server';
import { progressDeliverySchema } from '../../../../sandbox-agent/protocol';
import { storeProgress } from '../../../_lib/progress.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const digest = (value: string) => createHash('sha256').update(value).digest();

function authorized(request: NextRequest): boolean {
  const secret = process.env.AGENT_SECRET;
  const header = request.headers.get('authorization') ?? '';
  if (!secret || !header.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice('Bearer '.length)), digest(secret));
}

export async function POST(request: NextRequest): Promise<NextResponse> {
  if (!authorized(request)) return NextResponse.json({ error: 'missing or wrong Authorization: Bearer secret' }, { status: 401 });
  let raw: unknown;
  try {
    raw = await request.json();
  } catch {
    return NextResponse.json({ error: 'request body is not valid JSON' }, { status: 400 });
  }
  const parsed = progressDeliverySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return NextResponse.json({ error: `invalid delivery at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? ''}` }, { status: 400 });
  }
  try {
    return NextResponse.json(await storeProgress(parsed.data.items), { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    console.error(JSON.stringify({ level: 'warn', msg: 'could not store progress; the agent will retry', error: String(error) }));
    return NextResponse.json({ error: 'progress database unavailable' }, { status: 503, headers: { 'retry-after': '2' } });
  }
}
