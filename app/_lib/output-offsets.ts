// Pure helpers of the browser's terminal runtime, kept apart so they are unit-tested without a DOM.

/**
 * Which part of an output frame is new. A frame carries bytes [offset, offset + length) of a
 * terminal's output stream; bytes before `receivedOffset` were already handed to the terminal (a
 * replay after a reconnect overlaps them), so only the rest is written.
 */
export function unseenPart(
  frameOffset: number,
  data: Uint8Array,
  receivedOffset: number,
): { bytes: Uint8Array; end: number; gapBytes: number } | null {
  const end = frameOffset + data.length;
  if (end <= receivedOffset) return null;
  const skip = Math.max(0, receivedOffset - frameOffset);
  return { bytes: data.subarray(skip), end, gapBytes: Math.max(0, frameOffset - receivedOffset) };
}

/** Reconnect delay: 0.5 s doubling up to 10 s, with +-20% jitter (random in [0, 1) is injectable). */
export function backoffMs(attempt: number, random: number = Math.random()): number {
  const base = Math.min(10_000, 500 * 2 ** Math.max(0, attempt));
  const jitter = 1 + (random * 0.4 - 0.2);
  return Math.round(Math.min(10_000, Math.max(500, base * jitter)));
}

/** Splits text into UTF-8 chunks no longer than maxBytes, never inside a character. */
export function utf8Chunks(text: string, maxBytes: number): Uint8Array[] {
  const encoder = new TextEncoder();
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return bytes.length > 0 ? [bytes] : [];
  const chunks: Uint8Array[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(bytes.length, start + maxBytes);
    // Step back over UTF-8 continuation bytes (10xxxxxx) so a character is never split.
    while (end < bytes.length && end > start && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
    chunks.push(bytes.subarray(start, end));
    start = end;
  }
  return chunks;
}

/** Text of a terminal command to send: trailing newlines trimmed, with or without Enter. */
export function commandInput(text: string, submit: boolean): string {
  const line = text.replace(/\r?\n$/, '').replace(/\r?\n/g, '\r');
  return submit ? `${line}\r` : line;
}
