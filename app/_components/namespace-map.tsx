'use client';
// <NamespaceMap view? focus? highlight?>: the live map of the learner's own sandbox, in a lesson.
// This wrapper is all the lesson route ships; the drawing (namespace-map-view.tsx) loads on first
// render, in its own chunk. It reads the agent's `snapshot` messages through the lab session.
import { lazy, Suspense } from 'react';
import { useLab, useSessionSnapshot } from './lab-context';
import type { MapView } from './namespace-map-view';

const NamespaceMapView = lazy(() => import('./namespace-map-view').then((m) => ({ default: m.NamespaceMapView })));

const viewNames = ['network', 'namespaces', 'table'] as const;
const focusTypes = ['net', 'pid', 'mnt', 'uts', 'ipc', 'user', 'cgroup'] as const;

export function NamespaceMap({ view, focus, highlight }: { view?: string; focus?: string; highlight?: string }) {
  const { session, strings, lab, locale, activeStep } = useLab();
  const snapshot = useSessionSnapshot(session);
  const initialView = (viewNames as readonly string[]).includes(view ?? '') ? (view as MapView) : 'network';
  const focusType = (focusTypes as readonly string[]).includes(focus ?? '') ? (focus as (typeof focusTypes)[number]) : undefined;
  const names = (highlight ?? '').split(/[\s,]+/).filter(Boolean);
  const step = activeStep ? lab.steps.find((s) => s.id === activeStep.id) : undefined;
  return (
    <Suspense
      fallback={
        <div className="my-6 h-48 animate-pulse rounded-2xl border border-slate-200 bg-slate-100" data-namespace-map-loading>
          <span className="sr-only">{strings.mapLoading}</span>
        </div>
      }
    >
      <NamespaceMapView
        map={snapshot.map}
        mapAtMs={snapshot.mapAtMs}
        strings={strings}
        initialView={initialView}
        focus={focusType}
        highlight={names}
        stepTitle={step ? step.title[locale] : null}
      />
    </Suspense>
  );
}
