'use client';
// One terminal: xterm.js bound to one of the session's PTYs. Output bytes come from the session
// (which tracks offsets and acknowledgements); keystrokes go back through it.
import '@xterm/xterm/css/xterm.css';
import { FitAddon } from '@xterm/addon-fit';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef } from 'react';
import type { LabSession, TerminalView } from '../_lib/lab-session';
import type { UiStrings } from '../_lib/ui-strings';
import { RefreshIcon, Spinner } from './icons';

const RESIZE_DEBOUNCE_MS = 120;
const ESC_TAB_WINDOW_MS = 1500;

const theme = {
  background: '#0b1120',
  foreground: '#e2e8f0',
  cursor: '#38bdf8',
  cursorAccent: '#0b1120',
  selectionBackground: '#334155',
  black: '#1e293b',
  red: '#f87171',
  green: '#4ade80',
  yellow: '#facc15',
  blue: '#60a5fa',
  magenta: '#c084fc',
  cyan: '#22d3ee',
  white: '#e2e8f0',
  brightBlack: '#64748b',
  brightRed: '#fca5a5',
  brightGreen: '#86efac',
  brightYellow: '#fde047',
  brightBlue: '#93c5fd',
  brightMagenta: '#d8b4fe',
  brightCyan: '#67e8f9',
  brightWhite: '#f8fafc',
};

/** Moves keyboard focus to the next (or previous) focusable element outside the pane. */
function moveFocusOut(pane: HTMLElement, backwards: boolean): void {
  const focusable = Array.from(
    document.querySelectorAll<HTMLElement>(
      'a[href], button:not([disabled]), input:not([disabled]), select, textarea:not([disabled]), [tabindex]:not([tabindex="-1"])',
    ),
  ).filter((el) => !pane.contains(el) && el.offsetParent !== null);
  const before = (el: HTMLElement) => (el.compareDocumentPosition(pane) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
  const target = backwards ? focusable.filter(before).pop() : focusable.find((el) => !before(el));
  target?.focus();
}

export interface TerminalPaneProps {
  session: LabSession;
  /** 0-based on the wire; shown 1-based. */
  index: number;
  view: TerminalView;
  strings: UiStrings;
  registerFocus(index: number, focus: (() => void) | null): void;
  /** xterm.js's screen reader mode (an accessible, live copy of the rows); one setting for all panes. */
  screenReader: boolean;
  onScreenReaderChange(on: boolean): void;
}

export function TerminalPane({ session, index, view, strings, registerFocus, screenReader, onScreenReaderChange }: TerminalPaneProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  const paneRef = useRef<HTMLElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const screenReaderRef = useRef(screenReader);
  screenReaderRef.current = screenReader;
  const label = strings.terminalLabel(index + 1);

  useEffect(() => {
    const host = hostRef.current;
    const pane = paneRef.current;
    if (!host || !pane) return;
    const term = new Terminal({
      allowProposedApi: true,
      cursorBlink: true,
      fontFamily: '"DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono CJK SC", ui-monospace, monospace',
      fontSize: 14,
      lineHeight: 1.15,
      scrollback: 5000,
      screenReaderMode: screenReaderRef.current,
      theme,
    });
    termRef.current = term;
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.loadAddon(new WebLinksAddon());
    term.loadAddon(new Unicode11Addon());
    term.unicode.activeVersion = '11';
    term.open(host);
    term.textarea?.setAttribute('aria-label', label);

    const safeFit = () => {
      if (host.clientWidth === 0 || host.clientHeight === 0) return;
      try {
        fit.fit();
      } catch {
        // not measurable yet (hidden)
      }
    };
    safeFit();
    session.resize(index, term.cols, term.rows);

    let resizeTimer: ReturnType<typeof setTimeout> | null = null;
    const onResize = term.onResize(({ cols, rows }) => {
      if (resizeTimer !== null) clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => session.resize(index, cols, rows), RESIZE_DEBOUNCE_MS);
    });
    let frame = 0;
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(safeFit);
    });
    observer.observe(host);

    const onData = term.onData((data) => session.sendInput(index, data));
    const onBinary = term.onBinary((data) => session.sendBinary(index, data));

    // Tab belongs to the shell (completion); Esc then Tab leaves the terminal (keyboard users).
    let escAtMs = 0;
    term.attachCustomKeyEventHandler((event) => {
      if (event.type !== 'keydown') return true;
      if (event.key === 'Escape') {
        escAtMs = Date.now();
        return true;
      }
      if (event.key === 'Tab' && Date.now() - escAtMs < ESC_TAB_WINDOW_MS) {
        event.preventDefault();
        escAtMs = 0;
        moveFocusOut(pane, event.shiftKey);
        return false;
      }
      if (event.key !== 'Shift') escAtMs = 0;
      return true;
    });

    const sink = {
      write: (data: Uint8Array, rendered: () => void) => term.write(data, rendered),
      reset: () => term.reset(),
      note: (text: string) => term.write(`\r\n\x1b[2m${text}\x1b[0m\r\n`),
    };
    session.attachTerminal(index, sink);
    registerFocus(index, () => term.focus());

    return () => {
      registerFocus(index, null);
      session.detachTerminal(index, sink);
      observer.disconnect();
      cancelAnimationFrame(frame);
      if (resizeTimer !== null) clearTimeout(resizeTimer);
      onResize.dispose();
      onData.dispose();
      onBinary.dispose();
      termRef.current = null;
      term.dispose();
    };
  }, [session, index, registerFocus, label]);

  useEffect(() => {
    if (termRef.current) termRef.current.options.screenReaderMode = screenReader;
  }, [screenReader]);

  const exited = view.phase === 'exited';
  const starting = view.phase === 'starting' || view.phase === 'restarting';
  const exitDetail = strings.shellExitedDetail(view.exitCode, view.signal);

  return (
    <section
      ref={paneRef}
      aria-label={label}
      data-terminal={index + 1}
      data-phase={view.phase}
      className="terminal-pane relative flex min-h-[18rem] flex-1 flex-col overflow-hidden rounded-xl bg-[#0b1120] shadow-lg ring-1 ring-slate-800 focus-within:ring-2 focus-within:ring-sky-400 lg:min-h-0"
    >
      <div className="flex items-center justify-between border-b border-slate-800 px-3 py-1.5 text-xs text-slate-400">
        <span className="font-semibold tracking-wide text-slate-300">{label}</span>
        <span className="flex items-center gap-3">
          <span className="hidden sm:inline">{strings.terminalHelp}</span>
          <button
            type="button"
            aria-pressed={screenReader}
            aria-label={strings.screenReaderModeLabel(index + 1)}
            onClick={() => onScreenReaderChange(!screenReader)}
            className={`inline-flex items-center gap-1.5 rounded-md px-2 py-0.5 font-medium ring-1 ring-inset ${
              screenReader ? 'bg-sky-300 text-slate-950 ring-sky-300' : 'text-slate-200 ring-slate-600 hover:bg-slate-800 hover:text-white'
            }`}
            data-screen-reader-toggle={index + 1}
          >
            <span aria-hidden="true" className={`size-2 rounded-full ${screenReader ? 'bg-slate-950' : 'bg-slate-500'}`} />
            {strings.screenReaderMode}
          </button>
        </span>
      </div>
      <div className="relative min-h-0 flex-1 px-2 pt-1.5 pb-1">
        <div ref={hostRef} className="h-full w-full" onClick={() => (exited ? session.restart(index) : undefined)} />
        {starting && (
          <div
            className="pointer-events-none absolute inset-0 flex items-center justify-center gap-2 bg-[#0b1120]/85 text-sm text-slate-200"
            data-overlay="starting"
          >
            <Spinner className="size-4 text-sky-400" />
            {strings.starting}
          </div>
        )}
        {exited && (
          <button
            type="button"
            onClick={() => session.restart(index)}
            className="absolute inset-x-0 bottom-0 flex w-full items-center justify-center gap-2 bg-slate-900/95 px-3 py-3 text-sm font-medium text-amber-200 hover:bg-slate-800"
            data-overlay="exited"
          >
            <RefreshIcon className="size-4" />
            {strings.shellExited} {exitDetail}
          </button>
        )}
      </div>
    </section>
  );
}
