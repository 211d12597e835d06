'use client';
// Join a workshop with its code and a name: POST /api/workshops/join, then straight into the first
// lesson (whose page starts the learner's own sandbox). Full, ended or unknown: a clear message.
import { useRouter } from 'next/navigation';
import type { Locale } from '@/labs/core/model';
import { useJsonPost } from '@/app/_lib/use-json-post';
import { workshopStrings } from '@/app/_lib/workshops-strings';
import { buttonClass, inputClass } from '@/app/_lib/workshops-ui';

export function JoinForm({ locale, code, name }: { locale: Locale; code: string; name: string }) {
  const w = workshopStrings(locale);
  const router = useRouter();
  const { busy, error, post, submitWith } = useJsonPost(locale);

  const submit = submitWith(async (data) => {
    // Errors come as { code, error } with `error` already in this page's language (post sends `locale`).
    const reply = await post<{ href?: string }>('/api/workshops/join', { code: data.get('code'), name: data.get('name') }, { accept: (r) => Boolean(r.href), staysBusy: true });
    if (reply?.href) router.push(reply.href);
  });

  return (
    <form onSubmit={submit} className="mt-6 grid gap-4" data-join-form>
      <label className="block text-sm font-medium text-slate-800">
        {w.code}
        <input
          name="code"
          required
          defaultValue={code}
          maxLength={20}
          autoCapitalize="characters"
          autoComplete="off"
          spellCheck={false}
          placeholder="K7P-3QX"
          className={`${inputClass} font-mono text-2xl tracking-[0.2em] uppercase`}
        />
      </label>
      <label className="block text-sm font-medium text-slate-800">
        {w.yourName}
        <input name="name" required maxLength={40} defaultValue={name} autoComplete="nickname" className={inputClass} />
      </label>
      {error && (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 ring-1 ring-red-200" data-join-error>
          {error}
        </p>
      )}
      <div>
        <button type="submit" disabled={busy} className={buttonClass}>
          {busy ? w.joining : w.join}
        </button>
      </div>
    </form>
  );
}
