// Replay fixtures: recorded workflow histories (test/replay/histories/<workflowType>/<path>.json) that the
// replay test runs against today's workflow code. This module scrubs a recorded history of what is local to
// the machine that recorded it, and finds anything secret left in it: the recorder refuses to write such a
// fixture and the replay test refuses to load one.
import fs from 'node:fs';
import path from 'node:path';

export const HISTORIES_DIR = path.resolve(__dirname, '../../test/replay/histories');

export interface ReplayFixture {
  workflowType: string;
  /** The file's base name: which path through the workflow this history takes. */
  path: string;
  /** What the history covers, in a sentence. */
  covers: string;
  /** Replay passes it to the workflow (workflowInfo().workflowId); histories do not carry it. */
  workflowId: string;
  /** The history as the server's JSON (proto3 JSON, payload data base64). */
  history: { events: Array<Record<string, unknown>> };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isPayload = (v: Record<string, Json>): boolean =>
  typeof v.data === 'string' && typeof v.metadata === 'object' && v.metadata !== null;

/** Every string a history holds, payloads decoded: what the secret check reads. */
export function historyText(history: unknown): string {
  const out: string[] = [];
  const walk = (v: Json): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if (isPayload(v)) out.push(Buffer.from(v.data as string, 'base64').toString('utf8'));
      Object.values(v).forEach(walk);
    }
  };
  walk(history as Json);
  return out.join('\n');
}

/**
 * Replaces machine-local strings (the recorder's temporary directory, its host name in worker identities)
 * everywhere, payloads included. Payload bytes change, their meaning does not: replay reads activity
 * results from history, and no command the workflows issue depends on a path.
 */
export function scrubHistory<T>(history: T, replacements: Array<[string, string]>): T {
  const apply = (s: string) => replacements.reduce((acc, [from, to]) => acc.split(from).join(to), s);
  const walk = (v: Json, key?: string): Json => {
    if (typeof v === 'string') return key === 'identity' ? 'recorder' : apply(v);
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === 'object') {
      const out: { [k: string]: Json } = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, k);
      if (isPayload(v)) {
        const decoded = Buffer.from(v.data as string, 'base64').toString('utf8');
        out.data = Buffer.from(apply(decoded), 'utf8').toString('base64');
      }
      return out;
    }
    return v;
  };
  return walk(history as Json) as T;
}

/** What must never be in a fixture: a presigned URL's signature, a bearer token, a JWT, a known secret. */
export function secretsIn(history: unknown, knownSecrets: string[] = []): string[] {
  const text = historyText(history);
  const found: string[] = [];
  for (const s of knownSecrets) if (s && text.includes(s)) found.push('a credential of the recording');
  const patterns: Array<[RegExp, string]> = [
    [/[?&]sig=[0-9a-f]{8}/, 'a presigned URL signature (sig=)'],
    [/X-Amz-Signature=/i, 'an S3 presigned URL signature'],
    [/Bearer\s+[A-Za-z0-9]/, 'a bearer token'],
    [/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+/, 'a JWT'],
  ];
  for (const [re, what] of patterns) if (re.test(text)) found.push(what);
  return found;
}

export function fixtureFile(workflowType: string, name: string): string {
  return path.join(HISTORIES_DIR, workflowType, `${name}.json`);
}

/** Every fixture, in a stable order, with its file relative to the repository. */
export function loadFixtures(dir = HISTORIES_DIR): Array<{ file: string; fixture: ReplayFixture }> {
  if (!fs.existsSync(dir)) return [];
  const files = (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files.map((f) => ({
    file: path.relative(path.resolve(dir, '../../..'), path.join(dir, f)),
    fixture: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as ReplayFixture,
  }));
}

export function writeFixture(fixture: ReplayFixture): string {
  const file = fixtureFile(fixture.workflowType, fixture.path);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(fixture, null, 1)}\n`);
  return file;
}
