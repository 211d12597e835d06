'use client';
// Sign out (revokes this browser's instructor session on the server) or, with `everywhere`, sign out
// of every browser (revokes all the instructor's sessions). Then back to the sign-in page.
import { useRouter } from 'next/navigation';
import type { Locale } from '@/labs/core/model';
import { secondaryButtonClass } from '@/app/_lib/workshops-ui';

export function SignOutButton({ locale, label, everywhere = false, confirmText }: { locale: Locale; label: string; everywhere?: boolean; confirmText?: string }) {
  const router = useRouter();
  return (
    <button
      type="button"
      className={secondaryButtonClass}
      data-sign-out={everywhere ? 'everywhere' : 'here'}
      onClick={async () => {
        if (confirmText && !window.confirm(confirmText)) return;
        await fetch('/api/auth/sign-out', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ everywhere, locale }),
        }).catch(() => null);
        router.push(`/${locale}/instructor`);
        router.refresh();
      }}
    >
      {label}
    </button>
  );
}
