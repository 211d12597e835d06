// GET /api/dev/content-events: `npm run dev` only (404 otherwise). Server-Sent Events with
// `event: change` whenever a file under the content directory changes, so an open lesson re-renders
// its text in place (router.refresh()) while its terminals, and the sandbox behind them, stay.
import fs from 'node:fs';
import { contentDir } from '@/app/_lib/lessons.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const DEBOUNCE_MS = 100;
const KEEPALIVE_MS = 15_000;

export async function GET(request: Request) {
  if (process.env.NODE_ENV !== 'development') return new Response('not found', { status: 404 });
  const encoder = new TextEncoder();
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      let timer: NodeJS.Timeout | null = null;
      const changed = new Set<string>();
      const write = (text: string) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          close();
        }
      };
      let watcher: fs.FSWatcher | null = null;
      try {
        watcher = fs.watch(contentDir(), { recursive: true }, (_event, file) => {
          if (file) changed.add(String(file));
          timer ??= setTimeout(() => {
            timer = null;
            write(`event: change\ndata: ${JSON.stringify({ files: [...changed].slice(0, 20) })}\n\n`);
            changed.clear();
          }, DEBOUNCE_MS);
        });
      } catch (error) {
        write(`event: error\ndata: ${JSON.stringify({ message: `cannot watch ${contentDir()}: ${String(error)}` })}\n\n`);
      }
      write('retry: 1000\n\n');
      const keepalive = setInterval(() => write(': keepalive\n\n'), KEEPALIVE_MS);
      const close = () => {
        if (!open) return;
        open = false;
        clearInterval(keepalive);
        if (timer) clearTimeout(timer);
        watcher?.close();
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
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
  });
}
