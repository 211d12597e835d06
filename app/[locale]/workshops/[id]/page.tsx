// /[locale]/workshops/[id]: the live instructor dashboard (only the workshop's instructors): join
// code, link and QR code; the learners x steps grid over SSE; grouped failure reasons; messages,
// extend, end, export; a read-only live view of a learner's terminals.
import type { Metadata } from 'next';
import { notFound, redirect } from 'next/navigation';
import QRCode from 'qrcode';
import { localeSchema } from '@/labs/core/model';
import { isWorkshopInstructor } from '@/app/_lib/db/repository';
import { formatWhen, workshopStrings } from '@/app/_lib/workshops-strings';
import { database } from '@/app/_lib/db/database';
import { publicOrigin } from '@/app/_lib/http.server';
import { currentInstructor } from '@/app/_lib/identity.server';
import { workshopGrid } from '@/app/_lib/workshops.server';
import { PageChrome } from '@/app/[locale]/instructor/page-chrome';
import { Dashboard } from './dashboard';

export const dynamic = 'force-dynamic';

type Params = Promise<{ locale: string; id: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const parsed = localeSchema.safeParse((await params).locale);
  return { title: workshopStrings(parsed.success ? parsed.data : 'en').workshops };
}

export default async function WorkshopDashboardPage({ params, searchParams }: { params: Params; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { locale: rawLocale, id } = await params;
  const parsed = localeSchema.safeParse(rawLocale);
  if (!parsed.success) notFound();
  const locale = parsed.data;
  const w = workshopStrings(locale);
  const instructor = await currentInstructor();
  if (!instructor) redirect(`/${locale}/instructor`);
  const allowed = /^[A-Za-z0-9_-]{1,64}$/.test(id) && (await isWorkshopInstructor(await database(), id, instructor.id));
  const grid = allowed ? await workshopGrid(id) : null;
  if (!grid) {
    return (
      <PageChrome locale={locale} switchPath={`/workshops/${id}`}>
        <h1 className="text-2xl font-bold" data-forbidden>
          {w.forbiddenTitle}
        </h1>
        <p className="mt-2 text-slate-700">{w.forbidden}</p>
      </PageChrome>
    );
  }
  const joinUrl = `${await publicOrigin()}/${locale}/join/${grid.workshop.code}`;
  const qrSvg = await QRCode.toString(joinUrl, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
  const stuckParam = Number((await searchParams).stuckAfterS);
  const stuckAfterMs = Number.isFinite(stuckParam) && stuckParam > 0 ? stuckParam * 1000 : undefined;
  return (
    <PageChrome locale={locale} switchPath={`/workshops/${id}`} wide>
      <div className="flex flex-wrap items-start justify-between gap-6">
        <div>
          <h1 className="text-3xl font-bold tracking-tight" data-workshop-title>
            {grid.workshop.title}
          </h1>
          <p className="mt-1 text-sm text-slate-600">
            {formatWhen(grid.workshop.startsAt, locale)} – {formatWhen(grid.workshop.endsAt, locale)}
          </p>
          <dl className="mt-4 grid gap-2 text-sm">
            <div className="flex items-baseline gap-3">
              <dt className="font-medium text-slate-600">{w.joinCode}</dt>
              <dd className="font-mono text-4xl font-bold tracking-[0.2em] text-slate-900" data-join-code>
                {grid.workshop.code}
              </dd>
            </div>
            <div className="flex items-baseline gap-3">
              <dt className="font-medium text-slate-600">{w.joinLink}</dt>
              <dd>
                <a href={joinUrl} className="break-all font-mono text-sky-700 underline" data-join-link>
                  {joinUrl}
                </a>
              </dd>
            </div>
          </dl>
        </div>
        <div
          role="img"
          aria-label={w.qrLabel(grid.workshop.code)}
          data-qr
          className="size-40 shrink-0 rounded-lg border border-slate-200 bg-white p-1"
          dangerouslySetInnerHTML={{ __html: qrSvg }}
        />
      </div>
      <Dashboard locale={locale} initial={grid} {...(stuckAfterMs ? { stuckAfterMs } : {})} />
    </PageChrome>
  );
}
