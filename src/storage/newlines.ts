// Row counting while streaming: both storages count '\n' bytes as they write, so a manifest's `rows` costs
// no second pass over the file.
const NEWLINE = 0x0a;

/** The number of '\n' bytes in `buf`. */
export function countNewlines(buf: Buffer): number {
  let n = 0;
  let i = buf.indexOf(NEWLINE);
  while (i !== -1) {
    n++;
    i = buf.indexOf(NEWLINE, i + 1);
  }
  return n;
}
