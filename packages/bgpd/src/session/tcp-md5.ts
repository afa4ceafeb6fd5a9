// Socket options Node's net module cannot set: TCP MD5 signatures (RFC 2385) and the GTSM TTL
// checks (RFC 5082). A tiny FFI bridge (koffi, shipped prebuilt) calls libc's socket() and
// setsockopt() on the file descriptors behind Node sockets. Linux only.
//
// Outgoing connections need the MD5 key before the SYN, but Node creates a socket's descriptor
// only inside connect(). So we create the descriptor ourselves, set the options, hand it to
// net.Socket unconnected and let Node's own connect() (non-blocking, on the event loop) use it.

import { createRequire } from 'node:module';
import { Socket, isIPv4, isIPv6, type Server } from 'node:net';
import { constants as osConstants } from 'node:os';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_IP = 0;
const IPPROTO_TCP = 6;
const IPPROTO_IPV6 = 41;
const TCP_MD5SIG = 14;
const TCP_SAVE_SYN = 27;
const TCP_SAVED_SYN = 28;
const IP_TTL = 2;
const IP_MINTTL = 21;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MINHOPCOUNT = 73;

/** struct tcp_md5sig: sockaddr_storage (128), u8 flags, u8 prefixlen, u16 keylen, u32 ifindex, u8 key[80]. */
const MD5SIG_SIZE = 216;
export const TCP_MD5_MAXKEYLEN = 80;

/** A socket option could not be set (the message says which, for which peer, and why). */
export class SockoptError extends Error {
  override name = 'SockoptError';
  constructor(message: string, readonly errno: number, readonly code: string) {
    super(message);
  }
}

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, len: number[]): number;
  close(fd: number): number;
  errno(): number;
}

let libc: Libc | undefined;
let loadError: Error | undefined;

function bridge(): Libc {
  if (libc) return libc;
  if (loadError) throw loadError;
  try {
    if (process.platform !== 'linux') throw new Error(`TCP MD5 and GTSM need Linux (this is ${process.platform})`);
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    const socket = lib.func('int socket(int, int, int)');
    const setsockopt = lib.func('int setsockopt(int, int, int, const void *, uint32_t)');
    const getsockopt = lib.func('int getsockopt(int, int, int, _Out_ void *, _Inout_ uint32_t *)');
    const close = lib.func('int close(int)');
    libc = {
      socket: (d, t, p) => socket(d, t, p) as number,
      setsockopt: (fd, level, name, value, len) => setsockopt(fd, level, name, value, len) as number,
      getsockopt: (fd, level, name, value, len) => getsockopt(fd, level, name, value, len) as number,
      close: (fd) => close(fd) as number,
      errno: () => koffi.errno(),
    };
    return libc;
  } catch (e) {
    loadError = new Error(`cannot load the socket options bridge (koffi): ${(e as Error).message}`);
    throw loadError;
  }
}

const errnoName = (n: number): string => Object.entries(osConstants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;

/** The descriptor of a Node TCP socket or server (Linux: exposed on the libuv handle). */
export function socketFd(s: Socket | Server): number {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the socket has no file descriptor (not open yet, or not a TCP socket)');
  return fd;
}

/** A sockaddr for `address` in a socket of `family` (IPv4 peers on an IPv6 socket are v4-mapped). */
function sockaddr(buf: Buffer, address: string, family: 4 | 6): void {
  if (family === 4) {
    if (!isIPv4(address)) throw new Error(`${address} cannot be keyed on an IPv4 socket`);
    buf.writeUInt16LE(AF_INET, 0);
    address.split('.').forEach((o, i) => buf.writeUInt8(Number(o), 4 + i));
    return;
  }
  buf.writeUInt16LE(AF_INET6, 0);
  ipv6Bytes(isIPv4(address) ? `::ffff:${address}` : address).copy(buf, 8);
}

/** The 16 bytes of an IPv6 address (any RFC 4291 text form, including a trailing dotted quad). */
export function ipv6Bytes(address: string): Buffer {
  if (!isIPv6(address)) throw new Error(`${address} is not an IPv6 address`);
  let a = address.replace(/%.*$/, '');
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (quad) {
    const o = quad[1]!.split('.').map(Number);
    a = a.slice(0, -quad[1]!.length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = a.includes('::') ? a.split('::') as [string, string] : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** The struct tcp_md5sig that sets (or, with an empty key, removes) the key for `address`. */
export function md5sigStruct(address: string, family: 4 | 6, key: string): Buffer {
  const k = Buffer.from(key, 'utf8');
  if (k.length > TCP_MD5_MAXKEYLEN) throw new Error(`TCP MD5 keys are at most ${TCP_MD5_MAXKEYLEN} bytes (this one has ${k.length})`);
  const buf = Buffer.alloc(MD5SIG_SIZE);
  sockaddr(buf, address, family);
  buf.writeUInt16LE(k.length, 130);
  k.copy(buf, 136);
  return buf;
}

function setopt(fd: number, level: number, name: number, value: Buffer, what: string): void {
  const c = bridge();
  if (c.setsockopt(fd, level, name, value, value.length) === 0) return;
  const errno = c.errno();
  const code = errnoName(errno);
  throw new SockoptError(`${what}: ${code}`, errno, code);
}

const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n, 0);
  return b;
};

/**
 * Sets (or with `key` empty/undefined removes) the TCP MD5 key for `peer` on a socket of
 * `family`. Removing a key that is not there is not an error.
 */
export function setMd5Key(fd: number, family: 4 | 6, peer: string, key: string | undefined): void {
  try {
    setopt(fd, IPPROTO_TCP, TCP_MD5SIG, md5sigStruct(peer, family, key ?? ''), `TCP MD5 key for peer ${peer}`);
  } catch (e) {
    if (!(e instanceof SockoptError)) throw e;
    if (!key && e.code === 'ENOENT') return; // no key to remove
    if (e.code === 'ENOPROTOOPT' || (key && e.code === 'ENOENT')) {
      throw new SockoptError(`cannot set the TCP MD5 password for peer ${peer}: this kernel has no TCP MD5 support (CONFIG_TCP_MD5SIG; setsockopt TCP_MD5SIG failed with ${e.code})`, e.errno, e.code);
    }
    throw new SockoptError(`cannot ${key ? 'set' : 'remove'} the TCP MD5 password for peer ${peer}: setsockopt TCP_MD5SIG failed with ${e.code}`, e.errno, e.code);
  }
}

/** Sends with the maximum TTL / hop limit (GTSM senders always do, RFC 5082). */
export function setMaxTtl(fd: number, family: 4 | 6, peer: string): void {
  if (family === 4) setopt(fd, IPPROTO_IP, IP_TTL, int32(255), `IP_TTL 255 for peer ${peer}`);
  else setopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, int32(255), `IPV6_UNICAST_HOPS 255 for peer ${peer}`);
}

/**
 * GTSM (RFC 5082): send with TTL 255 and have the kernel drop anything from the peer that
 * arrives with a TTL below 256 - hops (i.e. sent from further than `hops` hops away).
 */
export function setTtlSecurity(fd: number, family: 4 | 6, peer: string, hops: number): void {
  setMaxTtl(fd, family, peer);
  const min = 256 - hops;
  // An IPv4 peer on an IPv6 socket (v4-mapped) is checked by the IPv4 option.
  if (family === 4 || isIPv4(peer)) setopt(fd, IPPROTO_IP, IP_MINTTL, int32(min), `IP_MINTTL ${min} for peer ${peer}`);
  else setopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, int32(min), `IPV6_MINHOPCOUNT ${min} for peer ${peer}`);
}

/**
 * The TTL (IPv4) or hop limit (IPv6) of the SYN that opened an accepted connection, when the
 * listener kept SYNs (TCP_SAVE_SYN, set by ListenerOptions for GTSM); undefined otherwise. It can
 * be read once. GTSM needs it: IP_MINTTL set after accept() is too late for the handshake and the
 * peer's first segments.
 */
export function savedSynTtl(fd: number): number | undefined {
  const c = bridge();
  const buf = Buffer.alloc(512);
  const len = [buf.length];
  if (c.getsockopt(fd, IPPROTO_TCP, TCP_SAVED_SYN, buf, len) !== 0 || !len[0]) return undefined;
  const version = buf[0]! >> 4;
  if (version === 4) return buf[8];
  if (version === 6) return buf[7];
  return undefined;
}

export interface OutgoingOptions {
  /** TCP MD5 password for the peer. */
  password?: string | undefined;
  /** GTSM hop count. */
  ttlSecurity?: number | undefined;
}

/**
 * An unconnected net.Socket for `peer` whose descriptor already carries the MD5 key and GTSM
 * options; call connect() on it as usual (its SYN is then signed). Throws SockoptError when an
 * option cannot be set (the descriptor is closed again).
 */
export function preparedSocket(peer: string, opts: OutgoingOptions): Socket {
  const c = bridge();
  const family = isIPv4(peer) ? 4 : 6;
  const fd = c.socket(family === 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const errno = c.errno();
    throw new SockoptError(`cannot create a socket for peer ${peer}: ${errnoName(errno)}`, errno, errnoName(errno));
  }
  try {
    if (opts.password) setMd5Key(fd, family, peer, opts.password);
    if (opts.ttlSecurity !== undefined) setTtlSecurity(fd, family, peer, opts.ttlSecurity);
    // Not reading until connected: an unconnected socket polls as hung up.
    return new Socket({ fd, readable: true, writable: true, manualStart: true } as ConstructorParameters<typeof Socket>[0]);
  } catch (e) {
    c.close(fd);
    throw e;
  }
}

/** Per-peer MD5 keys and GTSM on a listening server (keys are inherited by accepted sockets). */
export class ListenerOptions {
  private readonly keys = new Map<string, string>();
  private maxTtl = false;

  constructor(private readonly server: Server) {}

  private get family(): 4 | 6 {
    const a = this.server.address();
    return a && typeof a === 'object' && a.family === 'IPv6' ? 6 : 4;
  }

  /** Brings the listener's keys to `want` (peer address -> password), adding, changing and removing. */
  apply(want: ReadonlyMap<string, string>, anyTtlSecurity: boolean): void {
    const fd = socketFd(this.server);
    const family = this.family;
    const errors: Error[] = [];
    for (const [peer] of this.keys) {
      if (want.has(peer)) continue;
      try {
        if (family === 4 && !isIPv4(peer)) { this.keys.delete(peer); continue; }
        setMd5Key(fd, family, peer, undefined);
        this.keys.delete(peer);
      } catch (e) { errors.push(e as Error); }
    }
    for (const [peer, key] of want) {
      if (this.keys.get(peer) === key) continue;
      if (family === 4 && !isIPv4(peer)) {
        errors.push(new Error(`peer ${peer}: an IPv6 peer cannot connect to an IPv4 listener; no MD5 key set on it`));
        continue;
      }
      try {
        setMd5Key(fd, family, peer, key);
        this.keys.set(peer, key);
      } catch (e) { errors.push(e as Error); }
    }
    // GTSM peers check the TTL of our SYN-ACK too, which the listener sends.
    if (anyTtlSecurity && !this.maxTtl) {
      try {
        setopt(fd, IPPROTO_TCP, TCP_SAVE_SYN, int32(1), 'TCP_SAVE_SYN on the listener');
        setopt(fd, family === 4 ? IPPROTO_IP : IPPROTO_IPV6, family === 4 ? IP_TTL : IPV6_UNICAST_HOPS, int32(255), 'TTL 255 on the listener');
        if (family === 6) setopt(fd, IPPROTO_IP, IP_TTL, int32(255), 'IPv4 TTL 255 on the listener');
        this.maxTtl = true;
      } catch (e) { errors.push(e as Error); }
    }
    if (errors.length) throw new AggregateError(errors, errors.map((e) => e.message).join('; '));
  }
}
