// Firewall filters: the model and constants (filters/model.ts), value names (filters/values.ts),
// tcp-flags expressions (filters/tcp-flags.ts), the schema (filters/schema.ts) and the compiler
// (filters/compile.ts with match.ts, actions.ts, attachments.ts). This module is their public face.
export * from './filters/model.js';
export * from './filters/values.js';
export { parseTcpFlags, tableHas } from './filters/tcp-flags.js';
export { FIREWALL_SCHEMA, POLICY_OPTIONS_SCHEMA } from './filters/schema.js';
export { mergeRanges, prefixContains } from './filters/match.js';
export { compileFirewall } from './filters/compile.js';
