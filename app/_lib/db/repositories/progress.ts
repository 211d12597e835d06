// Progress read across learners: the workshop grid's learners x steps, and completion records
// (per learner and lab, with evidence) for the learner's page, completion links and exports.
import type { Evidence } from '@/labs/core/model';
import type { Db } from '../database';
import { labIdSchema, learnerIdSchema } from '../validation';
import { getLearner } from './learners';
import { toStoredStepResult } from './step-results';
import { workshopRoster, type WorkshopMember } from './workshop-members';

export interface WorkshopProgressRow {
  learnerId: string;
  displayName: string;
  joinedAt: number;
  /** passed[labId][stepId] = passedAt */
  passed: Record<string, Record<string, number>>;
}

/**
 * Learners x steps for a workshop: every member with the steps they passed (of `labIds`, or of any
 * lab). Progress earned before joining counts too: it is the learner's, not the workshop's.
 */
export async function workshopProgress(db: Db, workshopId: string, labIds?: string[]): Promise<WorkshopProgressRow[]> {
  const roster = await workshopRoster(db, workshopId);
  let query = db
    .selectFrom('step_results')
    .innerJoin('workshop_members', 'workshop_members.learner_id', 'step_results.learner_id')
    .select(['step_results.learner_id', 'step_results.lab_id', 'step_results.step_id', 'step_results.passed_at'])
    .where('workshop_members.workshop_id', '=', workshopId);
  if (labIds !== undefined) {
    if (labIds.length === 0) return roster.map((m) => ({ ...pickMember(m), passed: {} }));
    query = query.where('step_results.lab_id', 'in', labIds.map((id) => labIdSchema.parse(id)));
  }
  const results = await query.execute();
  const byLearner = new Map<string, WorkshopProgressRow>(roster.map((m) => [m.learnerId, { ...pickMember(m), passed: {} }]));
  for (const r of results) {
    const row = byLearner.get(r.learner_id);
    if (!row) continue;
    (row.passed[r.lab_id] ??= {})[r.step_id] = r.passed_at;
  }
  return [...byLearner.values()];
}

function pickMember(m: WorkshopMember): Omit<WorkshopProgressRow, 'passed'> {
  return { learnerId: m.learnerId, displayName: m.displayName, joinedAt: m.joinedAtMs };
}

/** What one learner did in one lab, with the kernel evidence of each passed step. */
export interface CompletionRecord {
  learnerId: string;
  /** The learner's name now (the instructor's roster and export). */
  displayName: string | null;
  /**
   * The name the record certifies (the completion link): the learner's name when the record's
   * latest step was stored, frozen there; a later rename does not change it.
   */
  certifiedName: string | null;
  labId: string;
  steps: Array<{
    stepId: string;
    status: 'passed';
    passedAt: number;
    message: { en: string; zh: string } | null;
    evidence: Evidence;
  }>;
  firstPassedAt: number;
  lastPassedAt: number;
}

export type CompletionScope = { workshopId: string; labIds?: string[] } | { learnerId: string; labIds?: string[] };

/**
 * Completion records per learner and lab (steps oldest first): for every member of a workshop
 * (named as they joined) or for one learner. Whether a lab is complete is for the caller to judge
 * against the lab's step list (labs/), which the data layer does not know.
 */
export async function completionRecords(db: Db, scope: CompletionScope): Promise<CompletionRecord[]> {
  const names = new Map<string, string | null>();
  let learnerIds: string[];
  if ('workshopId' in scope) {
    const roster = await workshopRoster(db, scope.workshopId);
    for (const m of roster) names.set(m.learnerId, m.displayName);
    learnerIds = roster.map((m) => m.learnerId);
  } else {
    const learner = await getLearner(db, learnerIdSchema.parse(scope.learnerId));
    if (!learner) return [];
    names.set(learner.id, learner.displayName);
    learnerIds = [learner.id];
  }
  if (learnerIds.length === 0) return [];
  let query = db.selectFrom('step_results').selectAll().where('learner_id', 'in', learnerIds);
  if (scope.labIds !== undefined) {
    if (scope.labIds.length === 0) return [];
    query = query.where('lab_id', 'in', scope.labIds.map((id) => labIdSchema.parse(id)));
  }
  const rows = await query.orderBy('passed_at').orderBy('step_id').execute();
  const records = new Map<string, CompletionRecord>();
  for (const row of rows) {
    const key = JSON.stringify([row.learner_id, row.lab_id]);
    let record = records.get(key);
    if (!record) {
      record = {
        learnerId: row.learner_id,
        displayName: names.get(row.learner_id) ?? null,
        certifiedName: row.display_name,
        labId: row.lab_id,
        steps: [],
        firstPassedAt: row.passed_at,
        lastPassedAt: row.passed_at,
      };
      records.set(key, record);
    }
    const stored = toStoredStepResult(row);
    record.steps.push({ stepId: stored.stepId, status: stored.status, passedAt: stored.passedAt, message: stored.message, evidence: stored.evidence });
    record.firstPassedAt = Math.min(record.firstPassedAt, row.passed_at);
    if (row.passed_at >= record.lastPassedAt) record.certifiedName = row.display_name; // rows come in passed_at order
    record.lastPassedAt = Math.max(record.lastPassedAt, row.passed_at);
  }
  const order = new Map(learnerIds.map((id, index) => [id, index]));
  return [...records.values()].sort(
    (a, b) => (order.get(a.learnerId) ?? 0) - (order.get(b.learnerId) ?? 0) || a.labId.localeCompare(b.labId),
  );
}
