'use client';
// Create a workshop: title, lessons (in course order), capacity, start and end. POST /api/workshops.
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import type { Locale } from '@/labs/core/model';
import { useJsonPost } from '@/app/_lib/use-json-post';
import { workshopStrings } from '@/app/_lib/workshops-strings';
import { buttonClass, inputClass } from '@/app/_lib/workshops-ui';

/** A Date as the value of <input type="datetime-local"> in the browser's time zone. */
function localInputValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function CreateWorkshopForm({ locale, lessons }: { locale: Locale; lessons: Array<{ slug: string; title: string }> }) {
  const w = workshopStrings(locale);
  const router = useRouter();
  const { busy, error, post, submitWith } = useJsonPost(locale);
  const [defaults] = useState(() => {
    const start = new Date();
    start.setSeconds(0, 0);
    return { start: localInputValue(start), end: localInputValue(new Date(start.getTime() + 3 * 3600_000)) };
  });

  const submit = submitWith(async (data) => {
    const startsAt = new Date(String(data.get('startsAt'))).getTime();
    const endsAt = new Date(String(data.get('endsAt'))).getTime();
    const reply = await post<{ workshop?: { id: string } }>(
      '/api/workshops',
      { title: data.get('title'), lessons: data.getAll('lessons'), capacity: Number(data.get('capacity')), startsAt, endsAt },
      { accept: (r) => Boolean(r.workshop) },
    );
    if (reply?.workshop) router.push(`/${locale}/workshops/${reply.workshop.id}`);
  });

  return (
    <form onSubmit={submit} className="mt-4 grid gap-4" data-create-workshop>
      <label className="block text-sm font-medium text-slate-800">
        {w.title}
        <input name="title" required maxLength={120} className={inputClass} />
      </label>
      <fieldset>
        <legend className="text-sm font-medium text-slate-800">{w.lessonsToInclude}</legend>
        <div className="mt-2 grid gap-1 sm:grid-cols-2">
          {lessons.map((lesson, index) => (
            <label key={lesson.slug} className="flex items-start gap-2 text-sm text-slate-800">
              <input type="checkbox" name="lessons" value={lesson.slug} defaultChecked={index === 0} className="mt-1" data-lesson-option={lesson.slug} />
              <span>{lesson.title}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <div className="grid gap-4 sm:grid-cols-3">
        <label className="block text-sm font-medium text-slate-800">
          {w.capacity}
          <input name="capacity" type="number" min={1} max={1000} defaultValue={30} required className={inputClass} />
        </label>
        <label className="block text-sm font-medium text-slate-800">
          {w.startsAt}
          <input name="startsAt" type="datetime-local" defaultValue={defaults.start} required className={inputClass} suppressHydrationWarning />
        </label>
        <label className="block text-sm font-medium text-slate-800">
          {w.endsAt}
          <input name="endsAt" type="datetime-local" defaultValue={defaults.end} required className={inputClass} suppressHydrationWarning />
        </label>
      </div>
      {error && (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 ring-1 ring-red-200">
          {error}
        </p>
      )}
      <div>
        <button type="submit" disabled={busy} className={buttonClass}>
          {busy ? w.creating : w.create}
        </button>
      </div>
    </form>
  );
}
