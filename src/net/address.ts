// Which IP addresses a URL handed to us by another system may reach: only public unicast ones. Loopback,
// private, carrier-grade NAT, link-local (cloud metadata services live there), multicast, documentation
// and reserved ranges are refused, in both families; IPv4-mapped and NAT64 IPv6 forms are unwrapped first
// so `::ffff:127.0.0.1` is loopback too.
import net from 'node:net';

const V4_BLOCKED: Array<[string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

const V6_BLOCKED: Array<[string, number]> = [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];

const blocked = (() => {
  const list = new net.BlockList();
  for (const [a, p] of V4_BLOCKED) list.addSubnet(a, p, 'ipv4');
  for (const [a, p] of V6_BLOCKED) list.addSubnet(a, p, 'ipv6');
  return list;
})();

/** 64:ff9b::a.b.c.d (NAT64) and ::ffff:a.b.c.d carry an IPv4 address; returns it, else undefined. */
function embeddedV4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const hi = parseInt(hex[1], 16);
  const lo = parseInt(hex[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True for an IP literal that is public unicast; false for anything else, non-IPs included. */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = net.isIP(bare);
  if (family === 0) return false;
  if (family === 6) {
    const v4 = embeddedV4(bare);
    if (v4 !== undefined) return !blocked.check(v4, 'ipv4');
    return !blocked.check(bare, 'ipv6');
  }
  return !blocked.check(bare, 'ipv4');
}

/** The IP literal a URL hostname names (`[::1]` -> `::1`), or undefined for a DNS name. */
export function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[|\]$/g, '');
  return net.isIP(bare) === 0 ? undefined : bare;
}

/** `localhost`, `*.localhost`, 127.0.0.0/8 and ::1 (also as IPv4-mapped): traffic that never leaves the host. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const v4 = net.isIP(h) === 6 ? embeddedV4(h) : h;
  if (v4 !== undefined && net.isIP(v4) === 4) return v4.startsWith('127.');
  return h === '::1';
}

/** The transport rule for URLs that carry credentials: https, or http to loopback only. */
export function isSecureOrLoopbackUrl(url: string): boolean {
  try {
    const u = new URL(url);
    if (u.protocol === 'https:') return u.hostname !== '';
    return u.protocol === 'http:' && isLoopbackHost(u.hostname);
  } catch {
    return false;
  }
}
