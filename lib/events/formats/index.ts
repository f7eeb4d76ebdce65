// The formats by name, as the configuration and the CLI choose them.
import { formatBrief } from './brief.js';
import type { FormatContext, Formatter } from './context.js';
import { formatJson } from './json.js';
import { formatRfc3164 } from './rfc3164.js';
import { formatStructured } from './structured.js';

export type { FormatContext, Formatter, NameResolver } from './context.js';

export const EVENT_FORMATS = ['structured', 'brief', 'rfc3164', 'json'] as const;
export type EventFormat = (typeof EVENT_FORMATS)[number];

const FORMATS = { structured: formatStructured, brief: formatBrief, rfc3164: formatRfc3164, json: formatJson } as const;

export function formatter(format: EventFormat, ctx: FormatContext): Formatter {
  const f = FORMATS[format];
  return (ev) => f(ev, ctx);
}
