// /[locale]/workshops: the signed-in instructor's workshops and the form to create one.
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound, redirect } from 'next/navigation';
import { localeSchema } from '@/labs/core/model';
import { workshopHasEnded, workshopsForInstructor } from '@/app/_lib/db/repository';
import { listLessons } from '@/app/_lib/lessons.server';
import { formatWhen, workshopStrings } from '@/app/_lib/workshops-strings';
import { database } from '@/app/_lib/db/database';
import { currentInstructor } from '@/app/_lib/identity.server';
import { PageChrome } from '../instructor/page-chrome';
import { SignOutButton } from './sign-out-button';
import { CreateWorkshopForm } from './create-workshop-form';

export const dynamic = 'force-dynamic';

export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  const parsed = localeSchema.safeParse((await params).locale);
  return { title: workshopStrings(parsed.success ? parsed.data : 'en').workshops };
}

export default async function WorkshopsPage({ params }: { params: Promise<{ locale: string }> }) {
  const parsed = localeSchema.safeParse((await params).locale);
  if (!parsed.success) notFound();
  const locale = parsed.data;
  const instructor = await currentInstructor();
  if (!instructor) redirect(`/${locale}/instructor`);
  const w = workshopStrings(locale);
  const [workshops, lessons] = await Promise.all([workshopsForInstructor(await database(), instructor.id), listLessons(locale)]);
  const now = Date.now();
  return (
    <PageChrome
      locale={locale}
      switchPath="/workshops"
      right={
        <span className="flex items-center gap-3 text-sm text-slate-600">
          <span data-instructor-email>{instructor.email}</span>
          <SignOutButton locale={locale} label={w.signOut} />
          <SignOutButton locale={locale} label={w.signOutEverywhere} everywhere confirmText={w.signOutEverywhereConfirm} />
        </span>
      }
    >
      <h1 className="text-3xl font-bold tracking-tight">{w.yourWorkshops}</h1>
      {workshops.length === 0 ? (
        <p className="mt-4 text-slate-700">{w.noWorkshops}</p>
      ) : (
        <ul className="mt-6 grid gap-3">
          {workshops.map((ws) => {
            const ended = workshopHasEnded(ws, now);
            return (
              <li key={ws.id}>
                <Link
                  href={`/${locale}/workshops/${ws.id}`}
                  data-workshop={ws.code}
                  className="flex flex-wrap items-center justify-between gap-3 rounded-xl border border-slate-200 bg-white p-4 shadow-sm hover:border-sky-300"
                >
                  <span>
                    <span className="block font-semibold text-slate-900">{ws.title}</span>
                    <span className="block text-sm text-slate-600">
                      {formatWhen(ws.startsAtMs, locale)} · {w.seats(ws.memberCount, ws.capacity)}
                    </span>
                  </span>
                  <span className="flex items-center gap-3">
                    <span className="font-mono text-lg font-bold tracking-widest text-slate-800">{ws.code}</span>
                    <span
                      className={`rounded-full px-2 py-0.5 text-xs font-medium ${ended ? 'bg-slate-200 text-slate-700' : now < ws.startsAtMs ? 'bg-amber-100 text-amber-900' : 'bg-emerald-100 text-emerald-900'}`}
                    >
                      {ended ? w.ended : now < ws.startsAtMs ? w.upcoming : w.running}
                    </span>
                  </span>
                </Link>
              </li>
            );
          })}
        </ul>
      )}
      <section className="mt-10 rounded-xl border border-slate-200 bg-white p-6 shadow-sm" aria-labelledby="new-workshop">
        <h2 id="new-workshop" className="text-xl font-semibold">
          {w.newWorkshop}
        </h2>
        <CreateWorkshopForm locale={locale} lessons={lessons.map((l) => ({ slug: l.slug, title: l.frontmatter.title }))} />
      </section>
    </PageChrome>
  );
}
