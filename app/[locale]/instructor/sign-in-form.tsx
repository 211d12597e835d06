'use client';
// The instructor sign-in form: POST /api/auth/sign-in, then on to the workshops.
import { useRouter } from 'next/navigation';
import type { Locale } from '@/labs/core/model';
import { useJsonPost } from '@/app/_lib/use-json-post';
import { workshopStrings } from '@/app/_lib/workshops-strings';
import { buttonClass, inputClass } from '@/app/_lib/workshops-ui';

export function SignInForm({ locale }: { locale: Locale }) {
  const w = workshopStrings(locale);
  const router = useRouter();
  const { busy, error, post, submitWith } = useJsonPost(locale);

  const submit = submitWith(async (data) => {
    if (!(await post('/api/auth/sign-in', { email: data.get('email'), password: data.get('password') }))) return;
    router.push(`/${locale}/workshops`);
    router.refresh();
  });

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
