import { notFound } from 'next/navigation';
import type { ReactNode } from 'react';
import { localeSchema, locales } from '@/labs/core/model';
import { htmlLang } from '../_lib/ui-strings';

export function generateStaticParams() {
  return locales.map((locale) => ({ locale }));
}

export default async function LocaleLayout({ children, params }: { children: ReactNode; params: Promise<{ locale: string }> }) {
  const parsed = localeSchema.safeParse((await params).locale);
  if (!parsed.success) notFound();
  // The root layout's <html> is shared; the language of everything below is set here (it picks
  // the right CJK glyphs and the screen reader's voice).
  return (
    <div lang={htmlLang(parsed.data)} className="contents">
      {children}
    </div>
  );
}
