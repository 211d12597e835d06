'use client';
// A read-only live view of a learner's terminals for the instructor: asks the app for a single-use
// viewer token, opens the terminal WebSocket with it (the agent sends replay + live output and
// refuses any input), and renders each terminal in an xterm.js with stdin disabled. It never
// replaces the learner's own connection.
import '@xterm/xterm/css/xterm.css';
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import type { Locale } from '@/labs/core/model';
import { decodeFrame, serverMessageSchema, WS_PATH } from '@/sandbox-agent/protocol';
import { tabStops, trapTabTarget } from '@/app/_lib/a11y';
import { workshopStrings } from '@/app/_lib/workshops-strings';
import { secondaryButtonClass } from '@/app/_lib/workshops-ui';

type Phase = 'connecting' | 'live' | 'ended' | 'error';

export function TerminalViewer({
  locale,
  workshopId,
  learnerId,
  displayName,
  labId,
  onClose,
}: {
  locale: Locale;
  workshopId: string;
  learnerId: string;
  displayName: string;
  labId: string;
  onClose: () => void;
}) {
  const w = workshopStrings(locale);
  const hostRef = useRef<HTMLDivElement>(null);
  const [phase, setPhase] = useState<Phase>('connecting');
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    let socket: WebSocket | null = null;
    const terminals: Terminal[] = [];
    const offsets: number[] = [];
    const decoder = new TextDecoder();
    (async () => {
      const response = await fetch(`/api/workshops/${workshopId}/viewer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ learnerId, labId, locale }),
      }).catch(() => null);
      const body = (await response?.json().catch(() => null)) as { token?: string; terminals?: number; error?: string } | null;
      if (cancelled) return;
      if (!response?.ok || !body?.token || !body.terminals) {
        setPhase('error');
        setMessage(body?.error ?? (response ? w.httpError(response.status) : w.networkError));
        return;
      }
      const host = hostRef.current;
      if (!host) return;
      for (let i = 0; i < body.terminals; i++) {
        const box = document.createElement('div');
        box.className = 'rounded-md bg-slate-950 p-2';
        box.dataset.viewerTerminal = String(i);
        host.appendChild(box);
        const term = new Terminal({
          cols: 100,
          rows: 18,
          disableStdin: true,
          cursorBlink: false,
          fontSize: 12,
          scrollback: 2000,
          theme: { background: '#020617' },
        });
        // Read-only: Escape (close) and Tab (move on) are the dialog's, not the terminal's. xterm
        // would otherwise take both and stop them there, trapping a keyboard user in the view.
        term.attachCustomKeyEventHandler((event) => event.key !== 'Escape' && event.key !== 'Tab');
        term.open(box);
        term.textarea?.setAttribute('aria-label', w.viewerTerminalLabel(displayName, i + 1));
        terminals.push(term);
        offsets.push(0);
      }
      const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${WS_PATH}`;
      socket = new WebSocket(url);
      socket.binaryType = 'arraybuffer';
      socket.onopen = () => socket?.send(JSON.stringify({ type: 'auth', token: body.token, resume: [] }));
      socket.onmessage = (event) => {
        if (event.data instanceof ArrayBuffer) {
          const frame = decodeFrame(new Uint8Array(event.data));
          if ('error' in frame || frame.kind !== 'output') return;
          const term = terminals[frame.terminal];
          const seen = offsets[frame.terminal] ?? 0;
          if (!term || frame.offset + frame.data.length <= seen) return;
          const fresh = frame.data.subarray(Math.max(0, seen - frame.offset));
          offsets[frame.terminal] = frame.offset + frame.data.length;
          term.write(decoder.decode(fresh, { stream: true }));
          return;
        }
        const parsed = serverMessageSchema.safeParse(JSON.parse(String(event.data)));
        if (!parsed.success) return;
        const m = parsed.data;
        if (m.type === 'ready') setPhase('live');
        if (m.type === 'error' && m.close !== undefined) {
          setPhase('ended');
          setMessage(m.message);
        }
      };
      socket.onclose = () => setPhase((p) => (p === 'error' ? p : 'ended'));
    })();
    return () => {
      cancelled = true;
      socket?.close();
      for (const term of terminals) term.dispose();
      if (hostRef.current) hostRef.current.replaceChildren();
    };
  }, [workshopId, learnerId, labId]);

  // Escape closes from anywhere in the dialog, terminals included (capture phase: before any
  // element inside can swallow it).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      event.stopPropagation();
      onClose();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [onClose]);

  // Focus goes back to what opened the view when it closes (read at the first render, before the
  // Close button takes the focus).
  const [opener] = useState(() => (typeof document !== 'undefined' && document.activeElement instanceof HTMLElement ? document.activeElement : null));
  useEffect(
    () => () => {
      if (opener?.isConnected) opener.focus();
    },
    [opener],
  );

  // A modal dialog: Tab and Shift+Tab cycle inside it.
  const dialogRef = useRef<HTMLDivElement>(null);
  const onDialogKeyDown = (event: ReactKeyboardEvent<HTMLDivElement>) => {
    if (event.key !== 'Tab' || !dialogRef.current) return;
    const stops = tabStops(dialogRef.current);
    const current = stops.indexOf(document.activeElement as HTMLElement);
    const target = trapTabTarget(stops.length, current, event.shiftKey);
    if (target === null) return;
    event.preventDefault();
    stops[target]?.focus();
  };

  return (
    <div
      ref={dialogRef}
      role="dialog"
      aria-modal="true"
      aria-labelledby="viewer-title"
      aria-describedby="viewer-help"
      onKeyDown={onDialogKeyDown}
      className="fixed inset-0 z-50 flex items-start justify-center overflow-y-auto bg-slate-900/60 p-6"
    >
      <div className="w-full max-w-5xl rounded-xl bg-white p-4 shadow-xl" data-viewer data-viewer-phase={phase}>
        <div className="flex items-center justify-between gap-3">
          <h2 id="viewer-title" className="text-lg font-semibold">
            {w.readOnlyView(displayName)}
          </h2>
          <button type="button" className={secondaryButtonClass} onClick={onClose} autoFocus>
            {w.close}
          </button>
        </div>
        <p id="viewer-help" className="mt-1 text-sm text-slate-600">
          {w.viewerKeyboardHelp}
        </p>
        {phase === 'connecting' && <p className="mt-2 text-sm text-slate-600">{w.viewerConnecting}</p>}
        {(phase === 'ended' || phase === 'error') && (
          <p role="status" className="mt-2 text-sm text-amber-900" data-viewer-message>
            {message ?? w.viewerEnded}
          </p>
        )}
        <div ref={hostRef} className="mt-3 grid gap-3" />
      </div>
    </div>
  );
}
