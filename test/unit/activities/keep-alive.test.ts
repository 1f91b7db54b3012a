// keptAlive: the activities without progress of their own heartbeat while they run, so a task lost with its
// worker is retried after the heartbeat timeout; called outside an activity they run as they are.
import { MockActivityEnvironment } from '@temporalio/testing';
import { keptAlive } from '../../../activities/keep-alive';

describe('keptAlive', () => {
  afterEach(() => jest.useRealTimers());

  it('heartbeats every 5 s while the activity runs, and stops when it returns', async () => {
    jest.useFakeTimers();
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const { slow } = keptAlive({
      slow: (ms: number) => new Promise<string>((resolve) => setTimeout(() => resolve('done'), ms)),
    });
    const result = env.run(slow, 12_000);
    await jest.advanceTimersByTimeAsync(12_000);
    await expect(result).resolves.toBe('done');
    expect(beats).toEqual([undefined, undefined]);
    await jest.advanceTimersByTimeAsync(20_000);
    expect(beats).toHaveLength(2);
  });

  it('heartbeats at the interval it is given', async () => {
    jest.useFakeTimers();
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const { slow } = keptAlive(
      { slow: () => new Promise<void>((resolve) => setTimeout(resolve, 7_000)) },
      2_000,
    );
    const result = env.run(slow);
    await jest.advanceTimersByTimeAsync(7_000);
    await result;
    expect(beats).toHaveLength(3);
  });

  it('stops heartbeating when the activity throws, and passes the error on', async () => {
    jest.useFakeTimers();
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const { failing } = keptAlive({
      failing: () =>
        new Promise<never>((_, reject) => setTimeout(() => reject(new RangeError('refused')), 6_000)),
    });
    const result = env.run(failing);
    const settled = expect(result).rejects.toBeInstanceOf(RangeError);
    await jest.advanceTimersByTimeAsync(6_000);
    await settled;
    await jest.advanceTimersByTimeAsync(20_000);
    expect(beats).toHaveLength(1);
  });

  it('runs the function as it is outside an activity', async () => {
    const { plain } = keptAlive({ plain: async (a: number, b: number) => a + b });
    await expect(plain(2, 3)).resolves.toBe(5);
  });
});
