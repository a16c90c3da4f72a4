/**
 * The flat view of a snapshot that diff and restore work on: every file of a commit,
 * recursively, keyed by its workspace-relative path.
 */

/** Git file modes Shadow stores. */
export type FileMode = '100644' | '100755' | '120000';
/** One file of a snapshot: its mode and blob id (for a symlink the blob is the link target). */
export interface FlatEntry { mode: FileMode; oid: string }
/** Every file of a snapshot, keyed by posix workspace-relative path (no leading './', no trailing '/'). */
export type FlatTree = Map<string, FlatEntry>;
/** Reads a blob's bytes by oid. */
export type BlobReader = (oid: string) => Promise<Uint8Array>;
