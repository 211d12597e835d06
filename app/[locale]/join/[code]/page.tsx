// /[locale]/join/[code]: the join link and QR code target, with the code filled in.
import type { Metadata } from 'next';
import { workshopStrings } from '../../../_lib/workshops-strings';
import { JoinPage } from '../join-page';

export const dynamic = 'force-dynamic';

export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  return { title: workshopStrings((await params).locale === 'zh' ? 'zh' : 'en').joinTitle };
}

export default async function JoinWithCode({ params }: { params: Promise<{ locale: string; code: string }> }) {
  const { locale, code } = await params;
  return <JoinPage rawLocale={locale} code={decodeURIComponent(code).slice(0, 20)} />;
}
