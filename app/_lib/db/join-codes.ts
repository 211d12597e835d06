// Workshop join codes: generated, validated and normalized from what a person typed.
import { randomInt } from 'node:crypto';

/** Join-code characters: digits and capitals without look-alikes (0/O, 1/I/L, 5/S, 2/Z, 8/B, U/V). */
export const workshopCodeAlphabet = '346789ACDEFGHJKMNPQRTWXY';
const workshopCodeLength = 6;
export const workshopCodePattern = new RegExp(`^[${workshopCodeAlphabet}]{3}-[${workshopCodeAlphabet}]{3}$`);

/** A fresh join code like K7P-3QX (24^6 = 191 million codes). */
export function generateWorkshopCode(): string {
  let raw = '';
  for (let i = 0; i < workshopCodeLength; i++) raw += workshopCodeAlphabet[randomInt(workshopCodeAlphabet.length)];
  return `${raw.slice(0, 3)}-${raw.slice(3)}`;
}

/** What a person typed, as a canonical code (case, spaces and dashes forgiven), or null. */
export function normalizeWorkshopCode(input: string): string | null {
  const raw = input.toUpperCase().replace(/[\s-]/g, '');
  if (raw.length !== workshopCodeLength) return null;
  const code = `${raw.slice(0, 3)}-${raw.slice(3)}`;
  return workshopCodePattern.test(code) ? code : null;
}
