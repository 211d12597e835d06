'use client';
// A lesson page with a lab: the lesson text on the left, the lab's terminals on the right, one
// LabSession (token + WebSocket + terminal streams + step results) for the page.
import Link from 'next/link';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Locale } from '../../labs/core/model';
import { noticeCodes } from '../../sandbox-agent/protocol';
import { LabSession, type ConnectionStatus, type SessionSnapshot } from '../_lib/lab-session';
import type { LabView } from '../_lib/lab-view';
import { readScreenReaderMode, syncScrollableFocus, writeScreenReaderMode } from '../_lib/a11y';
import { uiStrings, type UiStrings } from '../_lib/ui-strings';
import { CheckIcon, CrossIcon, InfoIcon, RefreshIcon, Spinner, WarningIcon } from './icons';
import { LabContext, UiContext, useSessionSnapshot, type LabContextValue } from './lab-context';
import { MdxLesson } from './mdx-lesson';
import { TerminalPane } from './terminal-pane';

export interface LessonWorkspaceProps {
  locale: Locale;
  lab: LabView;
  code: string;
  lessonTitle: string;
  /** The same lesson in the other language. */
  switchHref: string;
  switchLocale: Locale;
}

export function LessonWorkspace({ locale, lab, code, lessonTitle, switchHref, switchLocale }: LessonWorkspaceProps) {
  const strings = uiStrings(locale);
  const [session] = useState(
    () => new LabSession({ labId: lab.id, terminals: lab.terminals, outputDroppedText: strings.outputDropped, locale }),
  );
  const snapshot = useSessionSnapshot(session);

  useEffect(() => {
    session.start();
    return () => session.stop();
  }, [session]);

  // The step the learner is on: the first one not passed, and since when.
  const activeId = lab.steps.find((step) => snapshot.steps[step.id]?.status !== 'passed')?.id ?? null;
  const [activeStep, setActiveStep] = useState<{ id: string; sinceMs: number } | null>(null);
  useEffect(() => {
    setActiveStep((current) => (current?.id === activeId ? current : activeId ? { id: activeId, sinceMs: Date.now() } : null));
  }, [activeId]);

  const focusers = useRef(new Map<number, () => void>());
  const registerTerminalFocus = useCallback((index: number, focus: (() => void) | null) => {
    if (focus) focusers.current.set(index, focus);
    else focusers.current.delete(index);
  }, []);
  const focusTerminal = useCallback((index: number) => focusers.current.get(index)?.(), []);

  const context = useMemo<LabContextValue>(
    () => ({ session, lab, locale, strings, activeStep, focusTerminal, registerTerminalFocus }),
    [session, lab, locale, strings, activeStep, focusTerminal, registerTerminalFocus],
  );
  const ui = useMemo(() => ({ locale, strings }), [locale, strings]);
  const layout = useTerminalLayout(lab.terminals);
  const screenReader = useScreenReaderMode();
  usePlaceKeeper(lab.id);
  useScrollableFocus('lesson', 'pre, [data-map-table]');
  const passed = lab.steps.filter((step) => snapshot.steps[step.id]?.status === 'passed').length;

  return (
    <UiContext.Provider value={ui}>
      <LabContext.Provider value={context}>
        <div className="flex min-h-dvh flex-col bg-slate-50 lg:h-dvh lg:min-h-0">
          {/* The first Tab stop: straight into terminal 1 (the region without JavaScript). */}
          <a
            href="#terminals"
            className="skip-link"
            data-skip-link
            onClick={(event) => {
              if (!focusers.current.has(0)) return;
              event.preventDefault();
              focusTerminal(0);
            }}
          >
            {strings.skipToTerminals}
          </a>
          <header className="flex shrink-0 flex-wrap items-center gap-x-4 gap-y-1 border-b border-slate-200 bg-white px-4 py-2">
            <Link href={`/${locale}`} className="rounded text-lg font-bold tracking-tight text-slate-900">
              <span className="text-sky-700">ns</span>lab
              <span className="sr-only"> — {strings.lessons}</span>
            </Link>
            <span className="hidden text-slate-300 sm:inline" aria-hidden="true">
              /
            </span>
            <p className="m-0 min-w-0 flex-1 truncate text-sm font-medium text-slate-700" title={lessonTitle}>
              {lessonTitle}
            </p>
            <ConnectionBadge status={snapshot.status} strings={strings} />
            <button
              type="button"
              onClick={() => {
                if (window.confirm(strings.resetConfirm)) session.reset();
              }}
              disabled={snapshot.status !== 'connected' || snapshot.resetting}
              className="inline-flex items-center gap-1.5 rounded-md border border-slate-300 px-2.5 py-1 text-sm font-medium text-slate-700 hover:bg-slate-100 disabled:opacity-50"
              data-reset-button
            >
              <RefreshIcon className="size-3.5" />
              {strings.resetSandbox}
            </button>
            <Link
              href={switchHref}
              onClick={() => savePlace(lab.id)}
              hrefLang={switchLocale === 'zh' ? 'zh-Hans' : 'en'}
              lang={switchLocale === 'zh' ? 'zh-Hans' : 'en'}
              aria-label={strings.switchToLabel}
              className="rounded-md border border-slate-300 px-2.5 py-1 text-sm font-medium text-slate-700 hover:bg-slate-100"
              data-language-switch
            >
              {strings.switchTo}
            </Link>
          </header>

          <main className="grid min-h-0 flex-1 grid-cols-1 lg:grid-cols-[minmax(0,5fr)_minmax(0,6fr)]">
            <div id="lesson" className="flex min-h-0 flex-col lg:overflow-y-auto">
              <article className="lesson-prose mx-auto w-full max-w-3xl flex-1 px-5 py-6 sm:px-8">
                <h1>{lessonTitle}</h1>
                <MdxLesson code={code} />
              </article>
              <CheckBar session={session} snapshot={snapshot} strings={strings} passed={passed} total={lab.steps.length} />
            </div>
            <div
              id="terminals"
              tabIndex={-1}
              aria-label={strings.terminals}
              role="region"
              className="flex min-h-0 flex-col gap-3 bg-slate-900 p-3 outline-none lg:h-full"
              data-layout={layout.value}
            >
              <SessionBanner session={session} snapshot={snapshot} strings={strings} locale={locale} />
              {lab.terminals > 1 && (
                <div role="group" aria-label={strings.layoutLabel} className="flex justify-end gap-1 text-xs">
                  {(['stacked', 'side-by-side'] as const).map((value) => (
                    <button
                      key={value}
                      type="button"
                      aria-pressed={layout.value === value}
                      onClick={() => layout.set(value)}
                      className={`rounded-md px-2 py-0.5 font-medium ${layout.value === value ? 'bg-slate-700 text-white' : 'text-slate-400 hover:text-white'}`}
                      data-layout-button={value}
                    >
                      {value === 'stacked' ? strings.layoutStacked : strings.layoutSideBySide}
                    </button>
                  ))}
                </div>
              )}
              <div className={`flex min-h-0 flex-1 gap-3 ${layout.value === 'side-by-side' ? 'flex-col sm:flex-row' : 'flex-col'}`}>
                {snapshot.terminals.map((view, index) => (
                  <TerminalPane
                    key={index}
                    session={session}
                    index={index}
                    view={view}
                    strings={strings}
                    registerFocus={registerTerminalFocus}
                    screenReader={screenReader.value}
                    onScreenReaderChange={screenReader.set}
                  />
                ))}
              </div>
            </div>
          </main>
          <LiveRegion snapshot={snapshot} lab={lab} locale={locale} strings={strings} />
          <Notices session={session} snapshot={snapshot} strings={strings} />
        </div>
      </LabContext.Provider>
    </UiContext.Provider>
  );
}

// ---------- terminal layout, and the learner's place across a language switch ----------

type TerminalLayout = 'stacked' | 'side-by-side';
const LAYOUT_KEY = 'nslab:terminal-layout';

function useTerminalLayout(terminals: number): { value: TerminalLayout; set(value: TerminalLayout): void } {
  const [value, setValue] = useState<TerminalLayout>('stacked');
  useEffect(() => {
    try {
      const saved = window.localStorage.getItem(LAYOUT_KEY);
      if (saved === 'stacked' || saved === 'side-by-side') setValue(saved);
    } catch {
      // no storage: the default layout
    }
  }, []);
  const set = useCallback((next: TerminalLayout) => {
    setValue(next);
    try {
      window.localStorage.setItem(LAYOUT_KEY, next);
    } catch {
      // no storage: the layout holds for this page
    }
  }, []);
  return { value: terminals > 1 ? value : 'stacked', set };
}

/** The terminals' screen-reader mode, kept in the learner's browser (localStorage). */
function useScreenReaderMode(): { value: boolean; set(on: boolean): void } {
  const [value, setValue] = useState(false);
  useEffect(() => {
    setValue(readScreenReaderMode(safeLocalStorage()));
  }, []);
  const set = useCallback((on: boolean) => {
    setValue(on);
    writeScreenReaderMode(safeLocalStorage(), on);
  }, []);
  return { value, set };
}

function safeLocalStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** Boxes in the lesson that scroll sideways (wide code, the map's table) get a Tab stop. */
function useScrollableFocus(rootId: string, selector: string): void {
  useEffect(() => {
    const root = document.getElementById(rootId);
    if (!root) return;
    let frame = 0;
    const sync = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => syncScrollableFocus(root, selector));
    };
    sync();
    const mutations = new MutationObserver(sync);
    mutations.observe(root, { childList: true, subtree: true });
    const sizes = new ResizeObserver(sync);
    sizes.observe(root);
    return () => {
      cancelAnimationFrame(frame);
      mutations.disconnect();
      sizes.disconnect();
    };
  }, [rootId, selector]);
}

const PLACE_KEY = 'nslab:place';

/** Before switching language: where in the lesson the learner is (scroll position, as a fraction). */
function savePlace(labId: string): void {
  const scroller = document.getElementById('lesson');
  if (!scroller) return;
  const usesOwnScroll = scroller.scrollHeight > scroller.clientHeight + 1 && getComputedStyle(scroller).overflowY !== 'visible';
  const el = usesOwnScroll ? scroller : document.scrollingElement;
  if (!el) return;
  const max = Math.max(1, el.scrollHeight - el.clientHeight);
  try {
    window.sessionStorage.setItem(PLACE_KEY, JSON.stringify({ labId, ratio: el.scrollTop / max, own: usesOwnScroll }));
  } catch {
    // no storage: the page opens at the top
  }
}

/** After switching language: back to the same place in the other language's text. */
function usePlaceKeeper(labId: string): void {
  useEffect(() => {
    let saved: { labId?: string; ratio?: number; own?: boolean } | null = null;
    try {
      saved = JSON.parse(window.sessionStorage.getItem(PLACE_KEY) ?? 'null');
      window.sessionStorage.removeItem(PLACE_KEY);
    } catch {
      saved = null;
    }
    if (!saved || saved.labId !== labId || typeof saved.ratio !== 'number') return;
    const ratio = saved.ratio;
    const own = saved.own;
    requestAnimationFrame(() => {
      const el = own ? document.getElementById('lesson') : document.scrollingElement;
      if (el) el.scrollTop = ratio * Math.max(0, el.scrollHeight - el.clientHeight);
    });
  }, [labId]);
}

// ---------- header status ----------

function ConnectionBadge({ status, strings }: { status: ConnectionStatus; strings: UiStrings }) {
  const tone =
    status === 'connected'
      ? 'text-emerald-800 bg-emerald-50 ring-emerald-300'
      : status === 'connecting' || status === 'reconnecting' || status === 'idle'
        ? 'text-amber-900 bg-amber-50 ring-amber-300'
        : 'text-red-800 bg-red-50 ring-red-300';
  const Icon = status === 'connected' ? CheckIcon : status === 'connecting' || status === 'reconnecting' ? Spinner : WarningIcon;
  return (
    <span
      className={`inline-flex items-center gap-1.5 rounded-full px-2.5 py-0.5 text-xs font-semibold ring-1 ring-inset ${tone}`}
      data-connection={status}
    >
      <Icon className="size-3.5" />
      {strings.connection[status]}
    </span>
  );
}

// ---------- banners (ended, other tab, unavailable, reconnecting) ----------

function useCountdown(untilMs: number | null): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (untilMs === null) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [untilMs]);
  return untilMs === null ? null : Math.max(0, Math.ceil((untilMs - now) / 1000));
}

function SessionBanner({ session, snapshot, strings, locale }: { session: LabSession; snapshot: SessionSnapshot; strings: UiStrings; locale: Locale }) {
  const seconds = useCountdown(snapshot.retryAtMs);
  const { status, detail } = snapshot;
  let text: string | null = null;
  let action: { label: string; run: () => void } | null = null;
  if (snapshot.resetting) {
    text = strings.resetting;
  } else if (status === 'ended' && snapshot.endedReason === 'workshop') {
    // No new sandbox: the workshop's lessons are closed for its members (the session API says 410).
    text = strings.workshopEndedBanner;
    action = { label: strings.seeMyProgress, run: () => window.location.assign(`/${locale}/me`) };
  } else if (status === 'ended') {
    text = snapshot.endedReason === 'idle' ? strings.idleEndedBanner : strings.endedBanner;
    action = { label: strings.startAgain, run: () => session.connectNow() };
  } else if (status === 'replaced') {
    text = strings.replacedBanner;
    action = { label: strings.useHere, run: () => session.connectNow() };
  } else if ((status === 'unavailable' || status === 'reconnecting') && (detail || seconds !== null)) {
    text = [detail, seconds !== null && seconds > 0 ? strings.retryIn(seconds) : null].filter(Boolean).join(' — ');
    action = seconds !== null ? { label: strings.retryNow, run: () => session.connectNow() } : null;
  }
  if (!text) return null;
  return (
    <div
      role="alert"
      className="flex flex-wrap items-center gap-3 rounded-lg bg-amber-100 px-4 py-3 text-sm text-amber-950 ring-1 ring-amber-300"
      data-session-banner={status}
      data-ended-reason={status === 'ended' ? (snapshot.endedReason ?? 'other') : undefined}
    >
      <WarningIcon className="size-4 shrink-0" />
      <span className="flex-1">{text}</span>
      {action && (
        <button
          type="button"
          onClick={action.run}
          className="inline-flex items-center gap-1.5 rounded-md bg-slate-900 px-3 py-1.5 font-semibold text-white hover:bg-slate-700"
        >
          <RefreshIcon className="size-4" />
          {action.label}
        </button>
      )}
    </div>
  );
}

// ---------- check bar ----------

function CheckBar({
  session,
  snapshot,
  strings,
  passed,
  total,
}: {
  session: LabSession;
  snapshot: SessionSnapshot;
  strings: UiStrings;
  passed: number;
  total: number;
}) {
  const [checkingSince, setCheckingSince] = useState<number | null>(null);
  const [offline, setOffline] = useState(false);
  const lastChange = snapshot.changes.at(-1)?.seq ?? 0;
  const changeAtClick = useRef(0);
  useEffect(() => {
    if (checkingSince === null) return;
    if (lastChange !== changeAtClick.current) {
      setCheckingSince(null);
      return;
    }
    const timer = setTimeout(() => setCheckingSince(null), 2500);
    return () => clearTimeout(timer);
  }, [checkingSince, lastChange]);

  const check = () => {
    changeAtClick.current = lastChange;
    const ok = session.check();
    setOffline(!ok);
    if (ok) setCheckingSince(Date.now());
  };
  const percent = total > 0 ? Math.round((passed / total) * 100) : 0;
  return (
    <div className="sticky bottom-0 z-10 border-t border-slate-200 bg-white/95 px-5 py-3 backdrop-blur sm:px-8">
      <div className="mx-auto flex max-w-3xl flex-wrap items-center gap-3">
        <div className="flex min-w-40 flex-1 flex-col gap-1">
          <span className="text-sm font-medium text-slate-700" data-progress={`${passed}/${total}`}>
            {strings.progress(passed, total)}
          </span>
          <div
            className="h-2 w-full overflow-hidden rounded-full bg-slate-200"
            role="progressbar"
            aria-valuemin={0}
            aria-valuemax={total}
            aria-valuenow={passed}
            aria-label={strings.progress(passed, total)}
          >
            <div className="h-full rounded-full bg-emerald-500 transition-[width]" style={{ width: `${percent}%` }} />
          </div>
        </div>
        {offline && <span className="text-sm text-amber-900">{strings.notConnected}</span>}
        <button
          type="button"
          onClick={check}
          className="inline-flex items-center gap-2 rounded-md bg-sky-700 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-800 disabled:opacity-70"
          data-check-button
        >
          {checkingSince !== null ? <Spinner className="size-4" /> : <CheckIcon className="size-4" />}
          {checkingSince !== null ? strings.checking : strings.checkMyWork}
        </button>
      </div>
    </div>
  );
}

// ---------- announcements ----------

function LiveRegion({ snapshot, lab, locale, strings }: { snapshot: SessionSnapshot; lab: LabView; locale: Locale; strings: UiStrings }) {
  return (
    <div role="status" aria-live="polite" className="sr-only" data-live-region>
      {snapshot.changes.map((change) => {
        const title = lab.steps.find((step) => step.id === change.stepId)?.title[locale] ?? change.stepId;
        return <p key={change.seq}>{strings.announce(title, change.status, change.message?.[locale] ?? null)}</p>;
      })}
    </div>
  );
}

function Notices({ session, snapshot, strings }: { session: LabSession; snapshot: SessionSnapshot; strings: UiStrings }) {
  const latest = snapshot.notices.at(-1);
  const idleWarning = snapshot.notices.find((notice) => notice.code === noticeCodes.idleWarning && notice.endsAtMs !== undefined);
  const idleSeconds = useCountdown(idleWarning?.endsAtMs ?? null);
  useEffect(() => {
    // Errors and the idle warning stay until acted on; other notices fade after 10 s.
    if (!latest || latest.level === 'error' || latest.code === noticeCodes.idleWarning) return;
    const timer = setTimeout(() => session.dismissNotice(latest.id), 10_000);
    return () => clearTimeout(timer);
  }, [latest, session]);
  if (snapshot.notices.length === 0) return null;
  return (
    <div className="fixed right-4 bottom-20 z-20 flex w-[min(24rem,calc(100vw-2rem))] flex-col gap-2" aria-live="polite">
      {snapshot.notices.map((notice) => (
        <div
          key={notice.id}
          className={`flex items-start gap-2 rounded-lg px-3 py-2 text-sm shadow-lg ring-1 ${
            notice.level === 'info' ? 'bg-white text-slate-800 ring-slate-200' : 'bg-amber-50 text-amber-950 ring-amber-300'
          }`}
          data-notice={notice.code}
        >
          {notice.level === 'info' ? <InfoIcon className="mt-0.5 size-4 shrink-0" /> : <WarningIcon className="mt-0.5 size-4 shrink-0" />}
          {notice === idleWarning ? (
            <span className="flex flex-1 flex-col items-start gap-2 break-words">
              {/* The countdown ticks visually; screen readers get the announcement once. */}
              <span aria-hidden="true">{strings.idleWarning(idleSeconds ?? 0)}</span>
              <span className="sr-only">{strings.idleWarning(Math.ceil((notice.inMs ?? 0) / 1000))}</span>
              <button
                type="button"
                onClick={() => session.stayActive()}
                className="rounded-md bg-slate-900 px-3 py-1.5 font-semibold text-white hover:bg-slate-700"
                data-stay-active
              >
                {strings.stayHere}
              </button>
            </span>
          ) : (
            <span className="flex-1 break-words">{notice.message}</span>
          )}
          <button
            type="button"
            onClick={() => session.dismissNotice(notice.id)}
            className="rounded p-0.5 text-slate-500 hover:text-slate-900"
            aria-label={strings.dismiss}
          >
            <CrossIcon className="size-4" />
          </button>
        </div>
      ))}
    </div>
  );
}
