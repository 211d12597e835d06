import type { Cidr } from './admission-config.mjs';

export declare function normalizeAddress(raw: string | null | undefined): string | null;

export declare class TrustedProxies {
  readonly size: number;
  constructor(cidrs: readonly Cidr[]);
  has(address: string): boolean;
}

export declare function clientAddress(peer: string | null | undefined, forwardedFor: string | null | undefined, trusted: TrustedProxies): string;
