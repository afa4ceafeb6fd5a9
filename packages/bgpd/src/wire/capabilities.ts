// Capabilities advertised in OPEN (RFC 5492), one decode/encode pair per kind.

import { ErrorCode, OpenSubcode, WireError } from './errors.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

export const AFI = { IPV4: 1, IPV6: 2 } as const;
export const SAFI = { UNICAST: 1 } as const;

export interface Family {
  afi: number;
  safi: number;
}

export type Capability =
  | { type: 'multiprotocol'; afi: number; safi: number }
  | { type: 'route-refresh' }
  /** The pre-standard code 128 some routers still send. */
  | { type: 'route-refresh-old' }
  | { type: 'extended-message' }
  | { type: 'graceful-restart'; restarting: boolean; notification: boolean; time: number; families: (Family & { forwarding: boolean })[] }
  | { type: 'four-octet-as'; asn: number }
  | { type: 'add-path'; families: (Family & { send: boolean; receive: boolean })[] }
  | { type: 'enhanced-route-refresh' }
  | { type: 'fqdn'; hostname: string; domain: string }
  | { type: 'unknown'; code: number; value: Uint8Array };

export const CapabilityCode = {
  MULTIPROTOCOL: 1, ROUTE_REFRESH: 2, EXTENDED_MESSAGE: 6, GRACEFUL_RESTART: 64, FOUR_OCTET_AS: 65,
  ADD_PATH: 69, ENHANCED_ROUTE_REFRESH: 70, FQDN: 73, ROUTE_REFRESH_OLD: 128,
} as const;

const malformed = () => new WireError(ErrorCode.OPEN_MESSAGE, 0, undefined, 'malformed capability');

function text(r: Reader): string {
  const n = r.u8();
  return new TextDecoder().decode(r.bytes(n));
}

export function decodeCapability(code: number, value: Uint8Array): Capability {
  const r = new Reader(value, 0, value.length, malformed);
  const exact = (n: number) => {
    if (value.length !== n) throw malformed();
  };
  switch (code) {
    case CapabilityCode.MULTIPROTOCOL: {
      exact(4);
      const afi = r.u16();
      r.u8();
      return { type: 'multiprotocol', afi, safi: r.u8() };
    }
    case CapabilityCode.ROUTE_REFRESH: exact(0); return { type: 'route-refresh' };
    case CapabilityCode.ROUTE_REFRESH_OLD: exact(0); return { type: 'route-refresh-old' };
    case CapabilityCode.EXTENDED_MESSAGE: exact(0); return { type: 'extended-message' };
    case CapabilityCode.ENHANCED_ROUTE_REFRESH: exact(0); return { type: 'enhanced-route-refresh' };
    case CapabilityCode.FOUR_OCTET_AS: exact(4); return { type: 'four-octet-as', asn: r.u32() };
    case CapabilityCode.GRACEFUL_RESTART: {
      if (value.length < 2 || (value.length - 2) % 4 !== 0) throw malformed();
      const word = r.u16();
      const families: (Family & { forwarding: boolean })[] = [];
      while (r.remaining) {
        const afi = r.u16();
        const safi = r.u8();
        families.push({ afi, safi, forwarding: (r.u8() & 0x80) !== 0 });
      }
      return { type: 'graceful-restart', restarting: (word & 0x8000) !== 0, notification: (word & 0x4000) !== 0, time: word & 0x0fff, families };
    }
    case CapabilityCode.ADD_PATH: {
      if (value.length % 4 !== 0) throw malformed();
      const families: (Family & { send: boolean; receive: boolean })[] = [];
      while (r.remaining) {
        const afi = r.u16();
        const safi = r.u8();
        const mode = r.u8();
        if (mode < 1 || mode > 3) throw malformed();
        families.push({ afi, safi, receive: (mode & 1) !== 0, send: (mode & 2) !== 0 });
      }
      return { type: 'add-path', families };
    }
    case CapabilityCode.FQDN: {
      const hostname = text(r);
      return { type: 'fqdn', hostname, domain: r.remaining ? text(r) : '' };
    }
    default:
      return { type: 'unknown', code, value: value.slice() };
  }
}

function tlv(w: Writer, code: number, body: (w: Writer) => void): void {
  w.u8(code);
  const lenAt = w.length;
  w.u8(0);
  body(w);
  const len = w.length - lenAt - 1;
  if (len > 255) throw new Error(`capability ${code} is too long (${len} bytes)`);
  w.patch8(lenAt, len);
}

export function encodeCapability(w: Writer, c: Capability): void {
  switch (c.type) {
    case 'multiprotocol': return tlv(w, CapabilityCode.MULTIPROTOCOL, (x) => x.u16(c.afi).u8(0).u8(c.safi));
    case 'route-refresh': return tlv(w, CapabilityCode.ROUTE_REFRESH, () => undefined);
    case 'route-refresh-old': return tlv(w, CapabilityCode.ROUTE_REFRESH_OLD, () => undefined);
    case 'extended-message': return tlv(w, CapabilityCode.EXTENDED_MESSAGE, () => undefined);
    case 'enhanced-route-refresh': return tlv(w, CapabilityCode.ENHANCED_ROUTE_REFRESH, () => undefined);
    case 'four-octet-as': return tlv(w, CapabilityCode.FOUR_OCTET_AS, (x) => x.u32(c.asn));
    case 'graceful-restart':
      return tlv(w, CapabilityCode.GRACEFUL_RESTART, (x) => {
        x.u16((c.restarting ? 0x8000 : 0) | (c.notification ? 0x4000 : 0) | (c.time & 0x0fff));
        for (const f of c.families) x.u16(f.afi).u8(f.safi).u8(f.forwarding ? 0x80 : 0);
      });
    case 'add-path':
      return tlv(w, CapabilityCode.ADD_PATH, (x) => {
        for (const f of c.families) x.u16(f.afi).u8(f.safi).u8((f.receive ? 1 : 0) | (f.send ? 2 : 0));
      });
    case 'fqdn':
      return tlv(w, CapabilityCode.FQDN, (x) => {
        const h = new TextEncoder().encode(c.hostname);
        const d = new TextEncoder().encode(c.domain);
        x.u8(h.length).bytes(h).u8(d.length).bytes(d);
      });
    case 'unknown': return tlv(w, c.code, (x) => x.bytes(c.value));
    default: {
      const never: never = c;
      throw new Error(`unknown capability ${JSON.stringify(never)}`);
    }
  }
}

export { OpenSubcode };
