// The instructor and learner forms' POST (sign in, join, create a workshop): JSON body with the
// page's locale, the button busy meanwhile, and the reply's localized `error` (the API speaks the
// locale we send), else a generic message for the status or the network, shown by the form.
import { useState, type FormEvent } from 'react';
import type { Locale } from '@/labs/core/model';
import { workshopStrings } from './workshops-strings';

export function useJsonPost(locale: Locale) {
  const w = workshopStrings(locale);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  /**
   * POSTs `fields` (plus `locale`) to `url`. Returns the reply body when the status is 2xx and
   * `accept` (if given) takes it; otherwise shows the error and returns null. `staysBusy` keeps the
   * button disabled after a success, for forms that navigate away.
   */
  async function post<Reply>(
    url: string,
    fields: Record<string, unknown>,
    options: { accept?: (reply: Reply) => boolean; staysBusy?: boolean } = {},
  ): Promise<Reply | null> {
    setBusy(true);
    setError(null);
    let succeeded = false;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...fields, locale }),
      });
      const reply = (await response.json().catch(() => null)) as (Reply & { error?: string }) | null;
      if (!response.ok || reply === null || (options.accept && !options.accept(reply))) {
        setError(reply?.error ?? w.httpError(response.status));
        return null;
      }
      succeeded = true;
      return reply;
    } catch {
      setError(w.networkError);
      return null;
    } finally {
      if (!succeeded || !options.staysBusy) setBusy(false);
    }
  }

  /** A form's onSubmit: stops the browser's own submit and hands `handler` the form's fields. */
  function submitWith(handler: (data: FormData) => Promise<void>) {
    return (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      void handler(new FormData(event.currentTarget));
    };
  }

  return { busy, error, post, submitWith };
}
