'use client';
// The live part of the instructor dashboard: the grid (Server-Sent Events from
// /api/workshops/:id/events, reconnecting by itself), time on the current step, who looks stuck,
// failure reasons grouped across the class, and the instructor's controls.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { Locale } from '../../../../labs/core/model';
import { cellKey, defaultStuckAfterMs, formatDuration, isStuck, type GridLearner, type GridState } from '../../../_lib/workshops';
import { formatWhen, workshopStrings } from '../../../_lib/workshops-strings';
import { buttonClass, inputClass, secondaryButtonClass } from '../../../_lib/workshops-ui';
import { TerminalViewer } from './terminal-viewer';

const stuckChoicesMs = [30_000, 60_000, 2 * 60_000, 5 * 60_000, 10 * 60_000];

/** POSTs JSON with the page's locale; `error` is the API's message in that language (or a local one). */
async function postJson(url: string, body: Record<string, unknown>, locale: Locale): Promise<{ ok: boolean; error: string }> {
  const w = workshopStrings(locale);
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, locale }) });
    const parsed = (await response.json().catch(() => null)) as { error?: unknown } | null;
    return { ok: response.ok, error: typeof parsed?.error === 'string' ? parsed.error : w.httpError(response.status) };
  } catch {
    return { ok: false, error: w.networkError };
  }
}

export function Dashboard({ locale, initial, stuckAfterMs: initialStuck }: { locale: Locale; initial: GridState; stuckAfterMs?: number }) {
  const w = workshopStrings(locale);
  const [grid, setGrid] = useState(initial);
  const [live, setLive] = useState(false);
  const [nowMs, setNowMs] = useState(initial.atMs);
  const [stuckAfterMs, setStuckAfterMs] = useState(initialStuck ?? defaultStuckAfterMs);
  const [viewing, setViewing] = useState<{ learner: GridLearner; labId: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const workshopId = initial.workshop.id;

  useEffect(() => {
    const source = new EventSource(`/api/workshops/${workshopId}/events?locale=${locale}`);
    source.addEventListener('grid', (event) => {
      setGrid(JSON.parse((event as MessageEvent<string>).data) as GridState);
      setLive(true);
    });
    source.onopen = () => setLive(true);
    source.onerror = () => setLive(false);
    return () => source.close();
  }, [workshopId]);

  useEffect(() => {
    setNowMs(Date.now());
    const timer = setInterval(() => setNowMs(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  const stepTitle = useMemo(() => {
    const map = new Map<string, string>();
    for (const lab of grid.labs) for (const step of lab.steps) map.set(cellKey(lab.labId, step.stepId), step.title[locale]);
    return map;
  }, [grid.labs, locale]);

  const ended = grid.workshop.endedAt !== null || nowMs >= grid.workshop.endsAt;
  const total = grid.learners.length;

  async function sendMessage(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const text = String(new FormData(form).get('text') ?? '');
    const result = await postJson(`/api/workshops/${workshopId}/messages`, { text }, locale);
    if (result.ok) form.reset();
    setNotice(result.ok ? w.sent : result.error);
  }

  async function extend(minutes: number) {
    const result = await postJson(`/api/workshops/${workshopId}/extend`, { minutes }, locale);
    if (!result.ok) setNotice(result.error);
  }

  async function endWorkshop() {
    if (!window.confirm(w.endConfirm)) return;
    const result = await postJson(`/api/workshops/${workshopId}/end`, {}, locale);
    setNotice(result.ok ? w.ended : result.error);
  }

  return (
    <div className="mt-8 grid gap-6">
      <div className="flex flex-wrap items-center gap-3 text-sm">
        <span
          data-live={live ? 'live' : 'reconnecting'}
          className={`inline-flex items-center gap-1.5 rounded-full px-2.5 py-0.5 font-medium ${live ? 'bg-emerald-100 text-emerald-900' : 'bg-amber-100 text-amber-900'}`}
        >
          <span aria-hidden className={`size-2 rounded-full ${live ? 'bg-emerald-500' : 'bg-amber-500'}`} />
          {live ? w.live : w.reconnecting}
        </span>
        <span data-seats>{w.seats(grid.workshop.memberCount, grid.workshop.capacity)}</span>
        <span suppressHydrationWarning data-ends-at={grid.workshop.endsAt} data-ended={ended ? 'true' : 'false'} className={ended ? 'font-semibold text-red-700' : 'text-slate-700'}>
          {grid.workshop.endedAt !== null
            ? w.endedAtLabel(formatWhen(grid.workshop.endedAt, locale))
            : w.endsAtLabel(formatWhen(grid.workshop.endsAt, locale))}
        </span>
        <span className="ml-auto flex flex-wrap items-center gap-2">
          <span className="text-slate-600">{w.extend}</span>
          {[15, 30].map((m) => (
            <button
              key={m}
              type="button"
              className={secondaryButtonClass}
              onClick={() => void extend(m)}
              disabled={ended}
              title={ended ? w.extendEnded : undefined}
              data-extend={m}
            >
              {w.extendBy(m)}
            </button>
          ))}
          <button
            type="button"
            className="inline-flex items-center rounded-md border border-red-300 bg-white px-3 py-1.5 text-sm font-medium text-red-800 hover:bg-red-50 disabled:opacity-50"
            onClick={() => void endWorkshop()}
            disabled={grid.workshop.endedAt !== null}
            data-end-workshop
          >
            {w.endWorkshop}
          </button>
          <span className="text-slate-600">{w.export}</span>
          <a className={secondaryButtonClass} href={`/api/workshops/${workshopId}/export?format=csv&locale=${locale}`} data-export="csv">
            {w.exportCsv}
          </a>
          <a className={secondaryButtonClass} href={`/api/workshops/${workshopId}/export?format=json&locale=${locale}`} data-export="json">
            {w.exportJson}
          </a>
        </span>
      </div>
      {!grid.agentOk && (
        <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-950 ring-1 ring-amber-300" data-agent-stale>
          {w.agentStale}
        </p>
      )}
      {notice && (
        <p role="status" className="text-sm text-slate-700" data-dashboard-notice>
          {notice}
        </p>
      )}

      <section aria-label={w.learner} className="overflow-x-auto rounded-xl border border-slate-200 bg-white shadow-sm">
        {total === 0 ? (
          <p className="p-6 text-slate-700" data-empty-grid>
            {w.noLearnersYet}
          </p>
        ) : (
          <table className="min-w-full border-collapse text-sm" data-grid>
            <thead>
              <tr className="border-b border-slate-200 bg-slate-50">
                <th rowSpan={2} scope="col" className="sticky left-0 bg-slate-50 px-3 py-2 text-left font-semibold">
                  {w.learner}
                </th>
                {grid.labs.map((lab) => (
                  <th key={lab.labId} colSpan={lab.steps.length} scope="colgroup" className="border-l border-slate-200 px-2 py-1 text-left font-semibold">
                    {lab.title[locale]}
                  </th>
                ))}
                <th rowSpan={2} scope="col" className="border-l border-slate-200 px-3 py-2 text-left font-semibold">
                  {w.onStep}
                </th>
                <th rowSpan={2} scope="col" className="px-3 py-2 text-left font-semibold">
                  {w.timeOnStep}
                </th>
                <th rowSpan={2} scope="col" className="px-3 py-2" />
              </tr>
              <tr className="border-b border-slate-200 bg-slate-50">
                {grid.labs.flatMap((lab) =>
                  lab.steps.map((step, index) => (
                    <th key={cellKey(lab.labId, step.stepId)} scope="col" className={`px-1 py-1 text-center font-medium text-slate-600 ${index === 0 ? 'border-l border-slate-200' : ''}`}>
                      <abbr title={step.title[locale]} className="no-underline">
                        {index + 1}
                      </abbr>
                    </th>
                  )),
                )}
              </tr>
            </thead>
            <tbody>
              {grid.learners.map((learner) => {
                const stuck = isStuck(learner, nowMs, stuckAfterMs);
                const current = learner.current;
                return (
                  <tr
                    key={learner.learnerId}
                    data-learner={learner.displayName}
                    data-stuck={stuck ? 'true' : 'false'}
                    className={`border-b border-slate-100 ${stuck ? 'bg-amber-50' : ''}`}
                  >
                    <th scope="row" className={`sticky left-0 px-3 py-2 text-left font-medium ${stuck ? 'bg-amber-50' : 'bg-white'}`}>
                      <span className="flex items-center gap-2">
                        <span
                          role="img"
                          aria-label={learner.online ? w.online : w.offline}
                          title={learner.online ? w.online : w.offline}
                          data-online={learner.online ? 'true' : 'false'}
                          className={`size-2 rounded-full ${learner.online ? 'bg-emerald-500' : 'bg-slate-300'}`}
                        />
                        {learner.displayName}
                      </span>
                    </th>
                    {grid.labs.flatMap((lab) =>
                      lab.steps.map((step, index) => {
                        const cell = learner.cells[cellKey(lab.labId, step.stepId)];
                        const status = cell?.status ?? 'pending';
                        const label =
                          status === 'passed' ? (cell?.saved ? w.cellPassed : w.cellPassedUnsaved) : status === 'failing' ? w.cellFailing : w.cellPending;
                        return (
                          <td key={step.stepId} className={`px-1 py-1 text-center ${index === 0 ? 'border-l border-slate-200' : ''}`}>
                            <span
                              data-cell={cellKey(lab.labId, step.stepId)}
                              data-status={status}
                              data-saved={cell?.saved ? 'true' : 'false'}
                              title={`${step.title[locale]}: ${label}`}
                              aria-label={`${step.title[locale]}: ${label}`}
                              role="img"
                              className={`inline-flex size-6 items-center justify-center rounded text-xs font-bold ${
                                status === 'passed'
                                  ? cell?.saved
                                    ? 'bg-emerald-700 text-white'
                                    : 'bg-emerald-200 text-emerald-900'
                                  : status === 'failing'
                                    ? 'bg-red-100 text-red-800 ring-1 ring-red-300'
                                    : 'bg-slate-100 text-slate-600'
                              }`}
                            >
                              {status === 'passed' ? '✓' : status === 'failing' ? '✗' : '·'}
                            </span>
                          </td>
                        );
                      }),
                    )}
                    <td className="border-l border-slate-200 px-3 py-2 text-slate-800" data-current-step={current ? cellKey(current.labId, current.stepId) : ''}>
                      {current ? stepTitle.get(cellKey(current.labId, current.stepId)) : '—'}
                      {current?.failure && <span className="mt-0.5 block max-w-md text-xs text-red-800">{current.failure[locale]}</span>}
                    </td>
                    <td className="whitespace-nowrap px-3 py-2 tabular-nums" data-time-on-step suppressHydrationWarning>
                      {current ? formatDuration(nowMs - current.sinceMs) : '—'}
                      {stuck && (
                        <span className="ml-2 rounded-full bg-amber-200 px-2 py-0.5 text-xs font-semibold text-amber-950" data-stuck-badge>
                          {w.stuck}
                        </span>
                      )}
                    </td>
                    <td className="px-3 py-2">
                      {learner.sessions.length > 0 && (
                        <button
                          type="button"
                          className={secondaryButtonClass}
                          data-view-terminal={learner.displayName}
                          onClick={() => setViewing({ learner, labId: (learner.current ?? learner.sessions[0]!).labId })}
                        >
                          {w.viewTerminal}
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>

      <div className="grid gap-6 lg:grid-cols-2">
        <section aria-labelledby="reasons" className="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
          <div className="flex flex-wrap items-center justify-between gap-3">
            <h2 id="reasons" className="text-lg font-semibold">
              {w.reasons}
            </h2>
            <label className="flex items-center gap-2 text-sm text-slate-700">
              {w.stuckAfter}
              <select
                value={stuckAfterMs}
                onChange={(e) => setStuckAfterMs(Number(e.target.value))}
                className="rounded-md border border-slate-300 px-2 py-1"
                data-stuck-after
              >
                {[...new Set([...stuckChoicesMs, stuckAfterMs])]
                  .sort((a, b) => a - b)
                  .map((ms) => (
                    <option key={ms} value={ms}>
                      {formatDuration(ms)}
                    </option>
                  ))}
              </select>
            </label>
          </div>
          {grid.reasons.length === 0 ? (
            <p className="mt-3 text-sm text-slate-600" data-no-reasons>
              {w.noReasons}
            </p>
          ) : (
            <ul className="mt-3 grid gap-2" data-reasons>
              {grid.reasons.map((reason) => (
                <li key={reason.key} data-reason={cellKey(reason.labId, reason.stepId)} data-count={reason.count} className="rounded-md bg-red-50 p-3 text-sm ring-1 ring-red-200">
                  <p className="font-semibold text-red-900">
                    <span data-reason-count>{w.reasonCount(reason.count, total)}</span> · {stepTitle.get(cellKey(reason.labId, reason.stepId))}
                  </p>
                  <p className="mt-1 text-red-950" data-reason-message>
                    {reason.message[locale]}
                  </p>
                  <p className="mt-1 text-xs text-red-800">{reason.learners.join(', ')}</p>
                </li>
              ))}
            </ul>
          )}
        </section>

        <section aria-labelledby="messages" className="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
          <h2 id="messages" className="text-lg font-semibold">
            {w.message}
          </h2>
          <form onSubmit={sendMessage} className="mt-3 flex gap-2" data-message-form>
            <input name="text" required maxLength={2000} placeholder={w.messagePlaceholder} className={`${inputClass} mt-0`} aria-label={w.message} />
            <button type="submit" className={buttonClass}>
              {w.send}
            </button>
          </form>
          {grid.messages.length > 0 && (
            <>
              <h3 className="mt-4 text-sm font-semibold text-slate-700">{w.recentMessages}</h3>
              <ul className="mt-2 grid gap-1 text-sm" data-messages>
                {[...grid.messages].reverse().map((m) => (
                  <li key={m.id} className="flex gap-2">
                    <time suppressHydrationWarning className="shrink-0 tabular-nums text-slate-500" dateTime={new Date(m.createdAt).toISOString()}>
                      {formatWhen(m.createdAt, locale)}
                    </time>
                    <span className="break-words">{m.text}</span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      </div>

      {viewing && (
        <TerminalViewer
          locale={locale}
          workshopId={workshopId}
          learnerId={viewing.learner.learnerId}
          displayName={viewing.learner.displayName}
          labId={viewing.labId}
          onClose={() => setViewing(null)}
        />
      )}
    </div>
  );
}
