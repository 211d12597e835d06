'use client';
// A learner-facing banner with the latest message from the instructor of a running workshop the
// learner joined (polls GET /api/me/messages every 5 s; dismissable). Lab terminals also get each
// message at once as an agent `notice`; this banner covers pages without a terminal and learners
// who were offline when it was sent. Mount it once near the top of a page: <WorkshopBanner locale=.../>.
import { useEffect, useState } from 'react';
import type { Locale } from '../../labs/core/model';
import { workshopStrings } from '../_lib/workshops-strings';

interface Message {
  id: string;
  text: string;
  createdAt: number;
}

const POLL_MS = 5_000;
const DISMISSED_KEY = 'nslab.workshop-message.dismissed';

export function WorkshopBanner({ locale }: { locale: Locale }) {
  const w = workshopStrings(locale);
  const [latest, setLatest] = useState<Message | null>(null);
  const [dismissed, setDismissed] = useState<string | null>(null);

  useEffect(() => {
    setDismissed(sessionStorage.getItem(DISMISSED_KEY));
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const response = await fetch('/api/me/messages', { cache: 'no-store' });
        if (response.ok) {
          const body = (await response.json()) as { messages: Message[] };
          const last = body.messages.at(-1) ?? null;
          if (!stopped) setLatest(last);
        }
      } catch {
        // offline: try again later
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);

  if (!latest || latest.id === dismissed) return null;
  return (
    <div role="status" aria-live="polite" className="flex items-start gap-3 bg-sky-50 px-4 py-2 text-sm text-sky-950 ring-1 ring-sky-200" data-workshop-banner>
      <span className="font-semibold">{w.workshopBanner}:</span>
      <span className="flex-1 break-words" data-workshop-banner-text>
        {latest.text}
      </span>
      <button
        type="button"
        className="rounded px-2 text-sky-800 hover:bg-sky-100"
        aria-label={w.close}
        onClick={() => {
          sessionStorage.setItem(DISMISSED_KEY, latest.id);
          setDismissed(latest.id);
        }}
      >
        ×
      </button>
    </div>
  );
}
