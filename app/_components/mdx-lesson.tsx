'use client';
// Renders a lesson bundled by mdx-bundler, with the lesson components wired in.
import { getMDXComponent } from 'mdx-bundler/client';
import { useMemo } from 'react';
import { Diagram } from './diagrams';
import { Answer, Callout, Choice, Command, Explain, Hint, Quiz, Step, Terminal } from './lesson-components';
import { NamespaceMap } from './namespace-map';

const components = { Step, Command, Answer, Callout, Hint, Quiz, Choice, Explain, Terminal, NamespaceMap, Diagram };

export function MdxLesson({ code }: { code: string }) {
  const Content = useMemo(() => getMDXComponent(code), [code]);
  return <Content components={components} />;
}
