// Which filesystems a local writer writes to from the event loop. A write into the page cache of a local
// filesystem takes less time than handing it to the thread pool; a write to a network or FUSE filesystem
// can wait on a server for as long as it likes, and must not hold the event loop, on which every
// activity's heartbeat runs, meanwhile.
import fs from 'node:fs/promises';

/** Linux `statfs` types (f_type) of filesystems whose writes land in this machine's page cache. */
const LOCAL_FILESYSTEM_TYPES: ReadonlySet<number> = new Set([
  0xef53, // ext2, ext3, ext4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0x858458f6, // ramfs
  0x794c7630, // overlayfs (a container's own layer)
  0xf2f52010, // f2fs
  0x2fc12fc1, // zfs
  0xca451a4e, // bcachefs
]);

/** True when `dir` is on a Linux filesystem known to be local; false elsewhere, and when unsure. */
export async function isLocalFilesystem(dir: string): Promise<boolean> {
  if (process.platform !== 'linux') return false;
  const stats = await fs.statfs(dir).catch(() => undefined);
  // f_type is a C long: unsigned here, whatever sign the platform gives it.
  return stats !== undefined && LOCAL_FILESYSTEM_TYPES.has(stats.type >>> 0);
}
