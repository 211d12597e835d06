// GET /api/workshops/:id/export?format=csv|json&locale=en: completion records of every member (per
// learner and lab, with the kernel evidence of each passed step). JSON records also carry their
// signed verification link. Instructors only.
import { forWorkshopInstructors } from '@/app/_lib/authorization.server';
import { database } from '@/app/_lib/db/database';
import { toCsv, toJson } from '@/app/_lib/db/export';
import { completionRecords } from '@/app/_lib/db/repository';
import { apiError } from '@/app/_lib/http.server';
import { appSecret } from '@/app/_lib/learner-cookie.server';
import { claimOf, completionPath, signCompletion } from '@/app/_lib/workshops-completion.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = forWorkshopInstructors({}, async ({ request, workshopId: id, locale, workshop }) => {
  const format = request.nextUrl.searchParams.get('format') ?? 'csv';
  if (format !== 'csv' && format !== 'json') return apiError(locale, 400, 'export_bad_format');
  const records = await completionRecords(await database(), { workshopId: id, labIds: workshop.lessons });
  const name = `workshop-${workshop.code}-completion.${format}`;
  const headers = { 'cache-control': 'no-store', 'content-disposition': `attachment; filename="${name}"` };
  if (format === 'csv') return new Response(toCsv(records), { headers: { ...headers, 'content-type': 'text/csv; charset=utf-8' } });
  const secret = appSecret();
  const parsed = JSON.parse(toJson(records)) as { records: Array<Record<string, unknown>> };
  parsed.records = parsed.records.map((record, index) => {
    const source = records[index]!;
    return { ...record, verifyPath: completionPath(signCompletion(claimOf(source), secret), locale) };
  });
  return new Response(JSON.stringify(parsed, null, 2), { headers: { ...headers, 'content-type': 'application/json; charset=utf-8' } });
});
