import type { Logger } from './log.ts';

/**
 * The shape of every background worker here: run `pass` until it reports no
 * more work, again whenever `poke()` says there may be some (after a commit
 * that produced work) and at least every `pollMs` (work produced by other
 * processes). One pass at a time; a poke during a pass schedules another.
 * @example const loop = new PollingLoop('relay', () => relay.runOnce(), log, 250); loop.start(); loop.poke();
 */
export class PollingLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private lastStart = -Infinity;

  constructor(
    private readonly name: string,
    /** One unit of work; truthy (or a positive count) when there may be more. */
    private readonly pass: () => Promise<number | boolean>,
    private readonly log: Logger,
    private readonly pollMs: number,
    /**
     * Passes begin at least this far apart while work trickles in, so that a
     * stream of small commits is taken in batches instead of a pass each. A
     * pass that reports more work (a full batch) is followed at once.
     */
    private readonly gapMs = 0,
  ) {}

  get active(): boolean {
    return !this.stopped;
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.poke();
      this.timer = setTimeout(tick, this.pollMs);
      this.timer.unref();
    };
    tick();
  }

  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.spaced();
          while (!this.stopped && (await this.startPass()));
        } while (this.again && !this.stopped);
      } catch (err) {
        this.log.warn({ worker: this.name, err: (err as Error).message }, `${this.name} pass failed; retrying on the next tick`);
      } finally {
        this.running = undefined;
      }
    })();
  }

  private startPass(): Promise<number | boolean> {
    this.lastStart = performance.now();
    return this.pass();
  }

  /** Waits out the rest of the gap since the last pass began. */
  private async spaced(): Promise<void> {
    const wait = this.lastStart + this.gapMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** Stops polling and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
