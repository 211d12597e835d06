// The client address of a request, believing X-Forwarded-For only from configured trusted proxies
// (NSLAB_TRUSTED_PROXIES, parsed by admission-config.mjs). Plain JavaScript so scripts/start.mjs
// (the terminal WebSocket it proxies to the agent) and the app (every rate limiter, through
// admission.ts) use the same code; types: client-address.d.mts; tests: admission.test.ts.
import net from 'node:net';

/**
 * An address from a socket or an X-Forwarded-For hop ("1.2.3.4", "1.2.3.4:80", "[::1]:80",
 * "::ffff:1.2.3.4"); null if none.
 * @param {string | null | undefined} raw
 * @returns {string | null}
 */
export function normalizeAddress(raw) {
  if (!raw) return null;
  let a = raw.trim();
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracket) a = bracket[1];
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  a = a.replace(/%.*$/, ''); // zone id
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a)) a = a.slice(7);
  const family = net.isIP(a);
  if (family === 0) return null;
  return family === 6 ? a.toLowerCase() : a;
}

export class TrustedProxies {
  /** @param {ReadonlyArray<{ address: string; prefix: number; family: 4 | 6 }>} cidrs */
  constructor(cidrs) {
    this.list = new net.BlockList();
    for (const c of cidrs) this.list.addSubnet(c.address, c.prefix, c.family === 4 ? 'ipv4' : 'ipv6');
    this.size = cidrs.length;
  }

  /** @param {string} address */
  has(address) {
    if (this.size === 0) return false;
    const family = net.isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * The client's address: the TCP peer, unless the peer is a configured trusted proxy; then
 * X-Forwarded-For is walked from the right (the hop the proxy itself added) past every trusted
 * proxy, and the first address that is not one is the client. Without trusted proxies the header
 * is ignored, so a client cannot choose its own address. "unknown" when there is no peer (the app
 * run without the launcher): everyone then shares one address.
 * @param {string | null | undefined} peer
 * @param {string | null | undefined} forwardedFor
 * @param {TrustedProxies} trusted
 * @returns {string}
 */
export function clientAddress(peer, forwardedFor, trusted) {
  const p = normalizeAddress(peer);
  if (p === null) return 'unknown';
  if (!trusted.has(p)) return p;
  const hops = (forwardedFor ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  let last = p;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i]);
    if (hop === null) return last; // garbage to the left of a trusted hop: trust nothing beyond it
    if (!trusted.has(hop)) return hop;
    last = hop;
  }
  return last;
}
