// The page a workshop member gets for a lesson of their workshop after it ended (instead of the
// lab and its terminals): what happened, what they passed in this lab (nothing is lost), and the
// way to their completion records. Server component; the session API refuses them a sandbox too
// (410 workshop_ended).
import Link from 'next/link';
import type { Locale, Localized } from '../../labs/core/model';
import { formatWhen, workshopStrings } from '../_lib/workshops-strings';

export interface WorkshopEndedLessonProps {
  locale: Locale;
  lessonTitle: string;
  workshop: { id: string; title: string; endedAtMs: number };
  steps: Array<{ id: string; title: Localized }>;
  /** stepId -> passedAt (ms) of what the learner stored. */
  passed: Record<string, number>;
}

export function WorkshopEndedLesson({ locale, lessonTitle, workshop, steps, passed }: WorkshopEndedLessonProps) {
  const w = workshopStrings(locale);
  const passedSteps = steps.filter((step) => passed[step.id] !== undefined);
  return (
    <main className="mx-auto max-w-2xl px-6 py-10" data-workshop-ended={workshop.id}>
      <p className="text-sm font-medium text-slate-500">{lessonTitle}</p>
      <h1 className="mt-1 text-2xl font-bold tracking-tight text-slate-900">{w.lockedTitle}</h1>
      <p className="mt-3 text-slate-700" data-workshop-ended-message>
        {w.lockedIntro(workshop.title, formatWhen(workshop.endedAtMs, locale))}
      </p>
      <section className="mt-6 rounded-lg border border-slate-200 bg-white p-4" data-locked-progress={passedSteps.length}>
        {passedSteps.length > 0 ? (
          <>
            <p className="text-slate-800">{w.lockedProgress(passedSteps.length, steps.length)}</p>
            <ul className="mt-2 space-y-1">
              {passedSteps.map((step) => (
                <li key={step.id} className="flex items-baseline gap-2 text-slate-800" data-locked-step={step.id}>
                  <span aria-hidden className="text-emerald-700">
                    ✓
                  </span>
                  <span>{step.title[locale]}</span>
                  <span className="text-xs text-slate-500">{formatWhen(passed[step.id] ?? 0, locale)}</span>
                </li>
              ))}
            </ul>
          </>
        ) : (
          <p className="text-slate-700">{w.lockedNoProgress}</p>
        )}
      </section>
      <div className="mt-6 flex flex-wrap gap-4">
        <Link href={`/${locale}/me`} className="font-semibold text-sky-700 underline" data-locked-records>
          {w.lockedRecords}
        </Link>
        <Link href={`/${locale}`} className="text-sky-700 underline">
          {w.lockedLessons}
        </Link>
      </div>
    </main>
  );
}
