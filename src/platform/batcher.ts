/**
 * Gathers concurrent requests into batches, TigerBeetle's way: a request that
 * finds nothing in flight starts at once (alone, when nothing else waits);
 * the ones that arrive while a batch is in flight wait and leave together as
 * the next batch. No timer: under light load nothing waits, under heavy load
 * the batches grow by themselves and each costs one statement and one commit.
 *
 * One batch is in flight at a time; the other slots take only batches of at
 * least `overlapAt` items (default `maxBatch`: full ones), so that one slow
 * batch, say one waiting for a lock or a commit, does not hold every request
 * back. Measured on pledges, a second batch of whatever waits made more,
 * smaller batches for the same work, and cost about a fifth more CPU per
 * request; a second batch of 16 or more used idle CPU at 32 in flight.
 *
 * `run` answers each item of a batch in order; if it throws, every item of
 * that batch gets the error.
 * @example const holds = new Batcher({ maxBatch: 64, slots: 2, run: (items) => Promise.allSettled(items.map(hold)) });
 *          const pledge = await holds.submit(request);
 */
export class Batcher<I, O> {
  private readonly queue: { item: I; resolve: (o: O) => void; reject: (err: unknown) => void }[] = [];
  private busy = 0;

  constructor(
    private readonly opts: {
      /** Items per batch, at most. */
      maxBatch: number;
      /** Batches in flight at once, at most; every one after the first has `overlapAt` items or more. */
      slots: number;
      /** Waiting items that let a batch start beside one in flight (default `maxBatch`: only full batches). */
      overlapAt?: number;
      run: (items: I[]) => Promise<PromiseSettledResult<O>[]>;
    },
  ) {
    if (!(opts.maxBatch >= 1 && opts.slots >= 1)) throw new RangeError('a batcher needs maxBatch >= 1 and slots >= 1');
    if (opts.overlapAt !== undefined && !(opts.overlapAt >= 1 && opts.overlapAt <= opts.maxBatch)) {
      throw new RangeError('a batcher needs 1 <= overlapAt <= maxBatch');
    }
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Requests waiting for a slot (for metrics and tests). */
  get waiting(): number {
    return this.queue.length;
  }

  private pump(): void {
    while (this.queue.length > 0 && this.busy < this.opts.slots && (this.busy === 0 || this.queue.length >= (this.opts.overlapAt ?? this.opts.maxBatch))) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.busy++;
      void this.runBatch(batch).finally(() => {
        this.busy--;
        this.pump();
      });
    }
  }

  private async runBatch(batch: typeof this.queue): Promise<void> {
    let results: PromiseSettledResult<O>[];
    try {
      results = await this.opts.run(batch.map((b) => b.item));
    } catch (err) {
      for (const b of batch) b.reject(err);
      return;
    }
    if (results.length !== batch.length) {
      const err = new Error(`a batch of ${batch.length} got ${results.length} answers`);
      for (const b of batch) b.reject(err);
      return;
    }
    batch.forEach((b, k) => {
      const r = results[k]!;
      if (r.status === 'fulfilled') b.resolve(r.value);
      else b.reject(r.reason);
    });
  }
}
