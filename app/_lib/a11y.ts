// Small, pure accessibility helpers shared by the lesson page and the instructor's dashboard:
// the learner's screen-reader-mode preference for the terminals, which scrolling boxes need a Tab
// stop (WCAG 2.1.1, axe `scrollable-region-focusable`), and where Tab goes inside a modal dialog.

/** localStorage key of the terminals' screen-reader mode (the learner's browser keeps it). */
export const SCREEN_READER_KEY = 'nslab:terminal-screen-reader';

type StorageLike = Pick<Storage, 'getItem' | 'setItem'>;

/** The saved screen-reader mode: off unless the learner turned it on (no storage: off). */
export function readScreenReaderMode(storage: StorageLike | null | undefined): boolean {
  try {
    return storage?.getItem(SCREEN_READER_KEY) === 'on';
  } catch {
    return false;
  }
}

/** Saves the mode; false when it could not be stored (it then holds for this page only). */
export function writeScreenReaderMode(storage: StorageLike | null | undefined, on: boolean): boolean {
  try {
    if (!storage) return false;
    storage.setItem(SCREEN_READER_KEY, on ? 'on' : 'off');
    return true;
  } catch {
    return false;
  }
}

export interface BoxMetrics {
  scrollWidth: number;
  clientWidth: number;
  scrollHeight: number;
  clientHeight: number;
  overflowX: string;
  overflowY: string;
}

const scrolls = (overflow: string) => overflow === 'auto' || overflow === 'scroll';

/** True when a keyboard user could only scroll this box if it had a Tab stop of its own. */
export function scrollsWithoutFocus(box: BoxMetrics): boolean {
  return (
    (scrolls(box.overflowX) && box.scrollWidth > box.clientWidth + 1) ||
    (scrolls(box.overflowY) && box.scrollHeight > box.clientHeight + 1)
  );
}

/**
 * Tab inside a modal dialog: the index to focus instead of leaving it, or null to let the browser
 * move focus (it stays inside). `current` is -1 when focus is not on one of the dialog's stops.
 */
export function trapTabTarget(count: number, current: number, backwards: boolean): number | null {
  if (count === 0) return null;
  if (current === -1) return backwards ? count - 1 : 0;
  if (backwards && current === 0) return count - 1;
  if (!backwards && current === count - 1) return 0;
  return null;
}

/** The elements a keyboard user can Tab to inside `root`, in document order. */
export function tabStops(root: HTMLElement): HTMLElement[] {
  return Array.from(
    root.querySelectorAll<HTMLElement>(
      'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])',
    ),
  ).filter((el) => el.tabIndex >= 0 && (el.offsetParent !== null || el.getClientRects().length > 0));
}

/**
 * Gives every box matching `selector` under `root` that scrolls a Tab stop (and takes it away once
 * it no longer scrolls). Only boxes it marked itself are changed back.
 */
export function syncScrollableFocus(root: HTMLElement, selector: string): void {
  for (const el of Array.from(root.querySelectorAll<HTMLElement>(selector))) {
    const style = getComputedStyle(el);
    const needs = scrollsWithoutFocus({
      scrollWidth: el.scrollWidth,
      clientWidth: el.clientWidth,
      scrollHeight: el.scrollHeight,
      clientHeight: el.clientHeight,
      overflowX: style.overflowX,
      overflowY: style.overflowY,
    });
    if (needs && !el.hasAttribute('tabindex')) {
      el.setAttribute('tabindex', '0');
      el.dataset.scrollFocus = 'true';
    } else if (!needs && el.dataset.scrollFocus === 'true') {
      el.removeAttribute('tabindex');
      delete el.dataset.scrollFocus;
    }
  }
}
