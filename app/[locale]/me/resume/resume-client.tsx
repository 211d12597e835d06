'use client';
// The resume page asks before it switches: it first shows whose progress the link holds (and what
// this browser holds now), and only the learner's explicit "Yes, continue as …" moves the identity.
import Link from 'next/link';
import { useEffect, useState } from 'react';
import type { Locale } from '@/labs/core/model';
import { workshopStrings } from '@/app/_lib/workshops-strings';
import { buttonClass } from '@/app/_lib/workshops-ui';

interface Preview {
  displayName: string | null;
  passedSteps: number;
  labs: number;
  current: { displayName: string | null; passedSteps: number } | null;
  same: boolean;
}

export function ResumeClient({ locale }: { locale: Locale }) {
  const w = workshopStrings(locale);
  const [secret, setSecret] = useState<string | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [state, setState] = useState<{ done: true; name: string | null } | { done: false; error: string | null }>({ done: false, error: null });
  useEffect(() => {
    setSecret(location.hash.slice(1) || '');
  }, []);

  useEffect(() => {
    if (!secret) return;
    let live = true;
    fetch('/api/me/resume', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret, preview: true, locale }) })
      .then(async (response) => {
        const json = (await response.json().catch(() => null)) as (Preview & { error?: string }) | null;
        if (!live) return;
        if (response.ok && json) setPreview(json);
        else setState({ done: false, error: json?.error ?? w.httpError(response.status) });
      })
      .catch(() => live && setState({ done: false, error: w.networkError }));
    return () => {
      live = false;
    };
  }, [secret, locale, w]);

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
    <div className="mt-6 grid gap-3">
      {!preview && !state.error && <p className="text-slate-600">{w.resumeChecking}</p>}
      {preview && (
        <>
          <p className="rounded-md bg-sky-50 p-3 text-sky-950 ring-1 ring-sky-200" data-resume-whose>
            {w.resumeWhose(preview.displayName, preview.passedSteps, preview.labs)}
          </p>
          {preview.same ? (
            <p data-resume-same>{w.resumeAlready}</p>
          ) : (
            <>
              {preview.current && (
                <p className="rounded-md bg-amber-50 p-3 text-amber-950 ring-1 ring-amber-200" data-resume-replaces>
                  {w.resumeReplaces(preview.current.displayName, preview.current.passedSteps)}
                </p>
              )}
              <p className="text-sm text-slate-600">{w.resumeNotMine}</p>
              <div>
                <button type="button" className={buttonClass} onClick={() => void resume()} data-resume>
                  {w.resumeConfirm(preview.displayName)}
                </button>
              </div>
            </>
          )}
        </>
      )}
      {state.error && (
        <p role="alert" className="text-sm text-red-800">
          {state.error}
        </p>
      )}
    </div>
  );
}
