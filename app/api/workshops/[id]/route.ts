// GET /api/workshops/:id -> GridState (one snapshot of the dashboard; instructors of the workshop only)
import { forWorkshopInstructors } from '@/app/_lib/authorization.server';
import { apiError, jsonOk } from '@/app/_lib/http.server';
import { workshopGrid } from '@/app/_lib/workshops.server';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = forWorkshopInstructors({}, async ({ workshopId, locale }) => {
  const grid = await workshopGrid(workshopId);
  return grid ? jsonOk(grid) : apiError(locale, 404, 'workshop_not_found');
});
