// /[locale]/completion/[token]: anyone can check a signed completion link, without an account.
import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { getLab } from '@/labs';
import { localeSchema } from '@/labs/core/model';
import { appSecret } from '@/app/_lib/learner-cookie.server';
import { decodeParam } from '@/app/_lib/url-param';
import { verifyCompletion } from '@/app/_lib/workshops-completion.server';
import { formatWhen, workshopStrings } from '@/app/_lib/workshops-strings';
import { PageChrome } from '@/app/[locale]/instructor/page-chrome';

export const dynamic = 'force-dynamic';

export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  return { title: workshopStrings((await params).locale === 'zh' ? 'zh' : 'en').completionTitle, robots: { index: false } };
}

export default async function CompletionPage({ params }: { params: Promise<{ locale: string; token: string }> }) {
  const { locale: rawLocale, token } = await params;
  const parsed = localeSchema.safeParse(rawLocale);
  if (!parsed.success) notFound();
  const locale = parsed.data;
  const w = workshopStrings(locale);
  const decoded = decodeParam(token);
  if (decoded === null) notFound(); // malformed percent-encoding: 404, not a 500
  const claim = verifyCompletion(decoded, appSecret());
  const lab = claim ? getLab(claim.lab) : undefined;
  return (
    <PageChrome locale={locale} switchPath={`/completion/${token}`}>
      <h1 className="text-3xl font-bold tracking-tight">{w.completionTitle}</h1>
      {!claim ? (
        <p role="alert" className="mt-4 rounded-md bg-red-50 p-4 text-red-900 ring-1 ring-red-200" data-completion-valid="false">
          {w.completionInvalid}
        </p>
      ) : (
        <div className="mt-4 grid gap-4" data-completion-valid="true">
          <p className="rounded-md bg-emerald-50 p-3 text-emerald-950 ring-1 ring-emerald-200">{w.completionValid}</p>
          <p className="text-xl">
            <span className="font-semibold" data-completion-name>
              {w.completionWho(claim.name)}
            </span>{' '}
            · <span data-completion-lab>{lab?.title[locale] ?? claim.lab}</span>
          </p>
          <p data-completion-summary>
            {lab && claim.steps.length >= lab.steps.length ? w.completionComplete : w.completionPartial(claim.steps.length, lab?.steps.length ?? claim.steps.length)}
          </p>
          <table className="w-full max-w-2xl border-collapse text-sm">
            <thead>
              <tr className="border-b border-slate-200 text-left">
                <th className="py-2 pr-4 font-semibold">{w.step}</th>
                <th className="py-2 font-semibold">{w.passedAt}</th>
              </tr>
            </thead>
            <tbody>
              {claim.steps.map(([stepId, passedAt]) => (
                <tr key={stepId} className="border-b border-slate-100" data-completion-step={stepId}>
                  <td className="py-2 pr-4">{lab?.steps.find((s) => s.id === stepId)?.title[locale] ?? stepId}</td>
                  <td className="py-2 tabular-nums">
                    <time dateTime={new Date(passedAt).toISOString()}>{formatWhen(passedAt, locale)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="text-sm text-slate-600">{w.issuedAt(formatWhen(claim.iat, locale))}</p>
        </div>
      )}
    </PageChrome>
  );
}
