import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { localeSchema } from '../../labs/core/model';
import { listLessons } from '../_lib/lessons.server';
import { courseName, htmlLang, otherLocale, uiStrings } from '../_lib/ui-strings';

export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  const parsed = localeSchema.safeParse((await params).locale);
  return { title: parsed.success ? uiStrings(parsed.data).lessons : courseName };
}

export default async function LessonList({ params }: { params: Promise<{ locale: string }> }) {
  const parsed = localeSchema.safeParse((await params).locale);
  if (!parsed.success) notFound();
  const locale = parsed.data;
  const strings = uiStrings(locale);
  const other = otherLocale(locale);
  const lessons = await listLessons(locale);
  return (
    <div className="min-h-dvh">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-4xl items-center justify-between gap-4 px-6 py-3">
          <span className="text-lg font-bold tracking-tight">
            <span className="text-sky-600">ns</span>lab
          </span>
          <Link
            href={`/${other}`}
            hrefLang={htmlLang(other)}
            lang={htmlLang(other)}
            aria-label={strings.switchToLabel}
            className="rounded-md border border-slate-300 px-2.5 py-1 text-sm font-medium text-slate-700 hover:bg-slate-100"
          >
            {strings.switchTo}
          </Link>
        </div>
      </header>
      <main className="mx-auto max-w-4xl px-6 py-10">
        <h1 className="text-3xl font-bold tracking-tight">{strings.lessons}</h1>
        <p className="mt-2 max-w-2xl text-slate-700">{strings.lessonsIntro}</p>
        <ol className="mt-8 grid gap-4">
          {lessons.map((lesson) => (
            <li key={lesson.slug}>
              <Link
                href={`/${locale}/lessons/${lesson.slug}`}
                className="block rounded-xl border border-slate-200 bg-white p-5 shadow-sm transition hover:border-sky-300 hover:shadow"
                data-lesson={lesson.slug}
              >
                <span className="flex flex-wrap items-baseline justify-between gap-2">
                  <span className="text-lg font-semibold text-slate-900">{lesson.frontmatter.title}</span>
                  <span className="flex gap-2 text-xs font-medium text-slate-600">
                    {lesson.frontmatter.lab && <span className="rounded-full bg-sky-100 px-2 py-0.5 text-sky-800">{strings.lab}</span>}
                    <span>{strings.minutes(lesson.frontmatter.minutes)}</span>
                  </span>
                </span>
                <span className="mt-1 block text-slate-700">{lesson.frontmatter.summary}</span>
              </Link>
            </li>
          ))}
        </ol>
      </main>
    </div>
  );
}
