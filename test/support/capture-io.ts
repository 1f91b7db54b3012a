// A CLI command's output, captured line by line instead of written to the process's streams.
import type { Io } from '../../src/cli/io';

export function captureIo(): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l) };
}
