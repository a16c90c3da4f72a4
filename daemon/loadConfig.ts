/**
 * Reads the workspace's optional `shadow.config.json` (S9). Absent means defaults; anything
 * wrong — unreadable, bad JSON, bad value — is CONFIG_INVALID naming the file and the spot.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type ShadowConfig } from '../shared/config.js';
import { ShadowError } from '../shared/errors.js';
import { CONFIG_FILE } from '../shared/paths.js';

/** The configuration of `workspace`: its `shadow.config.json` merged over the defaults. */
export function loadConfig(workspace: string): ShadowConfig {
  const file = join(workspace, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') return parseConfig({}, file);
    throw new ShadowError('CONFIG_INVALID', `${file}: cannot read: ${(err as Error).message}`, { file, key: '', errno }, { cause: err });
  }
  // Editors on Windows may save a BOM, which JSON.parse rejects.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const { line, column } = lineColumn(text, jsonErrorOffset(text));
    throw new ShadowError(
      'CONFIG_INVALID',
      `${file}:${line}:${column}: invalid JSON: ${(err as Error).message.split('\n')[0]}`,
      { file, key: '', line, column },
      { cause: err },
    );
  }
  return parseConfig(json, file);
}

/** 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/**
 * Offset of the first JSON syntax error in `text`. V8's messages carry a position for some
 * errors only ("Unexpected token 's', ... is not valid JSON" has none), so scan for it.
 */
function jsonErrorOffset(text: string): number {
  let pos = 0;
  const fail = (): never => {
    throw pos;
  };
  const ws = () => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos] as string)) pos++;
  };
  const literal = (word: string) => {
    for (const ch of word) if (text[pos] === ch) pos++; else fail();
  };
  const string = () => {
    pos++;
    for (;;) {
      const c = text[pos];
      if (c === undefined || c.charCodeAt(0) < 0x20) fail();
      if (c === '"') return void pos++;
      if (c === '\\') {
        pos++;
        if (text[pos] === 'u') {
          for (let i = 0; i < 4; i++) if (!/[0-9a-fA-F]/.test(text[++pos] ?? '')) fail();
        } else if (!'"\\/bfnrt'.includes(text[pos] ?? 'x')) fail();
      }
      pos++;
    }
  };
  const number = () => {
    const re = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) fail();
    else pos += m[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[pos];
    if (c === '{') return container('}', true);
    if (c === '[') return container(']', false);
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    fail();
  };
  const container = (close: string, isObject: boolean) => {
    pos++;
    ws();
    if (text[pos] === close) return void pos++;
    for (;;) {
      if (isObject) {
        ws();
        if (text[pos] !== '"') fail();
        string();
        ws();
        if (text[pos] !== ':') fail();
        pos++;
      }
      value();
      ws();
      if (text[pos] === ',') pos++;
      else if (text[pos] === close) return void pos++;
      else fail();
    }
  };
  try {
    value();
    ws();
    if (pos < text.length) fail();
  } catch (at) {
    if (typeof at === 'number') return Math.min(at, text.length);
    throw at;
  }
  return pos;
}
