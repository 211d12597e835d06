// The header and frame shared by the instructor, workshop, join, "me" and completion pages (server component).
import Link from 'next/link';
import type { ReactNode } from 'react';
import type { Locale } from '@/labs/core/model';
import { htmlLang, otherLocale, uiStrings } from '@/app/_lib/ui-strings';
import { workshopStrings } from '@/app/_lib/workshops-strings';

export function PageChrome({
  locale,
  switchPath,
  children,
  wide = false,
  right,
}: {
  locale: Locale;
  /** This page's path without the locale prefix (for the language switch). */
  switchPath: string;
  children: ReactNode;
  wide?: boolean;
  right?: ReactNode;
}) {
  const strings = uiStrings(locale);
  const w = workshopStrings(locale);
  const other = otherLocale(locale);
  return (
    <div className="min-h-dvh">
      <header className="border-b border-slate-200 bg-white">
        <div className={`mx-auto flex ${wide ? 'max-w-[96rem]' : 'max-w-4xl'} items-center justify-between gap-4 px-6 py-3`}>
          <nav className="flex items-center gap-5 text-sm font-medium text-slate-700">
            <Link href={`/${locale}`} className="text-lg font-bold tracking-tight text-slate-900">
              <span className="text-sky-700">ns</span>lab
            </Link>
            <Link href={`/${locale}`} className="hover:text-sky-700">
              {w.backToLessons}
            </Link>
            <Link href={`/${locale}/me`} className="hover:text-sky-700">
              {w.meTitle}
            </Link>
          </nav>
          <div className="flex items-center gap-3">
            {right}
            <Link
              href={`/${other}${switchPath}`}
              hrefLang={htmlLang(other)}
              lang={htmlLang(other)}
              aria-label={strings.switchToLabel}
              className="rounded-md border border-slate-300 px-2.5 py-1 text-sm font-medium text-slate-700 hover:bg-slate-100"
            >
              {strings.switchTo}
            </Link>
          </div>
        </div>
      </header>
      <main className={`mx-auto ${wide ? 'max-w-[96rem]' : 'max-w-4xl'} px-6 py-8`}>{children}</main>
    </div>
  );
}
