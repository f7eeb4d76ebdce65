// `diff`: the running configuration against a file or an archived commit, as
// set/delete lines (lib/commit/diff.ts). The other side is parsed and
// normalised like a config being loaded, so its errors carry file:line:column.
import { readConfigTree } from '../config/compile.js';
import { readConfigText } from '../config/read-file.js';
import type { CompiledConfig } from '../config/types.js';
import type { CommitArchive } from './archive.js';
import { diffLines, diffTrees } from './diff.js';

export interface DiffReport {
  /** What the running configuration is compared with. */
  against: string;
  /** The commands that turn the running configuration into it; empty when they are the same. */
  lines: string[];
}

export function configDiff(running: CompiledConfig, archive: CommitArchive, req: { configPath?: string; rollback?: number }): DiffReport {
  let text: string;
  let file: string;
  let against: string;
  if (req.rollback !== undefined) {
    const e = archive.nth(req.rollback);
    text = archive.text(e);
    file = e.file;
    against = `rollback ${req.rollback} (commit ${e.number}, ${e.source})`;
  } else if (req.configPath !== undefined) {
    text = readConfigText(req.configPath);
    file = req.configPath;
    against = req.configPath;
  } else {
    throw new Error('diff needs a configuration file or a rollback number');
  }
  const { tree, errors } = readConfigTree(text, file);
  if (errors.length) throw new Error(`cannot compare, the configuration has errors:\n${errors.map((e) => e.toString()).join('\n')}`);
  return { against, lines: diffLines(diffTrees(running.tree, tree)) };
}
