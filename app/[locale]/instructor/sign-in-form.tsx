'use client';
// The instructor sign-in form: POST /api/auth/sign-in, then on to the workshops.
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import type { Locale } from '@/labs/core/model';
import { workshopStrings } from '@/app/_lib/workshops-strings';
import { buttonClass, inputClass } from '@/app/_lib/workshops-ui';


export function SignInForm({ locale }: { locale: Locale }) {
  const w = workshopStrings(locale);
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const response = await fetch('/api/auth/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: data.get('email'), password: data.get('password'), locale }),
      });
      if (!response.ok) {
        const body = (await response.json().catch(() => null)) as { error?: string } | null;
        setError(body?.error ?? w.httpError(response.status));
        return;
      }
      router.push(`/${locale}/workshops`);
      router.refresh();
    } catch {
      setError(w.networkError);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="mt-6 grid gap-4" aria-describedby={error ? 'sign-in-error' : undefined}>
      <label className="block text-sm font-medium text-slate-800">
        {w.email}
        <input name="email" type="email" autoComplete="username" required className={inputClass} />
      </label>
      <label className="block text-sm font-medium text-slate-800">
        {w.password}
        <input name="password" type="password" autoComplete="current-password" required className={inputClass} />
      </label>
      {error && (
        <p id="sign-in-error" role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 ring-1 ring-red-200">
          {error}
        </p>
      )}
      <button
        type="submit"
        disabled={busy}
        className={buttonClass}
      >
        {busy ? w.signingIn : w.signIn}
      </button>
    </form>
  );
}
