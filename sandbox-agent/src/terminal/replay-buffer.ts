// A bounded, offset-addressed replay buffer of one terminal's output. Offsets are absolute byte
// positions in the terminal's output stream since the shell started, so a client that reconnects
// says "I rendered up to N" and gets exactly the bytes after N that are still kept.

export class ReplayBuffer {
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** Absolute offset of the first kept byte. */
  private startOffset = 0;

  constructor(private readonly capacityBytes: number) {
    if (!Number.isInteger(capacityBytes) || capacityBytes <= 0) throw new RangeError('capacityBytes must be a positive integer');
  }

  /** Offset of the first byte still kept. */
  get start(): number {
    return this.startOffset;
  }

  /** Offset just after the last byte appended. */
  get end(): number {
    return this.startOffset + this.bytes;
  }

  append(data: Buffer): void {
    if (data.length === 0) return;
    if (data.length >= this.capacityBytes) {
      const keep = data.subarray(data.length - this.capacityBytes);
      this.startOffset = this.end + data.length - keep.length;
      this.chunks = [Buffer.from(keep)];
      this.bytes = keep.length;
      return;
    }
    this.chunks.push(data);
    this.bytes += data.length;
    while (this.bytes > this.capacityBytes) {
      const first = this.chunks[0];
      if (!first) break;
      const excess = this.bytes - this.capacityBytes;
      if (first.length <= excess) {
        this.chunks.shift();
        this.bytes -= first.length;
        this.startOffset += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.bytes -= excess;
        this.startOffset += excess;
      }
    }
  }

  /** The kept bytes from `offset` on, as one buffer with its absolute offset. */
  readFrom(offset: number): { offset: number; data: Buffer } {
    const from = Math.max(offset, this.startOffset);
    if (from >= this.end) return { offset: this.end, data: Buffer.alloc(0) };
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
    if (this.chunks.length > 1) this.chunks = [all];
    return { offset: from, data: all.subarray(from - this.startOffset) };
  }
}
