'use client';
// Renders a lesson bundled by mdx-bundler, with the lesson components wired in.
import { getMDXComponent } from 'mdx-bundler/client';
import { useMemo } from 'react';
import { Answer, Callout, Command, Step } from './lesson-components';

const components = { Step, Command, Answer, Callout };

export function MdxLesson({ code }: { code: string }) {
  const Content = useMemo(() => getMDXComponent(code), [code]);
  return <Content components={components} />;
}
