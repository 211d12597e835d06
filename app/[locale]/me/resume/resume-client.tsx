'use client';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import type { Locale } from '../../../../labs/core/model';
import { workshopStrings } from '../../../_lib/workshops-strings';
import { buttonClass } from '../../../_lib/workshops-ui';

export function ResumeClient({ locale }: { locale: Locale }) {
  const w = workshopStrings(locale);
  const [secret, setSecret] = useState<string | null>(null);
  const [state, setState] = useState<{ done: true; name: string | null } | { done: false; error: string | null }>({ done: false, error: null });
  useEffect(() => {
    setSecret(location.hash.slice(1) || '');
  }, []);
  async function resume() {
    if (!secret) return;
    try {
      const response = await fetch('/api/me/resume', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret, locale }) });
      const body = (await response.json().catch(() => null)) as { displayName?: string | null; error?: string } | null;
      if (!response.ok) return setState({ done: false, error: body?.error ?? w.httpError(response.status) });
      history.replaceState(null, '', location.pathname);
      setState({ done: true, name: body?.displayName ?? null });
    } catch {
      setState({ done: false, error: w.networkError });
    }
  }
  if (state.done) {
    return (
      <p role="status" className="mt-6 rounded-md bg-emerald-50 p-3 text-emerald-950 ring-1 ring-emerald-200" data-resumed>
        {w.resumeDone(state.name)}{' '}
        <Link className="underline" href={`/${locale}/me`}>
          {w.meTitle}
        </Link>
      </p>
    );
  }
  if (secret === '') return <p className="mt-6 text-red-800">{w.resumeMissing}</p>;
  return (
    <div className="mt-6">
      <button type="button" className={buttonClass} disabled={!secret} onClick={() => void resume()} data-resume>
        {w.resumeContinue}
      </button>
      {state.error && (
        <p role="alert" className="mt-3 text-sm text-red-800">
          {state.error}
        </p>
      )}
    </div>
  );
}
