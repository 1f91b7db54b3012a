// Every m3ter answer is bounded, after decompression: a gzip bomb or an oversized token or URL answer from a
// hostile server is refused at the cap instead of growing the worker's memory. Real client, real loopback
// server (test/integration/m3ter-client/scripted-server.ts).
import { gzipSync } from 'node:zlib';
import { M3terClient } from '../../../src/m3ter';
import { M3terResponseTooLargeError } from '../../../src/m3ter/errors';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../../../src/m3ter/http';
import { json, scriptedServerPerBlock } from '../../integration/m3ter-client/scripted-server';

describe('m3ter responses are bounded', () => {
  const server = scriptedServerPerBlock();
  let client: M3terClient;
  beforeEach(() => {
    client = server.client({ baseDelayMs: 1 });
  });

  it('a gzip bomb answering a job status read is cut off at the cap, not inflated', async () => {
    // 100 MiB of JSON-ish text compresses to about 100 KiB on the wire.
    const inflated = 100 * 1024 * 1024;
    const bomb = gzipSync(
      Buffer.concat([Buffer.from('{"id":"j1","status":"RUNNING","pad":"'), Buffer.alloc(inflated, 0x61)]),
    );
    expect(bomb.length).toBeLessThan(200 * 1024);
    server.on('GET /dataexports/jobs/j1', (_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(bomb);
    });
    global.gc?.();
    const before = process.memoryUsage().rss;
    const err = await client.getExportJob('j1').catch((e: unknown) => e);
    const grown = process.memoryUsage().rss - before;
    expect(err).toBeInstanceOf(M3terResponseTooLargeError);
    expect((err as Error).message).toContain(`exceeds ${DEFAULT_MAX_RESPONSE_BYTES} bytes`);
    // Not retried: the same answer would come back.
    expect(server.apiRequests('GET /dataexports/jobs/j1')).toHaveLength(1);
    expect(grown).toBeLessThan(64 * 1024 * 1024);
  });

  it('a token answer larger than 16 KiB is refused', async () => {
    server.scriptToken((_r, res) =>
      json(res, 200, { access_token: 'x'.repeat(20_000), expires_in: 3600, token_type: 'Bearer' }),
    );
    await expect(client.getExportJob('j1')).rejects.toBeInstanceOf(M3terResponseTooLargeError);
  });

  it('a download URL answer larger than 64 KiB is refused', async () => {
    server.on('GET /dataexports/jobs/j1/getdownloadurl', (_r, res) =>
      json(res, 200, { url: `https://files.example/${'a'.repeat(70_000)}` }),
    );
    await expect(client.getExportDownloadUrl('j1')).rejects.toBeInstanceOf(M3terResponseTooLargeError);
  });

  it('a token with a lifetime under 60 s is refused', async () => {
    server.expiresIn = 0.001;
    const err = await client.getExportJob('j1').catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/expires_in: must be >= 60/);
  });
});
