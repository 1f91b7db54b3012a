// The batch buffers local writers gather socket chunks into (see LocalWriter.createStream), kept for the
// next download instead of dropped. A dropped buffer's memory lies outside V8's heap and comes back only
// when V8 next runs a full collection, so a worker finishing many small downloads held tens of megabytes of
// dead batches at its peak.

export class BatchBuffers {
  private readonly free: Buffer[] = [];

  /**
   * @param size bytes per buffer.
   * @param keep buffers kept for reuse at most; more are left to the garbage collector. Each costs `size`
   *   bytes for the life of the process.
   */
  constructor(
    readonly size: number,
    readonly keep: number,
  ) {}

  /** Buffers waiting for reuse. */
  get idle(): number {
    return this.free.length;
  }

  /** A buffer of `size` bytes, with whatever bytes it held before: write only what you filled. */
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Hands a buffer back; the caller must not touch it afterwards. */
  give(buffer: Buffer): void {
    if (buffer.length === this.size && this.free.length < this.keep && !this.free.includes(buffer))
      this.free.push(buffer);
  }
}
