// Makes a local writer's next write fail, on whichever path it writes (src/storage/local/writer.ts): the
// event loop's `writeSync` pieces or the thread pool's `FileHandle.write`. Restore with
// `jest.restoreAllMocks()` after each test.
import nodeFs from 'node:fs';
import type { StorageWriter } from '../../src/storage/types';

/**
 * Fails the writer's next write with `error` and lets the later ones through; returns the file position of
 * every write tried from then on.
 */
export function failNextWrite(writer: StorageWriter, fromEventLoop: boolean, error: Error): unknown[] {
  const positions: unknown[] = [];
  if (fromEventLoop) {
    const real = nodeFs.writeSync.bind(nodeFs) as (...args: unknown[]) => number;
    jest.spyOn(nodeFs, 'writeSync').mockImplementation((...args: unknown[]) => {
      positions.push(args[4]);
      if (positions.length > 1) return real(...args);
      throw error;
    });
  } else {
    const { handle } = writer as unknown as { handle: { write: (...args: unknown[]) => Promise<unknown> } };
    const real = handle.write.bind(handle);
    handle.write = (...args: unknown[]) => {
      positions.push(args[3]);
      if (positions.length > 1) return real(...args);
      return Promise.reject(error);
    };
  }
  return positions;
}
