/**
 * A shadow ref named by a client (`log --ref`): qualified under refs/shadow/ and held to git's
 * ref-name rules before anything touches the disk, because the name becomes a path below the git
 * dir and `..` or an absolute-looking name would read files outside the store (issue #5).
 */
import { ShadowError } from '../../shared/errors.js';
import { RefStore, SHADOW_REF_PREFIX } from './refStore.js';

/**
 * The git check-ref-format rules that matter for a path: no `..`, no space or `~^:?*[\`, no empty
 * segment, none starting with `.`, none ending in `.lock`, no `@{`; control characters (NUL
 * included) are checked apart.
 */
const BAD_REF_NAME = /\.\.|[ ~^:?*[\\]|\/\/|(^|\/)\.|\.lock(\/|$)|\/$|@\{/;

/** Whether `name` holds a control character (U+0000–U+001F or DEL). */
function hasControl(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Qualifies a client's ref name ('auto' → 'refs/shadow/auto'); INVALID_PARAMS unless it is a valid ref under refs/shadow/. */
export function userShadowRef(name: string): string {
  const ref = RefStore.qualify(name);
  if (!ref.startsWith(SHADOW_REF_PREFIX) || ref.length === SHADOW_REF_PREFIX.length || BAD_REF_NAME.test(ref) || hasControl(ref)) {
    throw new ShadowError('INVALID_PARAMS', `${JSON.stringify(name)} is not a shadow ref: expected a name like "auto" or "refs/shadow/<name>" (git ref-name rules)`, {
      field: 'ref',
      ref: name,
    });
  }
  return ref;
}
