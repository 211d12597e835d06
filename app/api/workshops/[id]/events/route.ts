// GET /api/workshops/:id/events: Server-Sent Events for the live dashboard (instructors only).
// `event: grid` with the whole GridState whenever it changes (the server polls the agent every
// 500 ms per open workshop), a comment every 15 s to keep proxies from closing the stream.
import type { NextRequest } from 'next/server';
import { requestLocale, requireWorkshopInstructor, subscribeWorkshop } from '../../../../_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const KEEPALIVE_MS = 15_000;

export async function GET(request: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const access = await requireWorkshopInstructor(request, id, requestLocale(request));
  if (!access.ok) return access.response;
  const encoder = new TextEncoder();
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const write = (text: string) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          close();
        }
      };
      write('retry: 1000\n\n');
      const unsubscribe = subscribeWorkshop(id, (state) => write(`event: grid\ndata: ${JSON.stringify(state)}\n\n`));
      const keepalive = setInterval(() => write(': keepalive\n\n'), KEEPALIVE_MS);
      const close = () => {
        if (!open) return;
        open = false;
        clearInterval(keepalive);
        unsubscribe();
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      cleanup = close;
      request.signal.addEventListener('abort', close);
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    },
  });
}
