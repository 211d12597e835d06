// GET /api/workshops/:id/export?format=csv|json&locale=en: completion records of every member (per
// learner and lab, with the kernel evidence of each passed step). JSON records also carry their
// signed verification link. Instructors only.
import type { NextRequest } from 'next/server';
import { completionRecords, toCsv, toJson } from '../../../../_lib/db/repository';
import { appSecret } from '../../../../_lib/learner-cookie.server';
import { claimOf, completionPath, signCompletion } from '../../../../_lib/workshops-completion.server';
import { apiError, database, requestLocale, requireWorkshopInstructor } from '../../../../_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(request: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const locale = requestLocale(request);
  const access = await requireWorkshopInstructor(request, id, locale);
  if (!access.ok) return access.response;
  const format = request.nextUrl.searchParams.get('format') ?? 'csv';
  if (format !== 'csv' && format !== 'json') return apiError(locale, 400, 'export_bad_format');
  const records = await completionRecords(await database(), { workshopId: id, labIds: access.workshop.lessons });
  const name = `workshop-${access.workshop.code}-completion.${format}`;
  const headers = { 'cache-control': 'no-store', 'content-disposition': `attachment; filename="${name}"` };
  if (format === 'csv') return new Response(toCsv(records), { headers: { ...headers, 'content-type': 'text/csv; charset=utf-8' } });
  const secret = appSecret();
  const parsed = JSON.parse(toJson(records)) as { records: Array<Record<string, unknown>> };
  parsed.records = parsed.records.map((record, index) => {
    const source = records[index]!;
    return { ...record, verifyPath: completionPath(signCompletion(claimOf(source), secret), locale) };
  });
  return new Response(JSON.stringify(parsed, null, 2), { headers: { ...headers, 'content-type': 'application/json; charset=utf-8' } });
}
