// Input rules shared by the repositories (app/_lib/db/repositories/): ids, names, emails,
// passwords, timestamps. zod schemas, so every repository function validates the same way.
import { z } from 'zod';

/** Learner ids: the app's cookie ids (and the agent protocol's learnerId pattern). */
export const learnerIdSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, { error: 'learner id may contain only letters, digits and _ . : -' });
export const labIdSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9-]+$/, { error: 'lab id must be kebab-case' });
export const stepIdSchema = z.string().min(1).max(100);
export const lessonSlugSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9-]+$/, { error: 'lesson slug must be kebab-case' });

/** Unicode control characters and bidi overrides have no place in a name shown to others. */

/** Unicode control characters and bidi overrides have no place in a name shown to others. */
export const unsafeNameChars = /[\p{Cc}\u200B\u202A-\u202E\u2066-\u2069\uFEFF]/u;
export const displayNameMaxChars = 40;

/** A name people see (learner display name, workshop member name): trimmed, 1-40 characters. */
export const displayNameSchema = z
  .string()
  .transform((value) => value.normalize('NFC').trim().replace(/\s+/g, ' '))
  .pipe(
    z
      .string()
      .min(1, { error: 'name must not be empty' })
      .refine((value) => [...value].length <= displayNameMaxChars, {
        error: `name must be at most ${displayNameMaxChars} characters`,
      })
      .refine((value) => !unsafeNameChars.test(value), { error: 'name must not contain control characters' }),
  );

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, { error: 'email must be at most 254 characters' })
  .pipe(z.email({ error: 'not a valid email address' }));

export const passwordMinChars = 10;
export const passwordSchema = z
  .string()
  .min(passwordMinChars, { error: `password must be at least ${passwordMinChars} characters` })
  .max(256, { error: 'password must be at most 256 characters' });


/** ms since the epoch (up to the largest Date). */
export const timestampMsSchema = z.number().int().nonnegative().max(8.64e15);

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
