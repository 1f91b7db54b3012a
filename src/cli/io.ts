// Where a command writes: one line at a time to stdout (results) or stderr (progress, problems). Commands
// take an Io instead of touching process streams, so tests capture exactly what a user would see.
export interface Io {
  stdout(line: string): void;
  stderr(line: string): void;
}

/** The process's own streams, one line per call. */
export const processIo: Io = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
};
