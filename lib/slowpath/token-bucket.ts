/** A token bucket: `rate` tokens per second, holding at most `burst`. Starts full. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  /** `now` returns milliseconds (injectable for tests). */
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(rate >= 0) || !(burst >= 1)) throw new RangeError(`token bucket: rate ${rate}/s and burst ${burst} must be >= 0 and >= 1`);
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token if there is one. */
  take(): boolean {
    const t = this.now();
    // A clock that steps back refills nothing rather than draining the bucket.
    if (t > this.last) this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.rate) / 1000);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
