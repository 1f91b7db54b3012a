import { TokenBucket } from '../../../src/m3ter/rate-limit';

/** A clock that only moves when the bucket sleeps or the test advances it: no real time passes. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    sleeps,
  };
}

describe('TokenBucket', () => {
  it('lets a burst through at once, then paces at the sustained rate', async () => {
    const t = fakeTime();
    const bucket = new TokenBucket({ ratePerSec: 4, burst: 3 }, t.now, t.sleep);
    const granted: number[] = [];
    await Promise.all(Array.from({ length: 7 }, () => bucket.take().then(() => granted.push(t.now()))));
    // Three at t=0, then one every 250 ms.
    expect(granted).toEqual([0, 0, 0, 250, 500, 750, 1000]);
  });

  it('serves waiters in the order they asked', async () => {
    const t = fakeTime();
    const bucket = new TokenBucket({ ratePerSec: 10, burst: 1 }, t.now, t.sleep);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4].map((i) => bucket.take().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('refills while idle, never beyond the burst: after a long pause only the burst passes at once', async () => {
    const t = fakeTime();
    const bucket = new TokenBucket({ ratePerSec: 2, burst: 2 }, t.now, t.sleep);
    await bucket.take();
    await bucket.take();
    expect(t.sleeps).toEqual([]);
    t.advance(10_000); // a long quiet period
    await Promise.all([bucket.take(), bucket.take(), bucket.take()]);
    expect(t.sleeps).toEqual([500]);
  });
});
