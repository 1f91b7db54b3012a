// The uid every measurement is sent with, so that a batch sent twice (a retried activity, a resumed run)
// is ingested once: the file's own uid when the row has one, else one derived from the file's content and
// the row's line number. The same file therefore always yields the same uids; `--force` adds a salt of the
// run so a deliberate resend gets new ones.
//
// ASSUMPTION (docs/m3ter-api.md, Assumptions): m3ter ingests a measurement resubmitted with the same uid
// within 35 days once (an FAQ statement, not in the API reference). Exactly-once rests on it.
//
// A derived uid names its line (`ig-<24 hex of the file's SHA-256>[-<salt>]-<line>`, at most 47 characters),
// so a rejection event that quotes it leads straight back to the line without any map of uids.

export const MAX_UID_LENGTH = 50;
/** How long m3ter deduplicates a uid (the assumption above). */
export const UID_DEDUP_MS = 35 * 86_400_000;
/**
 * How recent an ingest that ended without completing must be for the same file to be sent again under
 * the same uids: its rows were sent after its start, and a day is left for the sending and for clocks.
 */
export const RESEND_SAME_UIDS_WITHIN_MS = UID_DEDUP_MS - 86_400_000;
const HASH_CHARS = 24;
export const SALT_PATTERN = /^[0-9a-z]{8}$/;
const DERIVED = /^ig-([0-9a-f]{24})(?:-([0-9a-z]{8}))?-([1-9]\d{0,9})$/;

/** The uid of a row that has none. `fileSha256` is the file's hex digest; `salt` is set with --force. */
export function derivedUid(fileSha256: string, line: number, salt?: string): string {
  return `ig-${fileSha256.slice(0, HASH_CHARS)}${salt ? `-${salt}` : ''}-${line}`;
}

/** The line a uid derived for this file and salt stands for, or undefined when it is not one of them. */
export function lineOfDerivedUid(uid: string, fileSha256: string, salt?: string): number | undefined {
  const m = DERIVED.exec(uid);
  if (!m || m[1] !== fileSha256.slice(0, HASH_CHARS) || (m[2] ?? undefined) !== (salt ?? undefined))
    return undefined;
  return Number(m[3]);
}
