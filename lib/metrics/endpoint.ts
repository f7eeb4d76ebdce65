// The /metrics HTTP endpoint as the configuration places it: started on the
// configured address, moved on a reload. A reload whose address cannot be
// bound keeps the endpoint that works and says why, rather than leave the
// firewall unobserved.
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { MetricsSettings } from '../config/types.js';
import { serveMetrics } from './metrics.js';

export interface MetricsEndpointState {
  /** host:port served now; null: none (disabled). */
  listening: string | null;
  /** Why the configured endpoint is not the one served, after a reload. */
  error?: string;
}

function hostPort(s: { address: string; port: number }): string {
  return s.address.includes(':') ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`;
}

export class MetricsService {
  private server: Server | null = null;
  private at: MetricsSettings | null = null;

  constructor(private readonly registry: Registry) {}

  /** Serves on `settings`; throws (serving nothing new) when the address cannot be bound. */
  async start(settings: MetricsSettings): Promise<void> {
    await this.apply(settings, true);
  }

  /** Moves the endpoint to `settings`; on failure the previous endpoint stays and the state says why. */
  async reload(settings: MetricsSettings): Promise<MetricsEndpointState> {
    try {
      await this.apply(settings, false);
      return { listening: this.listening() };
    } catch (err) {
      const error = (err as Error).message;
      process.stderr.write(`xdpfw: ${error}; metrics stay on ${this.listening() ?? 'nothing (disabled)'}\n`);
      return { listening: this.listening(), error };
    }
  }

  listening(): string | null {
    return this.at?.enabled ? hostPort(this.at) : null;
  }

  close(): void {
    this.server?.close();
    this.server = null;
  }

  private async apply(settings: MetricsSettings, first: boolean): Promise<void> {
    const same = this.at && this.at.enabled === settings.enabled && this.at.address === settings.address && this.at.port === settings.port;
    if (same && !first) return;
    if (!settings.enabled) {
      this.close();
      this.at = settings;
      return;
    }
    // Bind the new one first: the old one serves until the new one works. Re-binding the very
    // same port is impossible while the old one holds it, but then nothing moves.
    const fail = (err: Error) => new Error(`metrics: cannot listen on ${hostPort(settings)}: ${err.message}`);
    let next: Server;
    try {
      next = await serveMetrics(this.registry, settings);
    } catch (err) {
      const old = this.at;
      if (!this.server || !old?.enabled || old.port !== settings.port) throw fail(err as Error);
      // The same port on another address: the old socket may be what is in the way.
      this.close();
      try {
        next = await serveMetrics(this.registry, settings);
      } catch (again) {
        this.server = await serveMetrics(this.registry, old).catch(() => null);
        if (!this.server) this.at = { ...old, enabled: false };
        throw fail(again as Error);
      }
    }
    this.close();
    this.server = next;
    this.at = settings;
  }
}
