'use client';
// `npm run dev` only: re-renders the page's server components when a lesson file changes (see
// app/api/dev/content-events). router.refresh() keeps client state, so the terminals stay attached
// to the same sandbox and shells; only the lesson text changes.
import { useRouter } from 'next/navigation';
import { useEffect } from 'react';

export function DevContentReload() {
  const router = useRouter();
  useEffect(() => {
    const events = new EventSource('/api/dev/content-events');
    const onChange = () => router.refresh();
    events.addEventListener('change', onChange);
    return () => {
      events.removeEventListener('change', onChange);
      events.close();
    };
  }, [router]);
  return null;
}
