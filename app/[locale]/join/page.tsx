// /[locale]/join: join a workshop with a code and a name.
import type { Metadata } from 'next';
import { workshopStrings } from '@/app/_lib/workshops-strings';
import { JoinPage } from './join-page';

export const dynamic = 'force-dynamic';

export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  return { title: workshopStrings((await params).locale === 'zh' ? 'zh' : 'en').joinTitle };
}

export default async function Join({ params, searchParams }: { params: Promise<{ locale: string }>; searchParams: Promise<{ code?: string }> }) {
  const code = (await searchParams).code;
  return <JoinPage rawLocale={(await params).locale} code={typeof code === 'string' ? code.slice(0, 20) : ''} />;
}
