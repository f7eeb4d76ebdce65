import type { Family } from '../family.js';
import { IPPROTO, PROTOCOL_NUMBERS } from '../protocols.js';

/** Names of the numeric values filter conditions take, and the protocols each condition applies to. */


/** ICMP (IPv4) type names of Junos `icmp-type` in family inet. */
export const ICMP_TYPES: ReadonlyMap<string, number> = new Map([
  ['echo-reply', 0],
  ['unreachable', 3],
  ['source-quench', 4],
  ['redirect', 5],
  ['echo-request', 8],
  ['router-advertisement', 9],
  ['router-solicit', 10],
  ['time-exceeded', 11],
  ['parameter-problem', 12],
  ['timestamp', 13],
  ['timestamp-reply', 14],
  ['info-request', 15],
  ['info-reply', 16],
  ['mask-request', 17],
  ['mask-reply', 18],
]);

/** ICMPv6 type names of Junos `icmp-type` in family inet6. */
export const ICMP6_TYPES: ReadonlyMap<string, number> = new Map([
  ['destination-unreachable', 1],
  ['packet-too-big', 2],
  ['time-exceeded', 3],
  ['parameter-problem', 4],
  ['private-experimentation-100', 100],
  ['private-experimentation-101', 101],
  ['echo-request', 128],
  ['echo-reply', 129],
  ['membership-query', 130],
  ['membership-report', 131],
  ['membership-termination', 132],
  ['router-solicit', 133],
  ['router-advertisement', 134],
  ['neighbor-solicit', 135],
  ['neighbor-advertisement', 136],
  ['redirect', 137],
  ['router-renumbering', 138],
  ['node-information-request', 139],
  ['node-information-reply', 140],
  ['inverse-neighbor-discovery-solicitation', 141],
  ['inverse-neighbor-discovery-advertisement', 142],
  ['home-agent-address-discovery-request', 144],
  ['home-agent-address-discovery-reply', 145],
  ['mobile-prefix-solicitation', 146],
  ['mobile-prefix-advertisement-reply', 147],
  ['certificate-path-solicitation', 148],
  ['certificate-path-advertisement', 149],
  ['private-experimentation-200', 200],
  ['private-experimentation-201', 201],
]);

/** ICMP code names of Junos `icmp-code` in family inet (codes of unreachable, redirect, time-exceeded, parameter-problem). */
export const ICMP_CODES: ReadonlyMap<string, number> = new Map([
  ['network-unreachable', 0],
  ['host-unreachable', 1],
  ['protocol-unreachable', 2],
  ['port-unreachable', 3],
  ['fragmentation-needed', 4],
  ['source-route-failed', 5],
  ['destination-network-unknown', 6],
  ['destination-host-unknown', 7],
  ['source-host-isolated', 8],
  ['destination-network-prohibited', 9],
  ['destination-host-prohibited', 10],
  ['network-unreachable-for-tos', 11],
  ['host-unreachable-for-tos', 12],
  ['communication-prohibited-by-filtering', 13],
  ['host-precedence-violation', 14],
  ['precedence-cutoff-in-effect', 15],
  ['redirect-for-network', 0],
  ['redirect-for-host', 1],
  ['redirect-for-tos-and-net', 2],
  ['redirect-for-tos-and-host', 3],
  ['ttl-eq-zero-during-transit', 0],
  ['ttl-eq-zero-during-reassembly', 1],
  ['ip-header-bad', 0],
  ['required-option-missing', 1],
]);

/** ICMPv6 code names of Junos `icmp-code` in family inet6. */
export const ICMP6_CODES: ReadonlyMap<string, number> = new Map([
  ['no-route-to-destination', 0],
  ['administratively-prohibited', 1],
  ['address-unreachable', 3],
  ['port-unreachable', 4],
  ['ttl-eq-zero-during-transit', 0],
  ['ttl-eq-zero-during-reassembly', 1],
  ['ip6-header-bad', 0],
  ['unrecognized-next-header', 1],
  ['unrecognized-option', 2],
]);

/** DSCP names (RFC 2474 class selectors, RFC 2597 assured forwarding, RFC 3246 expedited forwarding). */
export const DSCP_VALUES: ReadonlyMap<string, number> = new Map([
  ['be', 0],
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((c): [string, number] => [`cs${c}`, 8 * c]),
  ...[1, 2, 3, 4].flatMap((c) => [1, 2, 3].map((p): [string, number] => [`af${c}${p}`, 8 * c + 2 * p])),
  ['ef', 46],
]);

/** TCP flag bits of Junos `tcp-flags`. */
export const TCP_FLAG_BITS: ReadonlyMap<string, number> = new Map([
  ['fin', 0x01],
  ['syn', 0x02],
  ['rst', 0x04],
  ['push', 0x08],
  ['ack', 0x10],
  ['urgent', 0x20],
]);
/** Junos's shorthands, as match conditions of their own and as words of a tcp-flags expression. */
export const TCP_INITIAL = 'syn & !ack';
export const TCP_ESTABLISHED = 'ack | rst';
export const TCP_FLAG_SHORTHANDS: ReadonlyMap<string, string> = new Map([
  ['tcp-initial', TCP_INITIAL],
  ['tcp-established', TCP_ESTABLISHED],
]);

export const PROTOCOLS: Readonly<Record<Family, ReadonlyMap<string, number>>> = {
  inet: new Map([...PROTOCOL_NUMBERS].filter(([n]) => n !== 'icmp6')),
  inet6: new Map([...[...PROTOCOL_NUMBERS].filter(([n]) => n !== 'icmp'), ['icmpv6', IPPROTO.ICMPV6]]),
};

/** The ICMP protocol an `icmp-type` of each family matches. */
export const FAMILY_ICMP: Readonly<Record<Family, number>> = { inet: IPPROTO.ICMP, inet6: IPPROTO.ICMPV6 };
/** Protocols whose ports the port conditions match. */
export const PORT_PROTOCOLS: readonly number[] = [IPPROTO.TCP, IPPROTO.UDP, IPPROTO.SCTP];
