// Every S3 call has a timeout: an endpoint that accepts connections and never answers fails the call with
// StorageFailed instead of holding the download forever.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../../src/contract/failures';
import { createS3Client, createS3Storage } from '../../../src/storage/s3';

describe('S3 request timeouts', () => {
  let server: net.Server;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    // Reads requests, answers nothing.
    server = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.resume();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('fails a call to a server that never answers, within the configured timeout and the SDK retries', async () => {
    const client = createS3Client({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      requestTimeoutMs: 300,
    });
    const previous = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    try {
      const storage = createS3Storage({ client, bucket: 'bucket' });
      const started = Date.now();
      const err = await storage.exists('file.csv').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).toBe(FailureType.StorageFailed);
      expect((err as ApplicationFailure).message).toMatch(/^checking for an object: /);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      client.destroy();
      process.env.AWS_ACCESS_KEY_ID = previous.id;
      process.env.AWS_SECRET_ACCESS_KEY = previous.secret;
      if (previous.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (previous.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });
});
