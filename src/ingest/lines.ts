// Reads a stream line by line with the byte offset of every line, so a file can be read again from any
// line's offset (the ingest activities read slices; nothing holds the whole file).
//
// A line ends at LF; a CR before it is dropped. Each line is decoded as strict UTF-8: a byte sequence that
// is not UTF-8 is an error naming the line, never a replacement character sent to m3ter.
export interface SourceLine {
  /** 1-based line number in the file. */
  line: number;
  /** Byte offset of the line's first byte. */
  start: number;
  /** Byte offset just after the line's LF (the next line's start), or the end of the file. */
  end: number;
  /** The line's text without its line ending. */
  text: string;
}

export class NotUtf8Error extends Error {
  constructor(readonly line: number) {
    super(`line ${line}: is not valid UTF-8`);
    this.name = 'NotUtf8Error';
  }
}

export class LineTooLongError extends Error {
  constructor(
    readonly line: number,
    readonly maxBytes: number,
  ) {
    super(`line ${line}: is longer than ${maxBytes} bytes`);
    this.name = 'LineTooLongError';
  }
}

export interface ReadLinesOptions {
  /** Byte offset of the stream's first byte in the file. Default 0. */
  offset?: number;
  /** Line number of the stream's first line. Default 1. */
  firstLine?: number;
  /**
   * A line longer than this fails the read (a file with no line breaks must not be buffered whole).
   * Default 1 MiB: twice what one request may carry.
   */
  maxLineBytes?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const BOM = [0xef, 0xbb, 0xbf];

/** Every line of `stream`, with its offsets; the last line may lack a line ending. */
export async function* readLines(
  stream: AsyncIterable<Buffer>,
  opts: ReadLinesOptions = {},
): AsyncGenerator<SourceLine> {
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let offset = opts.offset ?? 0;
  let line = opts.firstLine ?? 1;
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  const emit = (bytes: Buffer, withLf: boolean): SourceLine => {
    let body = bytes;
    if (offset === 0 && line === (opts.firstLine ?? 1) && BOM.every((b, i) => body[i] === b))
      body = body.subarray(3);
    if (body.length > 0 && body[body.length - 1] === CR) body = body.subarray(0, body.length - 1);
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      throw new NotUtf8Error(line);
    }
    const end = offset + bytes.length + (withLf ? 1 : 0);
    const out = { line, start: offset, end, text };
    offset = end;
    line += 1;
    return out;
  };

  for await (const chunk of stream) {
    let pos = 0;
    for (;;) {
      const lf = chunk.indexOf(LF, pos);
      if (lf === -1) break;
      const piece = chunk.subarray(pos, lf);
      const bytes = pendingBytes === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      pendingBytes = 0;
      if (bytes.length > maxLineBytes) throw new LineTooLongError(line, maxLineBytes);
      yield emit(bytes, true);
      pos = lf + 1;
    }
    if (pos < chunk.length) {
      const rest = chunk.subarray(pos);
      pending.push(rest);
      pendingBytes += rest.length;
      if (pendingBytes > maxLineBytes) throw new LineTooLongError(line, maxLineBytes);
    }
  }
  if (pendingBytes > 0) yield emit(Buffer.concat(pending), false);
}
