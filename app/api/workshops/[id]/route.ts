// GET /api/workshops/:id -> GridState (one snapshot of the dashboard; instructors of the workshop only)
import type { NextRequest } from 'next/server';
import { apiError, jsonOk, requestLocale, requireWorkshopInstructor, workshopGrid } from '../../../_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(request: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const locale = requestLocale(request);
  const access = await requireWorkshopInstructor(request, id, locale);
  if (!access.ok) return access.response;
  const grid = await workshopGrid(id);
  return grid ? jsonOk(grid) : apiError(locale, 404, 'workshop_not_found');
}
