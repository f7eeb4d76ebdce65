// The systemd unit shipped in packaging/systemd, made to run this
// installation: ExecStart and ExecReload name its node and bin/xdpfw.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../util/paths.js';

export const UNIT_NAME = 'xdpfw.service';
export const SHIPPED_UNIT = resolve(packageRoot, 'packaging', 'systemd', UNIT_NAME);
export const DEFAULT_UNIT_DIR = '/etc/systemd/system';
export const DEFAULT_SERVICE_CONFIG = '/etc/xdpfw/xdpfw.conf';

export interface UnitTarget {
  /** absolute path of the node binary */
  node: string;
  /** absolute path of bin/xdpfw */
  xdpfw: string;
  /** absolute path of the configuration file */
  config: string;
}

/**
 * One word of a unit's command line (systemd.service(5) "Command lines"):
 * `%` and `$` would be expanded, whitespace and quotes would split it.
 */
export function quoteUnitWord(word: string): string {
  if (word === '' || /[\0\n\r]/.test(word)) throw new Error(`cannot put ${JSON.stringify(word)} in a unit's command line`);
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /[\s"'\\;]/.test(escaped) ? `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : escaped;
}

const commandLine = (words: string[]): string => words.map(quoteUnitWord).join(' ');

/** The shipped unit with its ExecStart= and ExecReload= lines for `target`. */
export function renderUnit(template: string, target: UnitTarget): string {
  const lines: Record<string, string> = {
    ExecStart: commandLine([target.node, target.xdpfw, 'run', '-c', target.config]),
    ExecReload: commandLine([target.node, target.xdpfw, 'reload', '-c', target.config]),
  };
  const seen = new Set<string>();
  const out = template.replace(/^(ExecStart|ExecReload)=.*$/gm, (_line, key: string) => {
    seen.add(key);
    return `${key}=${lines[key]}`;
  });
  for (const key of Object.keys(lines)) {
    if (!seen.has(key)) throw new Error(`${SHIPPED_UNIT}: no ${key}= line to point at this installation`);
  }
  return out;
}

export function shippedUnit(): string {
  return readFileSync(SHIPPED_UNIT, 'utf8');
}

export interface Installed {
  path: string;
  target: UnitTarget;
  /** a unit was there before and has been replaced */
  replaced: boolean;
}

/** Writes the unit for this installation into `unitDir` (atomically: a reader sees the old or the new one). */
export function installService(unitDir: string, config: string): Installed {
  const target: UnitTarget = { node: process.execPath, xdpfw: resolve(packageRoot, 'bin', 'xdpfw'), config: resolve(config) };
  const text = `# Written by \`xdpfw install-service\` from ${SHIPPED_UNIT}.\n${renderUnit(shippedUnit(), target)}`;
  mkdirSync(unitDir, { recursive: true, mode: 0o755 });
  const path = join(resolve(unitDir), UNIT_NAME);
  const replaced = existsSync(path);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
  return { path, target, replaced };
}
