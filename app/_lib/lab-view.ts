// The part of a lab the browser needs (titles, hints, answer fields): plain, serialisable data
// cut from the LabDef on the server, so checks never ship to the client bundle.
import type { LabDef, Localized } from '../../labs/core/model';

export interface StepView {
  id: string;
  title: Localized;
  hints: Localized[];
  answer: { label: Localized; placeholder: string | null; pattern: string | null } | null;
}

export interface LabView {
  id: string;
  title: Localized;
  terminals: number;
  steps: StepView[];
}

export function toLabView(lab: LabDef): LabView {
  return {
    id: lab.id,
    title: lab.title,
    terminals: lab.terminals,
    steps: lab.steps.map((step) => ({
      id: step.id,
      title: step.title,
      hints: step.hints,
      answer: step.answer
        ? { label: step.answer.label, placeholder: step.answer.placeholder ?? null, pattern: step.answer.pattern ?? null }
        : null,
    })),
  };
}
