// `xdpfw ha generate keepalived|conntrackd`: the configuration files of the pair's engines,
// from the config's high-availability statements.
import { resolve } from 'node:path';
import { type CompileOptions, loadConfigFile } from '../config/compile.js';
import { packageRoot } from '../util/paths.js';
import { isLinuxInterfaceName } from '../config/values.js';
import { type ConntrackdPaths, DEFAULT_CONNTRACKD_PATHS, conntrackdConf } from './conntrackd.js';
import { keepalivedConf } from './keepalived.js';

export const GENERATED = ['keepalived', 'conntrackd'] as const;

export interface GenerateOptions {
  compile: CompileOptions;
  stateDir: string;
  /** Where conntrackd keeps its lock, socket and log (defaults: the Debian package's). */
  conntrackd?: Partial<ConntrackdPaths>;
}

/** The file's text, or the config's errors (file:line:column) as an Error. */
export function generateHa(what: (typeof GENERATED)[number], configPath: string, o: GenerateOptions): string {
  // The engines' files name interfaces as Linux knows them: the config must compile, interfaces aside.
  const result = loadConfigFile(configPath, { ...o.compile, requireInterfaces: false });
  if (!result.ok) throw new Error(`configuration rejected:\n${result.errors.map((e) => e.toString()).join('\n')}`);
  if (!result.ha) throw new Error(`${configPath} has no high-availability statements: nothing to generate`);
  // keepalived and conntrackd name Linux interfaces.
  const names = [result.ha.peer.interface, ...result.ha.groups.flatMap((g) => g.virtualIps.map((v) => v.interface))];
  const junos = [...new Set(names.filter((n) => !isLinuxInterfaceName(n)))];
  if (junos.length) throw new Error(`${configPath}: high-availability names interfaces that are not Linux names (${junos.join(', ')}): keepalived and conntrackd need the Linux names`);
  if (what === 'conntrackd') return conntrackdConf(result.ha, { ...DEFAULT_CONNTRACKD_PATHS, ...o.conntrackd }, configPath);
  return keepalivedConf(result.ha, { xdpfw: resolve(packageRoot, 'bin', 'xdpfw'), stateDir: resolve(o.stateDir) }, configPath);
}
