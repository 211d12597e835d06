// What the grader keeps between two snapshots of one sandbox, owned by one object whose lifetime is
// the sandbox's: made at its first snapshot, released when its init exits (or by
// releaseSnapshotState, which makes the next snapshot read everything afresh).
//  - `tag`: nsread's cache tag (the /proc files it holds open for the sandbox, the namespace links
//    it may reuse; nsread.c), and the key of the sandbox's own reader once a read of it stalled.
//  - `nsCache`: the last read of each network / UTS namespace, for the budgeted refresh (ns-reads.ts).
import type { Sandbox } from '../sandbox/driver';
import { nsReader, releaseReader, type NsReader } from './ns-reader';
import type { RunResult } from './exec';

/** One namespace's last read: its fingerprint then, when, and what was read. */
export interface CachedRead {
  fingerprint: string | null;
  atMs: number;
  res: RunResult;
}

/** The nsread reader and cache tag a snapshot reads with (tag 0: nothing kept between rounds). */
export interface ReaderSource {
  readonly tag: number;
  /** The reader for this sandbox now (it may change mid-snapshot: a stalled read isolates it); null: exec path. */
  reader(): NsReader | null;
}

let nextTag = 1;

export class SandboxReadState implements ReaderSource {
  readonly tag = nextTag++;
  readonly nsCache = new Map<string, CachedRead>();

  reader(): NsReader | null {
    return nsReader(this.tag);
  }

  /** nsread drops what it holds for this sandbox (and its own reader, if it had one, stops). */
  release(): void {
    this.nsCache.clear();
    releaseReader(this.tag);
  }
}

/** A sandbox that is not running keeps nothing: one-off reads on the shared reader. */
export const transientReads: ReaderSource = { tag: 0, reader: () => nsReader(0) };

const states = new WeakMap<Sandbox, SandboxReadState>();

/** The sandbox's read state, made at its first snapshot and released when it exits. */
export function readStateOf(sandbox: Sandbox): SandboxReadState {
  let state = states.get(sandbox);
  if (!state) {
    const made = (state = new SandboxReadState());
    states.set(sandbox, made);
    void sandbox.exited.then(() => {
      if (states.get(sandbox) === made) releaseSnapshotState(sandbox);
    });
  }
  return state;
}

/** Releases what is kept for this sandbox: its next snapshot reads everything afresh. */
export function releaseSnapshotState(sandbox: Sandbox): void {
  const state = states.get(sandbox);
  if (!state) return;
  states.delete(sandbox);
  state.release();
}
