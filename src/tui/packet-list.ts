// The numbers of the packets of one tunnel or one flow, in capture order.
// Four bytes a packet; a live capture drops the numbers whose bytes have left
// the ring buffer, so the list never outgrows it.

export class PacketList {
  private numbers = new Uint32Array(16);
  private start = 0;
  private end = 0;
  /** Packets ever added, including any dropped since. */
  total = 0;
  /** Packets ever added that had a bad checksum. */
  badChecksums = 0;

  push(n: number, badChecksum: boolean): void {
    if (this.end === this.numbers.length) this.makeRoom();
    this.numbers[this.end++] = n;
    this.total++;
    if (badChecksum) this.badChecksums++;
  }

  /** Forgets packets numbered below `oldest`. */
  dropBelow(oldest: number): void {
    while (this.start < this.end && this.numbers[this.start] < oldest) this.start++;
  }

  get length(): number {
    return this.end - this.start;
  }

  /**
   * The numbers held now. The view stays valid as the list changes: growing
   * and compacting copy into a new buffer rather than moving numbers in place.
   */
  view(): Uint32Array {
    return this.numbers.subarray(this.start, this.end);
  }

  private makeRoom(): void {
    const held = this.end - this.start;
    const size = held * 2 > this.numbers.length ? this.numbers.length * 2 : this.numbers.length;
    const next = new Uint32Array(size);
    next.set(this.numbers.subarray(this.start, this.end));
    this.numbers = next;
    this.start = 0;
    this.end = held;
  }
}
