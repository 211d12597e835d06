'use client';
// The learner's display name form and the resume-link maker.
import { useState, type FormEvent } from 'react';
import type { Locale } from '@/labs/core/model';
import { workshopStrings } from '@/app/_lib/workshops-strings';
import { buttonClass, inputClass, secondaryButtonClass } from '@/app/_lib/workshops-ui';

/** POSTs JSON with the page's locale (errors come back as { code, error } in that language). */
async function post(url: string, body: Record<string, unknown>, locale: Locale): Promise<{ ok: boolean; body: Record<string, unknown> | null }> {
  const w = workshopStrings(locale);
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, locale }) });
    const parsed = (await response.json().catch(() => null)) as Record<string, unknown> | null;
    return { ok: response.ok, body: parsed ?? (response.ok ? null : { error: w.httpError(response.status) }) };
  } catch {
    return { ok: false, body: { error: w.networkError } };
  }
}

export function DisplayNameForm({ locale, name }: { locale: Locale; name: string }) {
  const w = workshopStrings(locale);
  const [status, setStatus] = useState<string | null>(null);
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const result = await post('/api/me/name', { name: new FormData(event.currentTarget).get('name') }, locale);
    setStatus(result.ok ? w.saved : String(result.body?.error ?? 'Error'));
  }
  return (
    <form onSubmit={submit} data-name-form>
      <label className="block text-sm font-medium text-slate-800">
        {w.displayName}
        <input name="name" required maxLength={40} defaultValue={name} className={inputClass} />
      </label>
      <div className="mt-3 flex items-center gap-3">
        <button type="submit" className={buttonClass}>
          {w.save}
        </button>
        {status && (
          <span role="status" className="text-sm text-slate-700" data-name-status>
            {status}
          </span>
        )}
      </div>
    </form>
  );
}

export function ResumeLinkMaker({ locale, enabled }: { locale: Locale; enabled: boolean }) {
  const w = workshopStrings(locale);
  const [link, setLink] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  async function make() {
    const result = await post('/api/me/resume-link', {}, locale);
    if (result.ok && typeof result.body?.path === 'string') {
      setLink(`${location.origin}${result.body.path}`);
      setError(null);
      setCopied(false);
    } else setError(String(result.body?.error ?? 'Error'));
  }
  return (
    <div>
      <h2 className="text-sm font-medium text-slate-800">{w.resumeLink}</h2>
      <p className="mt-1 text-sm text-slate-600">{w.resumeHelp}</p>
      <div className="mt-3 flex flex-wrap items-center gap-2">
        <button type="button" className={secondaryButtonClass} onClick={() => void make()} disabled={!enabled} data-make-resume-link>
          {w.makeResumeLink}
        </button>
        {link && (
          <button
            type="button"
            className={secondaryButtonClass}
            onClick={() => void navigator.clipboard?.writeText(link).then(() => setCopied(true), () => setCopied(false))}
          >
            {copied ? w.copied : w.copy}
          </button>
        )}
      </div>
      {link && (
        <input readOnly value={link} className={`${inputClass} font-mono text-xs`} data-resume-link onFocus={(e) => e.currentTarget.select()} aria-label={w.resumeLink} />
      )}
      {error && (
        <p role="alert" className="mt-2 text-sm text-red-800">
          {error}
        </p>
      )}
    </div>
  );
}
