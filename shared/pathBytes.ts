/**
 * File names are bytes; Shadow's paths are strings. Linux allows any byte but '/' and NUL in a
 * name, git stores those bytes as they are in tree entries, and Node's utf8 decoding turns each
 * invalid byte into U+FFFD, after which the name no longer reaches the file. So paths carry bytes
 * that are not valid UTF-8 with Python's "surrogateescape": valid UTF-8 decodes normally, and every
 * other byte b (always ≥ 0x80) becomes the lone surrogate U+DC00+b. A valid decode never yields a
 * lone surrogate, so the mapping is reversible and unambiguous; names that are valid UTF-8 (nearly
 * all) are the very strings they always were. Pure functions, shared by the daemon and the CLI.
 */

/** A lone (unpaired) surrogate in U+DC80..U+DCFF: one escaped byte. */
const ESCAPED_BYTE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/;
const ESCAPED_BYTE_G = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/g;

/**
 * Longest path (bytes, terminating NUL included) the OS takes in one system call: Linux's
 * PATH_MAX, 1024 on macOS and the BSDs. A longer path fails with ENAMETOOLONG whatever it names.
 */
export const OS_PATH_MAX = process.platform === 'linux' ? 4096 : 1024;

/** True when `path` carries bytes that are not UTF-8 (escaped as lone surrogates). */
export function hasEscapedBytes(path: string): boolean {
  // Called for every path at every fs call: a string without lone surrogates is decided by the
  // engine's fast well-formedness check (a tenth of the regex's cost).
  if (isWellFormed(path)) return false;
  return ESCAPED_BYTE.test(path);
}

/** String.prototype.isWellFormed (Node 20+), or a regex where it is missing. */
const isWellFormed: (s: string) => boolean = (() => {
  const native = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;
  const anySurrogate = /[\uD800-\uDFFF]/;
  return native ? (s: string) => native.call(s) : (s: string) => !anySurrogate.test(s);
})();

/** Length of the sequence starting with `b`, and the allowed range of its second byte; null if `b` cannot start one. */
function leadInfo(b: number): [number, number, number] | null {
  if (b >= 0xc2 && b <= 0xdf) return [2, 0x80, 0xbf];
  if (b === 0xe0) return [3, 0xa0, 0xbf];
  if (b === 0xed) return [3, 0x80, 0x9f]; // ED A0..BF would encode a surrogate: not UTF-8
  if (b >= 0xe1 && b <= 0xef) return [3, 0x80, 0xbf];
  if (b === 0xf0) return [4, 0x90, 0xbf];
  if (b >= 0xf1 && b <= 0xf3) return [4, 0x80, 0xbf];
  if (b === 0xf4) return [4, 0x80, 0x8f];
  return null;
}

/** Decodes name bytes: valid UTF-8 as text, every other byte b as U+DC00+b (surrogateescape). */
export function decodePathBytes(bytes: Uint8Array): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fast = buf.toString('utf8');
  // Node writes U+FFFD for each invalid sequence; without one the bytes were valid UTF-8.
  if (!fast.includes('\uFFFD')) return fast;
  let out = '';
  let i = 0;
  while (i < buf.length) {
    const b = buf[i] as number;
    if (b < 0x80) {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    const lead = leadInfo(b);
    let ok = lead !== null && i + lead[0] <= buf.length;
    if (lead && ok) {
      const second = buf[i + 1] as number;
      ok = second >= lead[1] && second <= lead[2];
      for (let k = 2; ok && k < lead[0]; k++) ok = ((buf[i + k] as number) & 0xc0) === 0x80;
    }
    if (lead && ok) {
      out += buf.toString('utf8', i, i + lead[0]);
      i += lead[0];
    } else {
      out += String.fromCharCode(0xdc00 + b);
      i++;
    }
  }
  return out;
}

/** Encodes a path back to its bytes: the inverse of decodePathBytes. */
export function encodePathBytes(path: string): Buffer {
  if (!hasEscapedBytes(path)) return Buffer.from(path, 'utf8');
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of path.matchAll(ESCAPED_BYTE_G)) {
    const at = m.index as number;
    parts.push(Buffer.from(path.slice(last, at), 'utf8'), Buffer.of(path.charCodeAt(at) - 0xdc00));
    last = at + 1;
  }
  parts.push(Buffer.from(path.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

/** Byte length of a path as the file system sees it. */
export function pathByteLength(path: string): number {
  return hasEscapedBytes(path) ? encodePathBytes(path).length : Buffer.byteLength(path, 'utf8');
}

/**
 * The argument for a node:fs call on workspace path `rel` under `root` ('' is the root): the
 * joined string in the usual case, the exact bytes when `rel` carries escaped bytes (a string
 * argument would be re-encoded with U+FFFD and name another file, or none).
 */
export function fsPath(root: string, rel: string): string | Buffer {
  if (rel === '') return root;
  if (!hasEscapedBytes(rel)) return `${root}/${rel}`;
  return Buffer.concat([Buffer.from(`${root}/`, 'utf8'), encodePathBytes(rel)]);
}

/** True when `rel` under `root` is longer than one system call takes (it would fail with ENAMETOOLONG). */
export function exceedsPathMax(root: string, rel: string): boolean {
  // A UTF-16 code unit is at most 3 bytes (an escaped byte is 1): the usual path is decided here.
  if ((root.length + 1 + rel.length) * 3 < OS_PATH_MAX) return false;
  return Buffer.byteLength(root, 'utf8') + 1 + pathByteLength(rel) >= OS_PATH_MAX;
}

const C_ESCAPES: Record<number, string> = { 7: 'a', 8: 'b', 9: 't', 10: 'n', 11: 'v', 12: 'f', 13: 'r', 0x22: '"', 0x5c: '\\' };

/**
 * A path for human output. Names with escaped bytes or control characters are quoted the way
 * git quotes them (`"caf\351.txt"`: C escapes, other such bytes in octal); valid non-ASCII text
 * stays readable (git with core.quotePath=false). Other paths are returned as they are.
 */
export function quotePath(path: string): string {
  // eslint-disable-next-line no-control-regex
  if (!hasEscapedBytes(path) && !/[\u0000-\u001f\u007f]/.test(path)) return path;
  let out = '"';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    const prev = i > 0 ? path.charCodeAt(i - 1) : 0;
    if (c >= 0xdc80 && c <= 0xdcff && !(prev >= 0xd800 && prev <= 0xdbff)) out += `\\${(c - 0xdc00).toString(8)}`;
    else if (C_ESCAPES[c] !== undefined) out += `\\${C_ESCAPES[c]}`;
    else if (c < 0x20 || c === 0x7f) out += `\\${c.toString(8).padStart(3, '0')}`;
    else out += path[i];
  }
  return `${out}"`;
}

/**
 * Reads back a path the user typed in git's quoted form (`"caf\351.txt"`, as quotePath and git
 * print it): a command-line argument cannot carry bytes that are not UTF-8 otherwise. Anything
 * not wrapped in double quotes is returned as it is.
 */
export function unquotePath(arg: string): string {
  if (arg.length < 2 || !arg.startsWith('"') || !arg.endsWith('"')) return arg;
  const bytes: number[] = [];
  const body = Buffer.from(arg.slice(1, -1), 'utf8');
  const letters: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 0x22, '\\': 0x5c };
  for (let i = 0; i < body.length; i++) {
    const b = body[i] as number;
    if (b !== 0x5c || i + 1 >= body.length) {
      bytes.push(b);
      continue;
    }
    const next = String.fromCharCode(body[i + 1] as number);
    const octal = /^[0-3][0-7]{2}$/.exec(body.toString('latin1', i + 1, i + 4));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else if (letters[next] !== undefined) {
      bytes.push(letters[next]);
      i += 1;
    } else {
      bytes.push(b);
    }
  }
  return decodePathBytes(Buffer.from(bytes));
}

/** `abs` (from fsPath) joined with one more name, keeping bytes exact. */
export function fsJoin(abs: string | Buffer, name: string): string | Buffer {
  if (typeof abs === 'string' && !hasEscapedBytes(name)) return `${abs}/${name}`;
  return Buffer.concat([typeof abs === 'string' ? Buffer.from(abs, 'utf8') : abs, Buffer.from('/'), encodePathBytes(name)]);
}

/** The directory part of `abs` (from fsPath), keeping bytes exact. */
export function fsDirname(abs: string | Buffer): string | Buffer {
  if (typeof abs === 'string') {
    const i = abs.lastIndexOf('/');
    return i <= 0 ? '/' : abs.slice(0, i);
  }
  const i = abs.lastIndexOf(0x2f);
  return i <= 0 ? '/' : abs.subarray(0, i);
}
