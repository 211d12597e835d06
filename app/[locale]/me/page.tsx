// /[locale]/me: the anonymous learner's own page: display name, a resume link for another browser,
// their workshops, and their completion records with signed verification links.
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getLab } from '@/labs';
import { localeSchema } from '@/labs/core/model';
import { completionRecords, getLearner, workshopHasEnded, workshopsForLearner } from '@/app/_lib/db/repository';
import { appSecret } from '@/app/_lib/learner-cookie.server';
import { claimOf, completionPath, signCompletion } from '@/app/_lib/workshops-completion.server';
import { formatWhen, workshopStrings } from '@/app/_lib/workshops-strings';
import { database } from '@/app/_lib/db/database';
import { currentLearnerId } from '@/app/_lib/identity.server';
import { PageChrome } from '../instructor/page-chrome';
import { DisplayNameForm, ResumeLinkMaker } from './me-forms';

export const dynamic = 'force-dynamic';

export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  return { title: workshopStrings((await params).locale === 'zh' ? 'zh' : 'en').meTitle };
}

export default async function MePage({ params }: { params: Promise<{ locale: string }> }) {
  const parsed = localeSchema.safeParse((await params).locale);
  if (!parsed.success) notFound();
  const locale = parsed.data;
  const w = workshopStrings(locale);
  const learnerId = await currentLearnerId();
  const db = await database();
  const [learner, workshops, records] = learnerId
    ? await Promise.all([getLearner(db, learnerId), workshopsForLearner(db, learnerId), completionRecords(db, { learnerId })])
    : [null, [], []];
  const secret = appSecret();
  const now = Date.now();
  return (
    <PageChrome locale={locale} switchPath="/me">
      <h1 className="text-3xl font-bold tracking-tight">{w.meTitle}</h1>
      <p className="mt-2 max-w-2xl text-slate-700">{w.meIntro}</p>
      <section className="mt-8 grid gap-6 md:grid-cols-2">
        <div className="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
          <DisplayNameForm locale={locale} name={learner?.displayName ?? ''} />
        </div>
        <div className="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
          <ResumeLinkMaker locale={locale} enabled={learnerId !== null} />
        </div>
      </section>
      {workshops.length > 0 && (
        <section className="mt-8">
          <h2 className="text-xl font-semibold">{w.yourWorkshopsLearner}</h2>
          <ul className="mt-3 grid gap-2">
            {workshops.map((ws) => (
              <li key={ws.id} className="flex flex-wrap items-center justify-between gap-2 rounded-lg border border-slate-200 bg-white p-3" data-my-workshop={ws.code}>
                <span className="font-medium">{ws.title}</span>
                <span className="flex items-center gap-3 text-sm">
                  {ws.lessons[0] && (
                    <Link className="text-sky-700 underline" href={`/${locale}/lessons/${ws.lessons[0]}`}>
                      {getLab(ws.lessons[0])?.title[locale] ?? ws.lessons[0]}
                    </Link>
                  )}
                  <span className="text-slate-600">{workshopHasEnded(ws, now) ? w.ended : w.running}</span>
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section className="mt-8">
        <h2 className="text-xl font-semibold">{w.completions}</h2>
        {records.length === 0 ? (
          <p className="mt-2 text-slate-700">{w.noCompletions}</p>
        ) : (
          <ul className="mt-3 grid gap-2">
            {records.map((r) => {
              const lab = getLab(r.labId);
              const path = completionPath(signCompletion(claimOf(r, now), secret), locale);
              return (
                <li key={r.labId} className="flex flex-wrap items-center justify-between gap-2 rounded-lg border border-slate-200 bg-white p-3" data-completion={r.labId}>
                  <span>
                    <span className="font-medium">{lab?.title[locale] ?? r.labId}</span>
                    <span className="ml-2 text-sm text-slate-600">
                      {w.stepsPassed(r.steps.length, lab?.steps.length ?? r.steps.length)} · {formatWhen(r.lastPassedAt, locale)}
                    </span>
                  </span>
                  <Link href={path} className="text-sm text-sky-700 underline" data-verify-link>
                    {w.verifyLink}
                  </Link>
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </PageChrome>
  );
}
