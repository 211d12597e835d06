'use client';
import { useRouter } from 'next/navigation';
import type { Locale } from '../../../labs/core/model';
import { secondaryButtonClass } from '../../_lib/workshops-ui';

export function SignOutButton({ locale, label }: { locale: Locale; label: string }) {
  const router = useRouter();
  return (
    <button
      type="button"
      className={secondaryButtonClass}
      onClick={async () => {
        await fetch('/api/auth/sign-out', { method: 'POST' }).catch(() => null);
        router.push(`/${locale}/instructor`);
        router.refresh();
      }}
    >
      {label}
    </button>
  );
}
