'use client';
// The components lessons use in MDX: <Step id>, <Command terminal placeholder?>, <Answer step>,
// <Callout kind>. They read the lab and the live session through LabContext.
import { Children, createContext, isValidElement, useContext, useEffect, useId, useState, type FormEvent, type ReactElement, type ReactNode } from 'react';
import { hintAfterMs, type StepResult, type StepStatus } from '../../labs/core/model';
import { commandInput } from '../_lib/output-offsets';
import type { UiStrings } from '../_lib/ui-strings';
import { useLab, useSessionSnapshot, useUi } from './lab-context';
import { BulbIcon, CheckIcon, CircleIcon, CrossIcon, InfoIcon, PasteIcon, PlayIcon, WarningIcon } from './icons';
import { highlightShell } from '../_lib/highlight';

/** The <Step> a component sits in (Hint reads it). */
const StepIdContext = createContext<string | null>(null);

// ---------- status badge ----------

const badgeStyles: Record<StepStatus, string> = {
  pending: 'bg-slate-100 text-slate-700 ring-slate-300',
  passed: 'bg-emerald-50 text-emerald-800 ring-emerald-300',
  failed: 'bg-amber-50 text-amber-900 ring-amber-300',
};

export function StatusBadge({ status, strings }: { status: StepStatus; strings: UiStrings }) {
  const Icon = status === 'passed' ? CheckIcon : status === 'failed' ? CrossIcon : CircleIcon;
  return (
    <span
      className={`inline-flex shrink-0 items-center gap-1 rounded-full px-2.5 py-0.5 text-xs font-semibold ring-1 ring-inset ${badgeStyles[status]}`}
      data-status-badge={status}
    >
      <Icon className="size-3.5" />
      {strings.status[status]}
    </span>
  );
}

// ---------- Step ----------

/** How many progressive hints are unlocked: by time on the step, by failures, or on request. */
function unlockedHints(count: number, activeForMs: number | null, failures: number, requested: number): number {
  let byTime = 0;
  if (activeForMs !== null) for (const after of hintAfterMs) if (activeForMs >= after) byTime++;
  return Math.min(count, Math.max(byTime, failures, requested));
}

function useNow(enabled: boolean, everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!enabled) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [enabled, everyMs]);
  return now;
}

export function Step({ id, children }: { id: string; children?: ReactNode }) {
  const { lab, locale, strings, session, activeStep } = useLab();
  const snapshot = useSessionSnapshot(session);
  const [requested, setRequested] = useState(0);
  const step = lab.steps.find((s) => s.id === id);
  const result: StepResult | undefined = snapshot.steps[id];
  const status: StepStatus = result?.status ?? 'pending';
  const isActive = activeStep?.id === id;
  const hintCount = step?.hints.length ?? 0;
  const failures = Math.max(snapshot.failures[id] ?? 0, status === 'failed' ? 1 : 0);
  const now = useNow(isActive && status !== 'passed' && hintCount > 0, 1000);
  const activeForMs = isActive && activeStep ? Math.max(0, now - activeStep.sinceMs) : null;
  const unlocked = status === 'passed' ? 0 : unlockedHints(hintCount, activeForMs, failures, requested);
  const checkHint = status === 'failed' ? result?.hint : null;
  const titleId = useId();

  if (!step) {
    return (
      <section data-step-id={id} data-status="pending" className="my-6 rounded-lg border border-red-300 bg-red-50 p-4 text-red-900">
        {strings.unknownStep(id)}
        {children}
      </section>
    );
  }
  const index = lab.steps.indexOf(step) + 1;
  const frame =
    status === 'passed'
      ? 'border-emerald-300 bg-emerald-50/40'
      : status === 'failed'
        ? 'border-amber-300 bg-amber-50/40'
        : isActive
          ? 'border-sky-300 bg-white'
          : 'border-slate-200 bg-white';
  const messageText = result?.message?.[locale] ?? null;

  return (
    <section
      id={`step-${id}`}
      data-step-id={id}
      data-status={status}
      data-active={isActive ? 'true' : undefined}
      aria-labelledby={titleId}
      className={`not-prose-step my-6 rounded-xl border p-4 shadow-sm sm:p-5 ${frame}`}
    >
      <header className="mb-3 flex flex-wrap items-start justify-between gap-2">
        <h3 id={titleId} className="m-0 text-base font-semibold text-slate-900">
          <span className="mr-2 text-sm font-medium text-slate-500">
            {strings.stepLabel} {index}
          </span>
          <span data-step-title>{step.title[locale]}</span>
        </h3>
        <StatusBadge status={status} strings={strings} />
      </header>
      {status === 'passed' && result?.saved === false && (
        <p data-step-unsaved className="mb-3 rounded-md bg-sky-50 px-3 py-1.5 text-xs text-sky-900 ring-1 ring-sky-200">
          {strings.notSavedYet}
        </p>
      )}
      <div className="step-body">
        <StepIdContext.Provider value={id}>{children}</StepIdContext.Provider>
      </div>
      {messageText && (
        <p
          // A step with an answer field shows its message next to the field as well; here it stays
          // the step's one summary line (tests and assistive tech read it from this element).
          data-step-message
          className={`mt-3 flex items-start gap-2 rounded-md px-3 py-2 text-sm ${
            status === 'passed' ? 'bg-emerald-100/70 text-emerald-900' : status === 'failed' ? 'bg-amber-100/70 text-amber-950' : 'bg-slate-100 text-slate-800'
          }`}
        >
          {status === 'passed' ? <CheckIcon className="mt-0.5 size-4 shrink-0" /> : <InfoIcon className="mt-0.5 size-4 shrink-0" />}
          <span className="break-words">{messageText}</span>
        </p>
      )}
      {status !== 'passed' && (checkHint || hintCount > 0) && (
        <div className="mt-3 text-sm" data-step-hints>
          {checkHint ? (
            <HintLine label={strings.hint} text={checkHint[locale]} />
          ) : (
            step.hints.slice(0, unlocked).map((hint, i) => (
              <HintLine key={i} label={strings.hintOf(i + 1, hintCount)} text={hint[locale]} />
            ))
          )}
          {!checkHint && unlocked < hintCount && (
            <button
              type="button"
              className="mt-1 inline-flex items-center gap-1.5 rounded-md px-2 py-1 text-sm font-medium text-sky-800 underline-offset-2 hover:bg-sky-50 hover:underline"
              onClick={() => setRequested(unlocked + 1)}
            >
              <BulbIcon className="size-4" />
              {unlocked === 0 ? strings.showHint : strings.nextHint}
            </button>
          )}
        </div>
      )}
    </section>
  );
}

function HintLine({ label, text }: { label: string; text: string }) {
  return (
    <p className="my-1.5 flex items-start gap-2 rounded-md bg-sky-50 px-3 py-2 text-sky-950" data-hint>
      <BulbIcon className="mt-0.5 size-4 shrink-0 text-sky-700" />
      <span>
        <strong className="font-semibold">{label}:</strong> {text}
      </span>
    </p>
  );
}

// ---------- Command ----------

/** The plain text of MDX children (strings, numbers, inline code...). */
function textOf(node: ReactNode): string {
  if (typeof node === 'string' || typeof node === 'number') return String(node);
  if (Array.isArray(node)) return node.map(textOf).join('');
  if (isValidElement<{ children?: ReactNode }>(node)) return textOf(node.props.children);
  return Children.toArray(node).map(textOf).join('');
}

export function Command({
  terminal,
  placeholder,
  interrupt,
  children,
}: {
  terminal: number;
  placeholder?: string;
  /** Send Ctrl-C first (stops what runs in the foreground), then the command. */
  interrupt?: boolean;
  children?: ReactNode;
}) {
  const { session, strings, focusTerminal } = useLab();
  const [feedback, setFeedback] = useState<'sent' | 'offline' | null>(null);
  const text = textOf(children).trim();
  const index = Math.max(1, Math.floor(Number(terminal) || 1));
  const paste = placeholder !== undefined && placeholder !== '';

  useEffect(() => {
    if (feedback === null) return;
    const timer = setTimeout(() => setFeedback(null), 2500);
    return () => clearTimeout(timer);
  }, [feedback]);

  const run = () => {
    if (interrupt) {
      const ok = session.sendInput(index - 1, '\x03');
      setFeedback(ok ? 'sent' : 'offline');
      if (!ok) return;
      // Let the shell print its new prompt before the line arrives.
      setTimeout(() => {
        session.sendInput(index - 1, commandInput(text, !paste));
        if (paste) focusTerminal(index - 1);
      }, 200);
      return;
    }
    const ok = session.sendInput(index - 1, commandInput(text, !paste));
    setFeedback(ok ? 'sent' : 'offline');
    if (ok && paste) focusTerminal(index - 1);
  };

  // Show the placeholder (e.g. PID) as a variable the learner must replace.
  const parts = paste ? text.split(placeholder) : [text];
  const label = interrupt && !paste ? strings.interruptRunIn(index) : paste ? strings.pasteIn(index) : strings.runIn(index);
  const Icon = paste ? PasteIcon : PlayIcon;
  return (
    <span
      className="command-chip my-3 flex flex-wrap items-center gap-2"
      data-command
      data-command-terminal={index}
      data-command-interrupt={interrupt ? 'true' : undefined}
    >
      <code className="rounded-md bg-slate-900 px-3 py-1.5 font-mono text-[0.875rem] text-slate-50 break-all">
        <span className="select-none text-emerald-400" aria-hidden="true">
          ${' '}
        </span>
        {interrupt && (
          <kbd className="mr-2 rounded border border-slate-600 bg-slate-800 px-1 text-[0.75rem] text-amber-300">Ctrl-C</kbd>
        )}
        {parts.map((part, i) => (
          <span key={i}>
            {highlightShell(part).map((token, j) =>
              token.kind ? (
                <span key={j} className={`tok-${token.kind}`}>
                  {token.text}
                </span>
              ) : (
                token.text
              ),
            )}
            {i < parts.length - 1 && (
              <var className="rounded bg-amber-300/90 px-1 not-italic text-slate-900">{placeholder}</var>
            )}
          </span>
        ))}
      </code>
      <button
        type="button"
        onClick={run}
        className="inline-flex items-center gap-1.5 rounded-md border border-slate-300 bg-white px-2.5 py-1 text-sm font-medium text-slate-800 shadow-sm hover:border-sky-400 hover:bg-sky-50"
      >
        <Icon className="size-3.5" />
        {label}
      </button>
      <span role="status" className="text-xs text-slate-600">
        {feedback === 'sent' ? strings.ran : feedback === 'offline' ? strings.notConnected : ''}
      </span>
    </span>
  );
}

// ---------- Answer ----------

export function Answer({ step: stepId }: { step: string }) {
  const { lab, locale, strings, session } = useLab();
  const snapshot = useSessionSnapshot(session);
  const [value, setValue] = useState('');
  /** The step's update count when the answer was sent: the reply is the next update. */
  const [sentAt, setSentAt] = useState<number | null>(null);
  const [offline, setOffline] = useState(false);
  const inputId = useId();
  const resultId = useId();
  const step = lab.steps.find((s) => s.id === stepId);
  const result = snapshot.steps[stepId];

  const updates = snapshot.updates[stepId] ?? 0;
  const waiting = sentAt !== null && updates === sentAt;
  useEffect(() => {
    if (!waiting) return;
    const timer = setTimeout(() => setSentAt(null), 15_000); // no reply: stop saying "waiting"
    return () => clearTimeout(timer);
  }, [waiting]);

  if (!step?.answer) {
    return <p className="text-red-800">{strings.unknownStep(stepId)}</p>;
  }
  const numeric = step.answer.pattern?.includes('\\d') ?? false;
  const showResult = !waiting && result && result.status !== 'pending' ? result : null;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const trimmed = value.trim();
    if (!trimmed) return;
    const ok = session.answer(stepId, trimmed);
    setOffline(!ok);
    if (ok) setSentAt(updates);
  };

  return (
    <form onSubmit={submit} className="my-4 flex flex-wrap items-end gap-2" data-answer={stepId}>
      <div className="flex flex-col gap-1">
        <label htmlFor={inputId} className="text-sm font-medium text-slate-800">
          {step.answer.label[locale]}
        </label>
        <input
          id={inputId}
          name="answer"
          value={value}
          onChange={(event) => setValue(event.target.value)}
          placeholder={step.answer.placeholder ?? undefined}
          inputMode={numeric ? 'numeric' : 'text'}
          autoComplete="off"
          maxLength={200}
          aria-describedby={resultId}
          className="w-40 rounded-md border border-slate-300 bg-white px-3 py-1.5 font-mono text-sm text-slate-900 shadow-inner"
        />
      </div>
      <button
        type="submit"
        className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-semibold text-white shadow-sm hover:bg-sky-800"
      >
        {strings.answerSubmit}
      </button>
      <p id={resultId} className="basis-full text-sm" data-answer-result>
        {offline ? (
          <span className="text-amber-900">{strings.notConnected}</span>
        ) : waiting ? (
          <span className="text-slate-600">{strings.answerWaiting}</span>
        ) : showResult ? (
          <span className="inline-flex items-center gap-2">
            <StatusBadge status={showResult.status} strings={strings} />
            <span className="sr-only">{showResult.message?.[locale] ?? ''}</span>
          </span>
        ) : null}
      </p>
    </form>
  );
}

// ---------- Callout ----------

const calloutStyles: Record<string, { box: string; Icon: typeof InfoIcon }> = {
  info: { box: 'border-sky-300 bg-sky-50 text-sky-950', Icon: InfoIcon },
  note: { box: 'border-sky-300 bg-sky-50 text-sky-950', Icon: InfoIcon },
  tip: { box: 'border-emerald-300 bg-emerald-50 text-emerald-950', Icon: BulbIcon },
  warning: { box: 'border-amber-300 bg-amber-50 text-amber-950', Icon: WarningIcon },
  danger: { box: 'border-red-300 bg-red-50 text-red-950', Icon: WarningIcon },
};

export function Callout({ kind = 'info', children }: { kind?: string; children?: ReactNode }) {
  const { strings } = useUi();
  const style = calloutStyles[kind] ?? calloutStyles.info!;
  const label = (strings.callout as Record<string, string>)[kind] ?? strings.callout.info;
  const { Icon } = style;
  return (
    <aside className={`callout my-5 rounded-lg border-l-4 px-4 py-3 ${style.box}`} data-callout={kind}>
      <p className="m-0 mb-1 flex items-center gap-1.5 text-sm font-semibold">
        <Icon className="size-4" />
        {label}
      </p>
      <div className="callout-body text-[0.95rem]">{children}</div>
    </aside>
  );
}


// ---------- Hint ----------

/** <Hint after={seconds}>: lesson-authored help that unlocks after that long on its step. */
export function Hint({ after = 30, children }: { after?: number; children?: ReactNode }) {
  const { strings, activeStep, session } = useLab();
  const snapshot = useSessionSnapshot(session);
  const stepId = useContext(StepIdContext);
  const [forced, setForced] = useState(false);
  const isActive = stepId !== null && activeStep?.id === stepId;
  const passed = stepId !== null && snapshot.steps[stepId]?.status === 'passed';
  const now = useNow(isActive && !forced, 1000);
  const afterMs = Math.max(0, Number(after) || 0) * 1000;
  const spentMs = isActive && activeStep ? Math.max(0, now - activeStep.sinceMs) : 0;
  const open = forced || passed || (isActive && spentMs >= afterMs);
  if (!open) {
    const left = Math.ceil((afterMs - spentMs) / 1000);
    return (
      <p className="my-2 flex flex-wrap items-center gap-2 text-sm text-slate-600" data-hint-inline data-locked="true">
        <BulbIcon className="size-4 text-slate-400" />
        <span>{strings.hintLocked(left)}</span>
        <button
          type="button"
          onClick={() => setForced(true)}
          className="rounded-md px-1.5 py-0.5 font-medium text-sky-800 underline underline-offset-2 hover:bg-sky-50"
        >
          {strings.hintShowNow}
        </button>
      </p>
    );
  }
  return (
    <div className="my-2 flex items-start gap-2 rounded-md bg-sky-50 px-3 py-2 text-sm text-sky-950" data-hint-inline data-locked="false">
      <BulbIcon className="mt-1 size-4 shrink-0 text-sky-700" />
      <div className="callout-body min-w-0 flex-1">
        <strong className="font-semibold">{strings.hint}:</strong> {children}
      </div>
    </div>
  );
}

// ---------- Quiz ----------

/** One option of a <Quiz>; `correct` marks the right one(s). */
export function Choice({ children }: { correct?: boolean; children?: ReactNode }) {
  return <>{children}</>;
}

function quizStore(id: string | undefined): { get(): string | null; set(v: string): void } {
  const key = id ? `nslab:quiz:${id}` : null;
  return {
    get: () => {
      try {
        return key && typeof window !== 'undefined' ? window.localStorage.getItem(key) : null;
      } catch {
        return null;
      }
    },
    set: (v) => {
      try {
        if (key) window.localStorage.setItem(key, v);
      } catch {
        // storage unavailable: the quiz still works on this page
      }
    },
  };
}

/** <Quiz id? question?>question text, <Choice correct?>…</Choice>…, <Explain>…</Explain>?</Quiz> */
export function Quiz({ id, question, children }: { id?: string; question?: string; children?: ReactNode }) {
  const { strings } = useUi();
  const name = useId();
  const all = Children.toArray(children);
  const choices = all.filter((c): c is ReactElement<{ correct?: boolean; children?: ReactNode }> => isValidElement(c) && c.type === Choice);
  const explain = all.filter((c) => isValidElement(c) && c.type === Explain);
  const prompt = all.filter((c) => !(isValidElement(c) && (c.type === Choice || c.type === Explain)));
  const [picked, setPicked] = useState<number | null>(null);
  const [verdict, setVerdict] = useState<'right' | 'wrong' | 'none' | null>(null);
  useEffect(() => {
    const saved = quizStore(id).get();
    if (saved !== null && Number.isInteger(Number(saved))) {
      setPicked(Number(saved));
      setVerdict('right');
    }
  }, [id]);
  const check = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (picked === null) return setVerdict('none');
    const right = Boolean(choices[picked]?.props.correct);
    setVerdict(right ? 'right' : 'wrong');
    if (right) quizStore(id).set(String(picked));
  };
  return (
    <form onSubmit={check} className="my-6 rounded-xl border border-violet-200 bg-violet-50/40 p-4 shadow-sm" data-quiz={id ?? ''} data-quiz-verdict={verdict ?? ''}>
      <fieldset className="m-0 border-0 p-0">
        <legend className="mb-2 text-base font-semibold text-slate-900">
          {question}
          {prompt.length > 0 && <span className="quiz-prompt block font-normal">{prompt}</span>}
        </legend>
        <div className="grid gap-1.5">
          {choices.map((choice, i) => {
            const chosen = picked === i;
            const tone = chosen && verdict === 'right' ? 'border-emerald-400 bg-emerald-50' : chosen && verdict === 'wrong' ? 'border-amber-400 bg-amber-50' : chosen ? 'border-violet-400 bg-white' : 'border-slate-200 bg-white';
            return (
              <label key={i} className={`flex cursor-pointer items-start gap-2.5 rounded-lg border px-3 py-2 text-[0.95rem] ${tone} hover:border-violet-300`} data-choice={i}>
                <input
                  type="radio"
                  name={name}
                  value={i}
                  checked={chosen}
                  onChange={() => {
                    setPicked(i);
                    setVerdict(null);
                  }}
                  className="mt-1.5 accent-violet-700"
                />
                <span className="min-w-0">{choice.props.children}</span>
              </label>
            );
          })}
        </div>
      </fieldset>
      <div className="mt-3 flex flex-wrap items-center gap-3">
        <button type="submit" className="rounded-md bg-violet-700 px-3 py-1.5 text-sm font-semibold text-white shadow-sm hover:bg-violet-800">
          {strings.quizCheck}
        </button>
        <p role="status" className="m-0 text-sm font-medium" data-quiz-result>
          {verdict === 'right' ? (
            <span className="inline-flex items-center gap-1 text-emerald-800">
              <CheckIcon className="size-4" /> {strings.quizRight}
            </span>
          ) : verdict === 'wrong' ? (
            <span className="text-amber-900">{strings.quizWrong}</span>
          ) : verdict === 'none' ? (
            <span className="text-slate-700">{strings.quizPick}</span>
          ) : null}
        </p>
      </div>
      {verdict === 'right' && explain.length > 0 && <div className="callout-body mt-2 text-[0.95rem] text-slate-800">{explain}</div>}
    </form>
  );
}

/** The explanation a <Quiz> shows once answered right. */
export function Explain({ children }: { children?: ReactNode }) {
  return <>{children}</>;
}

// ---------- Terminal ----------

/** <Terminal n={2} />: names a terminal in the text; a button that moves the keyboard focus there. */
export function Terminal({ n, children }: { n: number; children?: ReactNode }) {
  const { strings, focusTerminal } = useLab();
  const index = Math.max(1, Math.floor(Number(n) || 1));
  return (
    <button
      type="button"
      onClick={() => focusTerminal(index - 1)}
      className="inline-flex items-center gap-1 rounded-md bg-slate-900 px-1.5 py-0 align-baseline font-mono text-[0.8em] text-slate-100 hover:bg-slate-700"
      aria-label={strings.focusTerminal(index)}
      data-terminal-link={index}
    >
      <span aria-hidden="true" className="text-emerald-400">
        ▍
      </span>
      {children ?? strings.terminalLabel(index)}
    </button>
  );
}
