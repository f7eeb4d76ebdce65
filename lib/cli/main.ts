// The xdpfw command line.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DaemonNotRunning, monitor, request } from '../control/client.js';
import { EVENT_KINDS, type EventKind } from '../events/types.js';
import type { ControlRequest } from '../control/protocol.js';
import { DEFAULT_NODE, loadConfigFile, type CompileOptions } from '../config/compile.js';
import { ConfigRejected, Daemon } from '../daemon/daemon.js';
import type { CountersReport, ReloadReport, StatusReport } from '../daemon/reports.js';
import type { MatchResult, PoliciesReport } from '../daemon/policies-report.js';
import { identifyDaemon, processHoldsPid, processStartTime } from '../daemon/pid-file.js';
import { DEFAULT_STATE_DIR, type StatePaths, linkPinIfname, statePaths } from '../daemon/state-paths.js';
import { persistentBpffs } from '../dataplane/bpffs.js';
import { purgePins } from '../dataplane/dataplane.js';
import { removeUnitDevices } from '../interfaces/unit-devices.js';
import { formatWarning } from '../dataplane/link-checks.js';
import { type ScreenStatsReport, formatScreenStats } from '../screens/stats.js';
import { type FirewallReport, formatFirewall } from '../filter/report.js';
import { packageRoot } from '../util/paths.js';
import { serviceStatusLine } from '../service/daemon-status.js';
import { ServiceNotifier } from '../service/sd-notify.js';
import { DEFAULT_SERVICE_CONFIG, DEFAULT_UNIT_DIR, installService } from '../service/unit.js';
import { checkConfigPath } from '../config/read-file.js';
import { requireDataplanePrivileges } from './privileges.js';
import { type EventJson, formatEventLine } from './format-events.js';
import { formatCounters, formatMatch, formatPolicies, formatReload, formatStatus } from './format.js';
import { clearSessionsCli, refuseSessionFlags, showSessionsCli, withFlowFilters, withSessionListing } from './sessions-command.js';
import { formatCommitList, formatCommitted, formatDiff } from '../commit/format.js';
import type { CommitListEntry } from '../commit/commits.js';
import { CommitArchive } from '../commit/archive.js';
import type { DiffReport } from '../commit/daemon-diff.js';
import { monitorPacketDrop, withDropFilters } from '../monitor/cli.js';
import { formatTrace, tracePacket, withTraceFlags } from '../trace/cli.js';
import type { TraceReport } from '../trace/trace.js';
import type { DnsReport } from '../dns-names/addresses.js';
import { formatDnsReport } from '../dns-names/format.js';
import { formatNeighborProxies, type NeighborProxyReport } from '../nat/proxy-report.js';
import { GENERATED, generateHa } from '../ha/cli.js';
import { HA_ROLES } from '../ha/keepalived.js';
import { type HaStatus, formatHa, processStartTicks } from '../ha/roles.js';

const LOAD_TIMEOUT_MS = 60_000;
const UNLOAD_TIMEOUT_MS = 30_000;

type DaemonMessage = { ready: true; status: StatusReport } | { ready: false; error: string };

class CliError extends Error {}

async function runForeground(config: string, stateDir: string, xdpMode: 'auto' | 'native' | 'generic', compileOptions: CompileOptions, interfaceMap?: string, dnsMinTtl?: number, conntrackdConfig?: string): Promise<void> {
  // Under systemd (Type=notify): READY=1 at the point `load` reports ready, then watchdog pings.
  const service = ServiceNotifier.fromEnvironment();
  service.status('loading the dataplane');
  let daemon: Daemon;
  try {
    requireDataplanePrivileges('run');
    daemon = await Daemon.start({
      configPath: resolve(config), stateDir, xdpMode, compileOptions, interfaceMap: interfaceMap === undefined ? null : resolve(interfaceMap), dnsMinTtl,
      conntrackdConfig: conntrackdConfig === undefined ? null : resolve(conntrackdConfig),
    });
  } catch (err) {
    const message = err instanceof ConfigRejected ? `configuration rejected:\n${err.message}` : (err as Error).message;
    service.status(`start failed: ${message}`);
    if (process.send) process.send({ ready: false, error: message } satisfies DaemonMessage);
    throw new CliError(message);
  }
  // Killed by a signal, the daemon leaves XDP attached and its pins in place:
  // established flows keep forwarding and the next start takes over.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      service.stopping(`stopping on ${sig}: XDP stays attached, the next start adopts it`);
      void daemon.stop({ purge: false });
    });
  }
  process.stdout.write(`xdpfw: pins in ${daemon.paths.pinName} on the host's bpffs, reached at ${persistentBpffs().via}\n`);
  const statusLine = () => serviceStatusLine(daemon.status());
  service.ready(statusLine());
  service.startWatchdog(statusLine);
  daemon.reloadHooks = {
    begin: (configPath) => service.reloading(`reloading ${configPath}`),
    end: () => service.ready(statusLine()),
  };
  if (process.send) {
    process.send({ ready: true, status: daemon.status() } satisfies DaemonMessage);
    process.disconnect();
  } else {
    process.stdout.write(`xdpfw: running on ${daemon.status().interfaces.map((i) => `${i.name} (${i.xdpMode})`).join(', ')}\n`);
  }
  await daemon.stopped;
  service.stopping('stopped');
}

/** Starts `xdpfw run` detached and returns once it reports the dataplane ready. */
async function load(config: string, stateDir: string, xdpMode: string, compileOptions: CompileOptions, interfaceMap?: string, dnsMinTtl?: number, conntrackdConfig?: string): Promise<void> {
  requireDataplanePrivileges('load');
  checkConfigPath(resolve(config)); // a FIFO or device would only be refused by the daemon
  const paths = statePaths(stateDir);
  mkdirSync(paths.stateDir, { recursive: true, mode: 0o750 });
  const log = openSync(paths.logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      resolve(packageRoot, 'bin', 'xdpfw'), 'run', '-c', resolve(config), '--state-dir', paths.stateDir, '--xdp-mode', xdpMode,
      '--node', compileOptions.node ?? DEFAULT_NODE, ...(compileOptions.ignoreUnsupported ? ['--ignore-unsupported'] : []),
      ...(interfaceMap === undefined ? [] : ['--interface-map', resolve(interfaceMap)]),
      ...(dnsMinTtl === undefined ? [] : ['--dns-min-ttl', String(dnsMinTtl)]),
      ...(conntrackdConfig === undefined ? [] : ['--conntrackd-config', resolve(conntrackdConfig)]),
    ],
    { detached: true, stdio: ['ignore', log, log, 'ipc'] },
  );
  const outcome = await new Promise<DaemonMessage>((done) => {
    const timer = setTimeout(() => done({ ready: false, error: `daemon not ready after ${LOAD_TIMEOUT_MS / 1000} s` }), LOAD_TIMEOUT_MS);
    child.once('message', (m: DaemonMessage) => { clearTimeout(timer); done(m); });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      done({ ready: false, error: `daemon exited (${signal ?? `code ${code}`}) before it was ready; see ${paths.logFile}` });
    });
  });
  if (!outcome.ready) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw new CliError(outcome.error);
  }
  child.unref();
  child.disconnect?.();
  const ifaces = outcome.status.interfaces.map((i) => `${i.name} (ifindex ${i.ifindex}, ${i.xdpMode})`).join(', ');
  process.stdout.write(`xdpfw: loaded, pid ${outcome.status.pid}, on ${ifaces}\n`);
  for (const w of outcome.status.warnings) process.stderr.write(`xdpfw: ${formatWarning(w)}\n`);
}

/** Waits until a process has exited and been reaped; false after the timeout. */
async function exited(proc: { pid: number; startTime: string }, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (processHoldsPid(proc.pid, proc.startTime)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * Stops this state directory's daemon and removes its pins. Only a process
 * verified to be that daemon is ever signalled; with no daemon and no pins
 * there is nothing to unload, and it says so (exit 1).
 */
async function unload(stateDir: string): Promise<void> {
  const paths = statePaths(stateDir);
  const daemon = identifyDaemon(paths);
  let stopped = false;
  try {
    await request(paths.socket, { command: 'unload' });
    stopped = true;
    if (daemon.kind === 'ours' && !(await exited(daemon, UNLOAD_TIMEOUT_MS))) {
      throw new CliError(`daemon pid ${daemon.pid} did not exit within ${UNLOAD_TIMEOUT_MS / 1000} s`);
    }
  } catch (err) {
    if (!(err instanceof DaemonNotRunning)) throw err;
    // Its control socket is gone but the daemon lives on: stop it, then remove what it left behind ourselves.
    if (daemon.kind === 'ours') {
      process.kill(daemon.pid, 'SIGKILL');
      stopped = await exited(daemon, UNLOAD_TIMEOUT_MS);
    }
  }
  if (daemon.kind === 'foreign' && daemon.pid !== null && processStartTime(daemon.pid) !== undefined) {
    process.stderr.write(`xdpfw: ${paths.pidFile} names pid ${daemon.pid}, left alone: ${daemon.why}\n`);
  }
  const hadPins = existsSync(paths.pinDir);
  const { links } = purgePins(paths);
  const units = removeUnitDevices(paths.stateDir);
  for (const f of [paths.pidFile, paths.socket, paths.runtimeFile, paths.identitiesFile]) rmSync(f, { force: true });
  new CommitArchive(paths.commitDir).clearPending(); // the archive stays; an unconfirmed commit's deadline does not
  if (!stopped && !hadPins) throw new CliError(`nothing loaded for state directory ${paths.stateDir}: no daemon runs and nothing is pinned`);
  process.stdout.write(`xdpfw: unloaded${links.length ? ` (detached leftover links: ${links.join(', ')})` : ''}` +
    `${units.length ? ` (removed leftover unit devices: ${units.join(', ')})` : ''}\n`);
}

async function show<T>(stateDir: string, req: ControlRequest, json: boolean, human: (data: T) => string): Promise<void> {
  const paths = statePaths(stateDir);
  const data = await request<T>(paths.socket, req).catch((err: Error) => {
    throw err instanceof DaemonNotRunning ? new CliError(`${err.message}${stillAttached(paths)}`) : err;
  });
  process.stdout.write(`${json ? JSON.stringify(data, null, 2) : human(data)}\n`);
}

/** A command's promise, with the no-daemon error in the operator's words (as show() gives it). */
function explainNoDaemon(stateDir: string, work: Promise<void>): Promise<void> {
  return work.catch((err: Error) => {
    throw err instanceof DaemonNotRunning ? new CliError(`${err.message}${stillAttached(statePaths(stateDir))}`) : err;
  });
}

/** With no daemon, what its pins still hold: the dataplane stays attached and closed. */
function stillAttached(paths: StatePaths): string {
  let links: string[];
  try {
    links = readdirSync(paths.linkPinDir).map(linkPinIfname);
  } catch {
    return ''; // nothing pinned (or no host bpffs to look in)
  }
  if (links.length === 0) return '';
  return `; XDP stays attached to ${links.join(', ')} (pinned under ${paths.pinName}): established sessions forward, ` +
    "new flows are dropped until 'xdpfw load' starts the daemon again";
}

/**
 * Validates a file without touching the running daemon: exit 0, or every error as
 * file:line:column: message. What would not be applied is listed either way, one line each.
 */
function check(path: string, options: CompileOptions, interfaceMap?: string): void {
  // Without an interface map, Junos interface names are checked as names only (warned of).
  const result = loadConfigFile(path, { ...options, requireInterfaces: interfaceMap !== undefined }, interfaceMap ?? null);
  for (const w of result.warnings) process.stderr.write(`${w.toString()}\n`);
  if (!result.ok) throw new CliError(`configuration rejected:\n${result.errors.map((e) => e.toString()).join('\n')}`);
  process.stdout.write(`configuration check succeeds: ${path}\n`);
}

/** Writes the systemd unit for this installation and says what to do next. */
function installServiceCommand(unitDir: string, config: string, stateDir: string): void {
  // The unit's RuntimeDirectory= is /run/xdpfw; another state directory would need other sandbox paths.
  if (resolve(stateDir) !== DEFAULT_STATE_DIR) throw new CliError(`install-service: the unit uses the state directory ${DEFAULT_STATE_DIR}, not ${stateDir}`);
  let installed: ReturnType<typeof installService>;
  try {
    installed = installService(unitDir, config);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new CliError(`install-service: cannot write to ${unitDir} (${code}): run it as root, or name another --unit-dir`);
    }
    throw err;
  }
  const { path, target, replaced } = installed;
  const notes = [
    `xdpfw: ${replaced ? 'replaced' : 'wrote'} ${path}`,
    `  runs ${target.node} ${target.xdpfw} run -c ${target.config}`,
    existsSync(target.config) ? '' : `  ${target.config} does not exist yet: write it (xdpfw check -c ${target.config}) before starting`,
    'next:',
    '  systemctl daemon-reload',
    '  systemctl enable --now xdpfw      # started at boot, restarted when it dies',
    '  systemctl status xdpfw            # interfaces and sessions; systemctl reload xdpfw applies an edited config',
  ];
  process.stdout.write(`${notes.filter((l) => l !== '').join('\n')}\n`);
}

const withKinds = <T>(y: Argv<T>) =>
  y.option('kind', { type: 'array', string: true, choices: [...EVENT_KINDS], describe: 'only these event kinds' });

const withJson = <T>(y: Argv<T>) => y.option('json', { type: 'boolean', default: false, describe: 'print JSON' });
const withIgnoreUnsupported = <T>(y: Argv<T>) =>
  y.option('ignore-unsupported', {
    type: 'boolean', default: false,
    describe: 'load without the Junos statements xdpfw does not implement that change what passes (NAT, IPsec, UTM, ...); they are listed in status',
  });
const withReading = <T>(y: Argv<T>) =>
  withIgnoreUnsupported(y).option('node', { type: 'string', default: DEFAULT_NODE, describe: 'chassis cluster node whose "${node}" group applies' });
const compileOptionsOf = (a: { 'ignore-unsupported': boolean; node: string }): CompileOptions => ({ ignoreUnsupported: a['ignore-unsupported'], node: a.node });
const withConfig = <T>(y: Argv<T>) =>
  withReading(y.option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'configuration file' })
    .option('xdp-mode', { choices: ['auto', 'native', 'generic'] as const, default: 'auto' as const, describe: 'XDP attach mode (auto: native, else generic)' }));
const withDaemonOptions = <T>(y: Argv<T>) =>
  y.option('dns-min-ttl', { type: 'number', describe: 'shortest time in seconds a dns-name answer is kept before it is asked again (default 10)' })
    .option('conntrackd-config', { type: 'string', describe: 'conntrackd.conf of this box (high availability): its external cache is committed when keepalived makes the box active, before the sessions are adopted' })
    .check((a) => {
      const v = a['dns-min-ttl'];
      if (v !== undefined && !(Number.isFinite(v) && v >= 1 && v <= 86_400)) throw new CliError('--dns-min-ttl: give seconds from 1 to 86400');
      return true;
    });
const withInterfaceMap = <T>(y: Argv<T>) =>
  y.option('interface-map', {
    type: 'string',
    describe: "file mapping the config's Junos interface names to Linux interfaces, one '<junos-name> <linux-name>' a line " +
      '(ge-0/0/0 eth0; a trunk unit ge-0/0/1.100 gets a device of its own, <trunk>.100 or the name the map gives it); without it names are Linux names',
  });

export async function main(argv: string[]): Promise<void> {
  await yargs(hideBin(argv))
    .scriptName('xdpfw')
    .option('state-dir', { type: 'string', default: DEFAULT_STATE_DIR, describe: 'pins, control socket and log', global: true })
    .command('load', 'attach to the configured interfaces and start the daemon', (y) => withDaemonOptions(withInterfaceMap(withConfig(y))),
      (a) => load(a.config, a['state-dir'], a['xdp-mode'], compileOptionsOf(a), a['interface-map'], a['dns-min-ttl'], a['conntrackd-config']))
    .command('run', 'run the daemon in the foreground', (y) => withDaemonOptions(withInterfaceMap(withConfig(y))),
      (a) => runForeground(a.config, a['state-dir'], a['xdp-mode'], compileOptionsOf(a), a['interface-map'], a['dns-min-ttl'], a['conntrackd-config']))
    .command('unload', 'detach, remove pins and stop the daemon', (y) => y, (a) => unload(a['state-dir']))
    .command('install-service', 'install the systemd unit (Type=notify, watchdog, restart) for this installation', (y) => y
      .option('config', { alias: 'c', type: 'string', default: DEFAULT_SERVICE_CONFIG, describe: 'configuration file the service runs' })
      .option('unit-dir', { type: 'string', default: DEFAULT_UNIT_DIR, describe: 'where to write xdpfw.service' }),
      (a) => installServiceCommand(a['unit-dir'], a.config, a['state-dir']))
    .command('check', 'validate a configuration file', (y) => withInterfaceMap(withReading(y.option('config', { alias: 'c', type: 'string', demandOption: true }))),
      (a) => check(a.config, compileOptionsOf(a), a['interface-map']))
    .command('reload', 'apply a new configuration; sessions survive if still permitted (the interface map stays unless given)', (y) =>
      withInterfaceMap(withJson(withIgnoreUnsupported(y.option('config', { alias: 'c', type: 'string', demandOption: true })
        .option('confirm', { type: 'number', describe: "roll back by itself after MINUTES unless 'xdpfw confirm' comes (Junos commit confirmed); fractions allowed (0.05 = 3 s)" })))),
      (a) => show<ReloadReport>(a['state-dir'], {
        command: 'reload', configPath: resolve(a.config), unsupported: a['ignore-unsupported'] ? 'ignore' : 'refuse',
        ...(a['interface-map'] === undefined ? {} : { interfaceMap: resolve(a['interface-map']) }),
        confirmMinutes: a.confirm,
      }, a.json, (r) => formatCommitted(formatReload(r), r)))
    .command('confirm', 'keep the configuration applied with reload --confirm (stops the automatic rollback)', (y) => withJson(y),
      (a) => show<{ confirmed: number }>(a['state-dir'], { command: 'confirm' }, a.json, (d) => `commit ${d.confirmed} confirmed`))
    .command('rollback [n]', 'apply the Nth previous configuration again (0: the running one, 1: the one before, ...); --list shows them', (y) =>
      withJson(y.positional('n', { type: 'number', default: 1, describe: 'how many commits back' })
        .option('list', { type: 'boolean', default: false, describe: 'list the archived configurations instead' })),
      (a) => a.list
        ? show<CommitListEntry[]>(a['state-dir'], { command: 'show-rollback' }, a.json, formatCommitList)
        : show<ReloadReport>(a['state-dir'], { command: 'rollback', index: a.n }, a.json, (r) => formatCommitted(formatReload(r), r)))
    .command('diff', 'what a configuration would change against the running one, as set/delete lines (Junos show | compare)', (y) =>
      withJson(y.option('config', { alias: 'c', type: 'string', describe: 'configuration file to compare' })
        .option('rollback', { type: 'number', describe: 'compare an archived configuration instead (rollback number)' })
        .check((a) => {
          if ((a.config === undefined) === (a.rollback === undefined)) throw new CliError('diff: give either --config FILE or --rollback N');
          return true;
        })),
      (a) => show<DiffReport>(a['state-dir'], { command: 'diff', configPath: a.config === undefined ? undefined : resolve(a.config), rollback: a.rollback },
        a.json, formatDiff))
    .command('status', 'daemon, interfaces and queues', (y) => withJson(y),
      (a) => show<StatusReport>(a['state-dir'], { command: 'status' }, a.json, formatStatus))
    .command('ha <action> [what]', 'high availability: generate keepalived|conntrackd (their configuration files from the config\'s high-availability, on stdout); role active|backup|fault|stopped (run by keepalived\'s notify hooks: tells the daemon its role)', (y) =>
      withReading(y.positional('action', { choices: ['generate', 'role'] as const, demandOption: true })
        .positional('what', { type: 'string', describe: `generate: ${GENERATED.join('|')}; role: ${HA_ROLES.join('|')}` })
        .option('config', { alias: 'c', type: 'string', describe: 'generate: configuration file' })
        .option('group', { type: 'number', describe: 'role: the services redundancy group' })
        .option('conntrackd-dir', { type: 'string', describe: 'generate conntrackd: directory of its lock file, control socket and log (default: the Debian paths)' })),
      (a) => {
        if (a.action === 'generate') {
          if (!GENERATED.includes(a.what as (typeof GENERATED)[number])) throw new CliError(`ha generate: say which: ${GENERATED.join(' or ')}`);
          if (a.config === undefined) throw new CliError('ha generate: give the configuration file (-c)');
          const dir = a['conntrackd-dir'] === undefined ? undefined : resolve(a['conntrackd-dir']);
          try {
            process.stdout.write(generateHa(a.what as (typeof GENERATED)[number], a.config, {
              compile: compileOptionsOf(a), stateDir: a['state-dir'],
              ...(dir && { conntrackd: { lockFile: `${dir}/conntrackd.lock`, socket: `${dir}/conntrackd.ctl`, logFile: `${dir}/conntrackd.log` } }),
            }));
          } catch (e) { throw new CliError((e as Error).message); }
          return;
        }
        const role = HA_ROLES.find((r) => r === a.what);
        if (!role) throw new CliError(`ha role: one of ${HA_ROLES.join(', ')}`);
        if (a.group === undefined || !Number.isInteger(a.group)) throw new CliError('ha role: give the services redundancy group (--group N)');
        return show<{ group: number; role: string; previous: string | null; applied: boolean }>(a['state-dir'],
          { command: 'ha-role', group: a.group, role, startedTicks: processStartTicks() }, false,
          (r) => r.applied ? `services-redundancy-group ${r.group}: ${r.role}${r.previous ? ` (was ${r.previous})` : ''}`
            : `services-redundancy-group ${r.group}: stays ${r.role} (a later report came first)`);
      })
    .command('show <what> [detail]', 'show sessions, counters, policies, config, log (recent events), screen statistics, firewall (filter counters), rollback (archived configurations), address-book (dns-name addresses as resolved), nat proxy-arp | proxy-ndp (addresses answered for) or ha (the pair: roles keepalived reported)', (y) =>
      withJson(withKinds(withSessionListing(withFlowFilters(y)).positional('what', { choices: ['sessions', 'counters', 'policies', 'config', 'log', 'screen', 'firewall', 'rollback', 'address-book', 'nat', 'ha'] as const, demandOption: true })
        .positional('detail', { choices: ['statistics', 'proxy-arp', 'proxy-ndp'] as const })
        .option('zone', { type: 'string', describe: 'screen statistics of one zone' })
        .option('filter', { type: 'string', describe: 'firewall: one filter' })
        .option('set', { type: 'boolean', default: false, describe: 'config as set lines' }))),
      (a) => {
        const dir = a['state-dir'];
        if (a.what !== 'sessions') refuseSessionFlags(a.what, a, a);
        switch (a.what) {
          case 'sessions': return explainNoDaemon(dir, showSessionsCli(statePaths(dir).socket, a, a));
          case 'counters': return show<CountersReport>(dir, { command: 'show-counters' }, a.json, formatCounters);
          case 'policies': return show<PoliciesReport>(dir, { command: 'show-policies' }, a.json, formatPolicies);
          case 'address-book': return show<DnsReport>(dir, { command: 'show-address-book' }, a.json, formatDnsReport);
          case 'ha': return show<HaStatus>(dir, { command: 'show-ha' }, a.json, formatHa);
          case 'nat': {
            const kind = a.detail === 'proxy-arp' || a.detail === 'proxy-ndp' ? a.detail : undefined;
            if (a.detail !== undefined && kind === undefined) throw new Error(`show nat ${a.detail}: one of proxy-arp, proxy-ndp`);
            return show<NeighborProxyReport>(dir, { command: 'show-nat-proxies', ...(kind ? { kind } : {}) }, a.json, formatNeighborProxies);
          }
          case 'config': return show<{ text: string }>(dir, { command: 'show-config', format: a.set ? 'set' : 'hierarchical' }, a.json, (d) => d.text.trimEnd());
          case 'firewall': return show<FirewallReport>(dir, { command: 'show-firewall', filter: a.filter }, a.json, formatFirewall);
          case 'screen': return show<ScreenStatsReport>(dir, { command: 'show-screen-statistics', zone: a.zone }, a.json, formatScreenStats);
          case 'rollback': return show<CommitListEntry[]>(dir, { command: 'show-rollback' }, a.json, formatCommitList);
          case 'log': return show<EventJson[]>(dir, { command: 'show-log', kinds: a.kind as EventKind[] }, a.json,
            (evs) => evs.map(formatEventLine).join('\n') || 'No events.');
        }
      })
    .command('match-policies', 'which policy decides a flow (like Junos show security match-policies)', (y) => withJson(y
      .option('from-zone', { type: 'string', demandOption: true })
      .option('to-zone', { type: 'string', demandOption: true })
      .option('source-ip', { type: 'string', demandOption: true })
      .option('destination-ip', { type: 'string', demandOption: true })
      .option('protocol', { type: 'string', demandOption: true })
      .option('source-port', { type: 'number' })
      .option('destination-port', { type: 'number' })),
      (a) => show<MatchResult>(a['state-dir'], {
        command: 'match-policies',
        query: {
          fromZone: a['from-zone'], toZone: a['to-zone'], sourceIp: a['source-ip'], destinationIp: a['destination-ip'],
          protocol: a.protocol, sourcePort: a['source-port'], destinationPort: a['destination-port'],
        },
      }, a.json, formatMatch))
    .command('trace', 'judge a described packet with the running XDP programs and slow path, stage by stage; nothing is counted or kept', (y) =>
      withJson(withTraceFlags(y)),
      (a) => show<TraceReport>(a['state-dir'], { command: 'trace', packet: tracePacket(a) }, a.json, formatTrace))
    .command('monitor <what>', 'follow security events, or every dropped packet (packet-drop, like Junos monitor security packet-drop), as they happen', (y) =>
      withDropFilters(withJson(withKinds(y.positional('what', { choices: ['events', 'packet-drop'] as const, demandOption: true })))),
      (a) => a.what === 'packet-drop'
        ? monitorPacketDrop(statePaths(a['state-dir']).socket, a)
        : monitor(statePaths(a['state-dir']).socket, { command: 'monitor-events', kinds: a.kind as EventKind[] }, (line) =>
          process.stdout.write(`${a.json ? line : formatEventLine(JSON.parse(line) as EventJson)}\n`)))
    .command('clear <what>', 'clear sessions: all, or those the filters match (closed with reason cleared)', (y) =>
      withJson(withFlowFilters(y).positional('what', { choices: ['sessions'] as const, demandOption: true })),
      (a) => explainNoDaemon(a['state-dir'], clearSessionsCli(statePaths(a['state-dir']).socket, a, a.json)))
    .demandCommand(1)
    .strict()
    .fail((msg, err) => {
      if (err) throw err; // our own errors: printed once by main's catch, without the usage text
      process.stderr.write(`xdpfw: ${msg}\nTry 'xdpfw --help'.\n`);
      process.exit(2);
    })
    .parseAsync();
}

main(process.argv).catch((err: Error) => {
  process.stderr.write(`xdpfw: ${err.message}\n`);
  process.exit(1);
});
