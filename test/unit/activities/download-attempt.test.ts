// downloadAttempt: a download beats for its whole life, not only while bytes stream, and a keep-alive beat
// repeats the last details (the resume checkpoint) instead of dropping them.
import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { downloadAttempt } from '../../../activities/download-attempt';
import { M3TER_QUEUE_HEARTBEAT } from '../../../src/contract/task-queues';

describe('downloadAttempt', () => {
  afterEach(() => jest.useRealTimers());

  it("repeats the previous attempt's details, then the last ones sent, until stopped", async () => {
    jest.useFakeTimers();
    const previous = { bytesWritten: 0, storage: { v: 3, parts: [] } };
    const env = new MockActivityEnvironment({ heartbeatDetails: previous });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const every = M3TER_QUEUE_HEARTBEAT.everyMs;
    const run = env.run(async () => {
      const attempt = downloadAttempt(Context.current());
      expect(attempt.checkpoint).toEqual(previous.storage);
      await new Promise((r) => setTimeout(r, 2 * every + 10));
      attempt.heartbeat({ bytesWritten: 9 });
      await new Promise((r) => setTimeout(r, every));
      attempt.stop();
    });
    await jest.advanceTimersByTimeAsync(3 * every + 10);
    await run;
    expect(beats).toEqual([previous, previous, { bytesWritten: 9 }, { bytesWritten: 9 }]);
    await jest.advanceTimersByTimeAsync(10 * every);
    expect(beats).toHaveLength(4);
  });

  it('beats often enough that the heartbeat timeout of its queue holds several beats', () => {
    expect(M3TER_QUEUE_HEARTBEAT.timeoutMs / M3TER_QUEUE_HEARTBEAT.everyMs).toBeGreaterThanOrEqual(4);
  });
});
