import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { getLab } from '@/labs';
import { localeSchema, type Locale } from '@/labs/core/model';
import { LessonWorkspace } from '@/app/_components/lesson-workspace';
import { DevContentReload } from '@/app/_components/dev-content-reload';
import { ReadingLesson } from '@/app/_components/reading-lesson';
import { WorkshopBanner } from '@/app/_components/workshop-banner';
import { WorkshopEndedLesson } from '@/app/_components/workshop-ended-lesson';
import { toLabView } from '@/app/_lib/lab-view';
import { getLesson, listLessons, LessonNotFoundError, type Lesson } from '@/app/_lib/lessons.server';
import { lessonLock, storedProgress } from '@/app/_lib/progress.server';
import { otherLocale } from '@/app/_lib/ui-strings';
import { currentLearnerId } from '@/app/_lib/identity.server';

type Params = Promise<{ locale: string; slug: string }>;

export async function generateStaticParams({ params }: { params: { locale: string } }) {
  const parsed = localeSchema.safeParse(params.locale);
  if (!parsed.success) return [];
  return (await listLessons(parsed.data)).map((lesson) => ({ slug: lesson.slug }));
}

async function load(params: Params): Promise<{ locale: Locale; lesson: Lesson }> {
  const { locale: rawLocale, slug } = await params;
  const locale = localeSchema.safeParse(rawLocale);
  if (!locale.success) notFound();
  try {
    return { locale: locale.data, lesson: await getLesson(slug, locale.data) };
  } catch (error) {
    if (error instanceof LessonNotFoundError) notFound();
    throw error;
  }
}

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { lesson } = await load(params);
  return { title: lesson.frontmatter.title, description: lesson.frontmatter.summary };
}

export default async function LessonPage({ params }: { params: Params }) {
  const { locale, lesson } = await load(params);
  const other = otherLocale(locale);
  const lab = lesson.frontmatter.lab ? getLab(lesson.frontmatter.lab) : undefined;
  if (lesson.frontmatter.lab && !lab) throw new Error(`lesson ${lesson.slug} names an unknown lab "${lesson.frontmatter.lab}"`);
  if (!lab) {
    return (
      <main className="mx-auto max-w-3xl px-6 py-8">
        <article className="lesson-prose">
          <h1>{lesson.frontmatter.title}</h1>
          <ReadingLesson locale={locale} code={lesson.code} />
        </article>
        {process.env.NODE_ENV === 'development' && <DevContentReload />}
      </main>
    );
  }
  // A member of a workshop that has ended gets a closed lesson (and no sandbox), with their progress.
  // (Reading the learner cookie renders lab lessons per request.)
  const learnerId = await currentLearnerId();
  const lock = learnerId ? await lessonLock(learnerId, lab.id) : null;
  if (learnerId && lock) {
    const stored = (await storedProgress(learnerId, lab.id)) ?? [];
    return (
      <WorkshopEndedLesson
        locale={locale}
        lessonTitle={lesson.frontmatter.title}
        workshop={{ id: lock.id, title: lock.title, endedAtMs: Math.min(lock.endedAtMs ?? lock.endsAtMs, lock.endsAtMs) }}
        steps={lab.steps.map((step) => ({ id: step.id, title: step.title }))}
        passed={Object.fromEntries(stored.map((r) => [r.stepId, r.atMs]))}
      />
    );
  }
  return (
    <>
      <LessonWorkspace
        key={`${lab.id}`}
        locale={locale}
        lab={toLabView(lab)}
        code={lesson.code}
        lessonTitle={lesson.frontmatter.title}
        switchHref={`/${other}/lessons/${lesson.slug}`}
        switchLocale={other}
      />
      {process.env.NODE_ENV === 'development' && <DevContentReload />}
      {/* An instructor's message to a workshop, also for learners who were offline when it was sent. */}
      <div className="fixed inset-x-0 bottom-0 z-50">
        <WorkshopBanner locale={locale} />
      </div>
    </>
  );
}
