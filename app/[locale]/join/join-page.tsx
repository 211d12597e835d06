// The join page body, shared by /[locale]/join and /[locale]/join/[code] (the QR code's target).
import { notFound } from 'next/navigation';
import { localeSchema } from '@/labs/core/model';
import { getLearner } from '@/app/_lib/db/repository';
import { workshopStrings } from '@/app/_lib/workshops-strings';
import { database } from '@/app/_lib/db/database';
import { currentLearnerId } from '@/app/_lib/identity.server';
import { PageChrome } from '../instructor/page-chrome';
import { JoinForm } from './join-form';

export async function JoinPage({ rawLocale, code }: { rawLocale: string; code: string }) {
  const parsed = localeSchema.safeParse(rawLocale);
  if (!parsed.success) notFound();
  const locale = parsed.data;
  const w = workshopStrings(locale);
  const learnerId = await currentLearnerId();
  const learner = learnerId ? await getLearner(await database(), learnerId).catch(() => null) : null;
  return (
    <PageChrome locale={locale} switchPath={code ? `/join/${code}` : '/join'}>
      <div className="mx-auto max-w-md">
        <h1 className="text-2xl font-bold tracking-tight">{w.joinTitle}</h1>
        <p className="mt-2 text-slate-700">{w.joinIntro}</p>
        <JoinForm locale={locale} code={code} name={learner?.displayName ?? ''} />
      </div>
    </PageChrome>
  );
}
