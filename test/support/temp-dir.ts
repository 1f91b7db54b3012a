// Temporary folders for tests that write files.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * A fresh folder for each test of the calling describe block, removed after the test, so no test sees
 * another's files; the returned function names the current test's folder.
 */
export function tempDirPerTest(prefix: string): () => string {
  let dir: string | undefined;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  });
  afterEach(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return () => {
    if (!dir) throw new Error('the temporary folder exists only inside a test');
    return dir;
  };
}
