// Reading and writing cgroup files (one value, one `key value` line, a list of PIDs), and the error
// every cgroup decision throws with the file and the fix.
import * as fs from 'node:fs';

export class CgroupLayoutError extends Error {
  constructor(message: string) {
    super(`sandbox preflight: ${message}`);
    this.name = 'CgroupLayoutError';
  }
}

export function readNumber(file: string): number | null {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    if (text === 'max') return Number.POSITIVE_INFINITY;
    const n = Number.parseInt(text, 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

export function readKey(file: string, key: string): number | null {
  try {
    const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(fs.readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export function readOr(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

export function readProcs(file: string): number[] {
  const text = readOr(file);
  if (text === null) return [];
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map(Number);
}

export const words = (text: string | null) => (text ?? '').trim().split(/\s+/).filter(Boolean);

export const write = (file: string, value: string) => fs.writeFileSync(file, value);
