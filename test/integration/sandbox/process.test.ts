import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { runSandboxCommand } from '../../../tooling/sandbox/main';

const ROOT = resolve(__dirname, '../../..');

// Tests and later features run the sandbox as a separate process and read one JSON ready line.
describe('sandbox: as a real process', () => {
  it('prints one sandbox.ready line, serves tokens, and exits cleanly on SIGTERM', async () => {
    const env = { ...process.env };
    delete env.M3TER_ORG_ID;
    delete env.M3TER_ACCESS_KEY_ID;
    delete env.M3TER_API_SECRET;
    const child = spawn(
      process.execPath,
      ['bin/run-ts.js', 'tooling/sandbox/main.ts', '--port', '0', '--json', '--seed', '7'],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const lines = createInterface({ input: child.stdout });
      const [line] = (await Promise.race([
        once(lines, 'line'),
        once(child, 'exit').then(() => Promise.reject(new Error(`sandbox exited early: ${stderr}`))),
      ])) as [string];
      const ready = JSON.parse(line);
      expect(Object.keys(ready)).toEqual([
        'event',
        'baseUrl',
        'ingestUrl',
        'adminUrl',
        'orgId',
        'accessKeyId',
        'apiSecret',
      ]);
      expect(ready.event).toBe('sandbox.ready');
      expect(ready.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(ready.ingestUrl).toBe(ready.baseUrl);
      expect(ready.adminUrl).toBe(`${ready.baseUrl}/_sandbox`);

      const res = await fetch(`${ready.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: 'Basic ' + Buffer.from(`${ready.accessKeyId}:${ready.apiSecret}`).toString('base64'),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      });
      expect(res.status).toBe(200);
      const { access_token } = (await res.json()) as { access_token: string };
      const jobs = await fetch(`${ready.baseUrl}/organizations/${ready.orgId}/dataexports/jobs`, {
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(jobs.status).toBe(200);

      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);

  it('prints a banner that says it is a sandbox, with the env lines to export', async () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      const sb = await runSandboxCommand({ port: 0, seed: 3 });
      try {
        const out = writes.join('');
        expect(out).toContain('m3ter SANDBOX (not m3ter)');
        for (const line of [
          `M3TER_API_URL=${sb.baseUrl}`,
          `M3TER_INGEST_URL=${sb.ingestUrl}`,
          `M3TER_ORG_ID=${sb.orgId}`,
          `M3TER_ACCESS_KEY_ID=${sb.accessKeyId}`,
          `M3TER_API_SECRET=${sb.apiSecret}`,
        ]) {
          expect(out).toContain(line);
        }
      } finally {
        await sb.close();
      }
    } finally {
      spy.mockRestore();
    }
  });
});
