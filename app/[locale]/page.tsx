import type { Metadata } from 'next';
import { cookies } from 'next/headers';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getLab } from '@/labs';
import { localeSchema } from '@/labs/core/model';
import { LEARNER_COOKIE, appSecret, verifyLearnerCookie } from '../_lib/learner-cookie.server';
import { listLessons } from '../_lib/lessons.server';
import { storedProgress } from '../_lib/progress.server';
import { courseName, htmlLang, otherLocale, uiStrings } from '../_lib/ui-strings';

export const dynamic = 'force-dynamic';

export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  const parsed = localeSchema.safeParse((await params).locale);
  return { title: parsed.success ? uiStrings(parsed.data).lessons : courseName };
}

/** Passed step ids per lab for the learner of this request (none for a new visitor or a down database). */
async function learnerProgress(labIds: string[]): Promise<Map<string, Set<string>>> {
  const progress = new Map<string, Set<string>>();
  let learnerId: string | null = null;
  try {
    learnerId = verifyLearnerCookie((await cookies()).get(LEARNER_COOKIE)?.value, appSecret());
  } catch {
    learnerId = null;
  }
  if (!learnerId) return progress;
  const id = learnerId;
  await Promise.all(
    labIds.map(async (labId) => {
      const rows = await storedProgress(id, labId);
      progress.set(labId, new Set((rows ?? []).map((row) => row.stepId)));
    }),
  );
  return progress;
}

export default async function CoursePage({ params }: { params: Promise<{ locale: string }> }) {
  const parsed = localeSchema.safeParse((await params).locale);
  if (!parsed.success) notFound();
  const locale = parsed.data;
  const strings = uiStrings(locale);
  const other = otherLocale(locale);
  const lessons = await listLessons(locale);
  const progress = await learnerProgress(lessons.flatMap((l) => (l.frontmatter.lab ? [l.frontmatter.lab] : [])));
  const rows = lessons.map((lesson) => {
    const lab = lesson.frontmatter.lab ? getLab(lesson.frontmatter.lab) : undefined;
    const total = lab?.steps.length ?? 0;
    const passedIds = lab ? (progress.get(lab.id) ?? new Set<string>()) : new Set<string>();
    const done = lab ? lab.steps.filter((s) => passedIds.has(s.id)).length : 0;
    return { lesson, total, done };
  });
  const complete = rows.filter((r) => r.total > 0 && r.done === r.total).length;
  const next = rows.find((r) => r.total > 0 && r.done < r.total);
  return (
    <div className="min-h-dvh bg-slate-50">
      <a href="#lessons" className="skip-link">
        {strings.skipToLesson}
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-4xl items-center justify-between gap-4 px-6 py-3">
          <span className="text-lg font-bold tracking-tight">
            <span className="text-sky-700">ns</span>lab
          </span>
          <Link
            href={`/${other}`}
            hrefLang={htmlLang(other)}
            lang={htmlLang(other)}
            aria-label={strings.switchToLabel}
            className="rounded-md border border-slate-300 px-2.5 py-1 text-sm font-medium text-slate-700 hover:bg-slate-100"
            data-language-switch
          >
            {strings.switchTo}
          </Link>
        </div>
      </header>
      <main className="mx-auto max-w-4xl px-6 py-10">
        <h1 className="text-3xl font-bold tracking-tight">{strings.lessons}</h1>
        <p className="mt-2 max-w-2xl text-slate-700">{strings.lessonsIntro}</p>
        <div className="mt-5 flex flex-wrap items-center gap-4">
          <p className="m-0 text-sm font-medium text-slate-700" data-course-progress={`${complete}/${rows.length}`}>
            {strings.courseOverall(complete, rows.length)}
          </p>
          {next && (
            <Link
              href={`/${locale}/lessons/${next.lesson.slug}`}
              className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-semibold text-white shadow-sm hover:bg-sky-800"
              data-continue={next.lesson.slug}
            >
              {strings.continueLesson}: {next.lesson.frontmatter.title}
            </Link>
          )}
        </div>
        <ol id="lessons" className="mt-8 grid list-none gap-4 p-0">
          {rows.map(({ lesson, total, done }, index) => {
            const state = total > 0 && done === total ? 'done' : done > 0 ? 'started' : 'new';
            const percent = total > 0 ? Math.round((done / total) * 100) : 0;
            return (
              <li key={lesson.slug}>
                <Link
                  href={`/${locale}/lessons/${lesson.slug}`}
                  className="group flex gap-4 rounded-xl border border-slate-200 bg-white p-5 shadow-sm transition hover:border-sky-300 hover:shadow"
                  data-lesson={lesson.slug}
                  data-lesson-state={state}
                  data-lesson-progress={`${done}/${total}`}
                >
                  <span
                    className={`flex size-9 shrink-0 items-center justify-center rounded-full text-sm font-bold ${
                      state === 'done' ? 'bg-emerald-700 text-white' : state === 'started' ? 'bg-sky-100 text-sky-800 ring-2 ring-sky-400' : 'bg-slate-100 text-slate-600'
                    }`}
                    aria-hidden="true"
                  >
                    {state === 'done' ? '✓' : index + 1}
                  </span>
                  <span className="min-w-0 flex-1">
                    <span className="flex flex-wrap items-baseline justify-between gap-2">
                      <span className="text-lg font-semibold text-slate-900 group-hover:text-sky-800">{lesson.frontmatter.title}</span>
                      <span className="flex gap-2 text-xs font-medium text-slate-600">
                        {lesson.frontmatter.lab && <span className="rounded-full bg-sky-100 px-2 py-0.5 text-sky-800">{strings.lab}</span>}
                        <span>{strings.minutes(lesson.frontmatter.minutes)}</span>
                      </span>
                    </span>
                    <span className="mt-1 block text-slate-700">{lesson.frontmatter.summary}</span>
                    {total > 0 && (
                      <span className="mt-3 flex items-center gap-3 text-xs text-slate-600">
                        <span className="h-1.5 w-40 overflow-hidden rounded-full bg-slate-200" aria-hidden="true">
                          <span className="block h-full rounded-full bg-emerald-500" style={{ width: `${percent}%` }} />
                        </span>
                        <span>
                          {state === 'done' ? strings.courseDone : state === 'started' ? strings.courseStarted : strings.courseNew} ·{' '}
                          {strings.courseProgress(done, total)}
                        </span>
                      </span>
                    )}
                  </span>
                </Link>
              </li>
            );
          })}
        </ol>
      </main>
    </div>
  );
}
