'use client';
// A lesson without a lab: just the text (Callouts work; Steps need a lab).
import type { Locale } from '../../labs/core/model';
import { uiStrings } from '../_lib/ui-strings';
import { UiContext } from './lab-context';
import { MdxLesson } from './mdx-lesson';

export function ReadingLesson({ locale, code }: { locale: Locale; code: string }) {
  return (
    <UiContext.Provider value={{ locale, strings: uiStrings(locale) }}>
      <MdxLesson code={code} />
    </UiContext.Provider>
  );
}
