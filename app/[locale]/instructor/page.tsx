// /[locale]/instructor: instructor sign-in (redirects to the workshops when already signed in).
import type { Metadata } from 'next';
import { notFound, redirect } from 'next/navigation';
import { localeSchema } from '@/labs/core/model';
import { workshopStrings } from '@/app/_lib/workshops-strings';
import { currentInstructor } from '@/app/_lib/identity.server';
import { PageChrome } from './page-chrome';
import { SignInForm } from './sign-in-form';

export const dynamic = 'force-dynamic';

export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  const parsed = localeSchema.safeParse((await params).locale);
  return { title: workshopStrings(parsed.success ? parsed.data : 'en').signInTitle };
}

export default async function InstructorSignIn({ params }: { params: Promise<{ locale: string }> }) {
  const parsed = localeSchema.safeParse((await params).locale);
  if (!parsed.success) notFound();
  const locale = parsed.data;
  if (await currentInstructor().catch(() => null)) redirect(`/${locale}/workshops`);
  const w = workshopStrings(locale);
  return (
    <PageChrome locale={locale} switchPath="/instructor">
      <div className="mx-auto max-w-md">
        <h1 className="text-2xl font-bold tracking-tight">{w.signInTitle}</h1>
        <p className="mt-2 text-slate-700">{w.signInIntro}</p>
        <SignInForm locale={locale} />
        <p className="mt-8 text-sm text-slate-600">{w.firstInstructorHelp}</p>
      </div>
    </PageChrome>
  );
}
