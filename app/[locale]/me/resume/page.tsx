// /[locale]/me/resume#<secret>: take over a learner identity on this browser (the secret stays in
// the fragment, which is never sent to a server; the page posts it on the learner's click).
import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { localeSchema } from '@/labs/core/model';
import { workshopStrings } from '@/app/_lib/workshops-strings';
import { PageChrome } from '@/app/[locale]/instructor/page-chrome';
import { ResumeClient } from './resume-client';

export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  return { title: workshopStrings((await params).locale === 'zh' ? 'zh' : 'en').resumeTitle, referrer: 'no-referrer' };
}

export default async function ResumePage({ params }: { params: Promise<{ locale: string }> }) {
  const parsed = localeSchema.safeParse((await params).locale);
  if (!parsed.success) notFound();
  const locale = parsed.data;
  const w = workshopStrings(locale);
  return (
    <PageChrome locale={locale} switchPath="/me/resume">
      <div className="mx-auto max-w-md">
        <h1 className="text-2xl font-bold tracking-tight">{w.resumeTitle}</h1>
        <p className="mt-2 text-slate-700">{w.resumeIntro}</p>
        <ResumeClient locale={locale} />
      </div>
    </PageChrome>
  );
}
