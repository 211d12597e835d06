'use client';
// What the lesson components (Step, Command, Answer) share: the session runtime, the lab's steps,
// the page locale and a way to focus a terminal.
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { Locale } from '../../labs/core/model';
import type { LabSession, SessionSnapshot } from '../_lib/lab-session';
import type { LabView } from '../_lib/lab-view';
import type { UiStrings } from '../_lib/ui-strings';

export interface LabContextValue {
  session: LabSession;
  lab: LabView;
  locale: Locale;
  strings: UiStrings;
  /** The step the learner is on (first not passed), and since when (ms since epoch). */
  activeStep: { id: string; sinceMs: number } | null;
  focusTerminal(index: number): void;
  registerTerminalFocus(index: number, focus: (() => void) | null): void;
}

export const LabContext = createContext<LabContextValue | null>(null);

export function useLab(): LabContextValue {
  const value = useContext(LabContext);
  if (!value) throw new Error('Lesson components must be rendered inside a lab workspace');
  return value;
}

export function useSessionSnapshot(session: LabSession): SessionSnapshot {
  return useSyncExternalStore(session.subscribe, session.getSnapshot, session.getSnapshot);
}

/** Locale and interface strings: provided on every lesson page, with or without a lab. */
export interface UiContextValue {
  locale: Locale;
  strings: UiStrings;
}

export const UiContext = createContext<UiContextValue | null>(null);

export function useUi(): UiContextValue {
  const value = useContext(UiContext);
  if (!value) throw new Error('Lesson components must be rendered inside a lesson page');
  return value;
}
