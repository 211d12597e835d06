// /[locale]/join/[code]: the join link and QR code target, with the code filled in.
import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { decodeParam } from '@/app/_lib/url-param';
import { workshopStrings } from '@/app/_lib/workshops-strings';
import { JoinPage } from '../join-page';

export const dynamic = 'force-dynamic';

export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  return { title: workshopStrings((await params).locale === 'zh' ? 'zh' : 'en').joinTitle };
}

export default async function JoinWithCode({ params }: { params: Promise<{ locale: string; code: string }> }) {
  const { locale, code } = await params;
  const decoded = decodeParam(code);
  if (decoded === null) notFound(); // malformed percent-encoding: 404, not a 500
  return <JoinPage rawLocale={locale} code={decoded.slice(0, 20)} />;
}
