import type { Family } from '../config/family.js';

/** An address as written in the config, with its family. */
export interface HaAddress {
  family: Family;
  text: string;
}

/** One gateway address a redundancy group moves: `ip` (with its prefix length) on `interface`. */
export interface VirtualIp {
  id: number;
  family: Family;
  /** `10.1.0.1/24`, `fd00:1::1/64`: as keepalived takes it. */
  prefix: string;
  interface: string;
}

/** `services-redundancy-group N`: what moves together to the active box, and how that box is chosen. */
export interface RedundancyGroup {
  id: number;
  /** 1..254: the box with the higher one is active (VRRP priority). */
  priority: number;
  /** Take the group back when this box has the higher priority (off: the active box keeps it). */
  preemption: boolean;
  virtualIps: VirtualIp[];
}

/** The pair as this box sees it (`high-availability`). */
export interface HaConfig {
  localId: number;
  localIp: HaAddress;
  peer: {
    id: number;
    ip: HaAddress;
    /** The dedicated link: VRRP adverts and session sync run over it. */
    interface: string;
    /** VRRP advert interval (liveness-detection minimum-interval), milliseconds. */
    advertMs: number;
  };
  groups: RedundancyGroup[];
}
