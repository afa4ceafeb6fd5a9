// Capabilities advertised in OPEN (RFC 5492): one decode and one encode per kind. Kinds we
// do not know are kept as raw bytes so they can be logged (and ignored) by negotiation.

import { ErrorCode, OpenSubcode, WireError } from './errors.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

export const AFI = { IPV4: 1, IPV6: 2 } as const;
export const SAFI = { UNICAST: 1 } as const;

export interface Family {
  afi: number;
  safi: number;
}

export type GracefulRestartFamily = Family & { /** F bit: forwarding state was preserved. */ forwarding: boolean };
export type AddPathFamily = Family & { send: boolean; receive: boolean };

export type Capability =
  | { type: 'multiprotocol'; afi: number; safi: number }
  | { type: 'route-refresh' }
  /** The pre-standard code 128 some routers still send. */
  | { type: 'route-refresh-old' }
  | { type: 'extended-message' }
  | {
    type: 'graceful-restart';
    /** R bit: the sender has restarted. */
    restarting: boolean;
    /** N bit (RFC 8538): graceful restart also covers NOTIFICATIONs. */
    notification: boolean;
    /** Restart time in seconds (12 bits). */
    time: number;
    families: GracefulRestartFamily[];
  }
  | { type: 'four-octet-as'; asn: number }
  | { type: 'add-path'; families: AddPathFamily[] }
  | { type: 'enhanced-route-refresh' }
  | { type: 'fqdn'; hostname: string; domain: string }
  | { type: 'unknown'; code: number; value: Uint8Array };

export const CapabilityCode = {
  MULTIPROTOCOL: 1, ROUTE_REFRESH: 2, EXTENDED_MESSAGE: 6, GRACEFUL_RESTART: 64, FOUR_OCTET_AS: 65,
  ADD_PATH: 69, ENHANCED_ROUTE_REFRESH: 70, FQDN: 73, ROUTE_REFRESH_OLD: 128,
} as const;

export const CAPABILITY_NAMES: Readonly<Record<number, string>> = {
  1: 'Multiprotocol', 2: 'Route Refresh', 5: 'Extended Next Hop', 6: 'Extended Message', 9: 'BGP Role',
  64: 'Graceful Restart', 65: '4-octet AS', 69: 'ADD-PATH', 70: 'Enhanced Route Refresh', 71: 'Long-Lived GR',
  73: 'FQDN', 75: 'Software Version', 128: 'Route Refresh (old)',
};

const GR_RESTARTING = 0x8000;
const GR_NOTIFICATION = 0x4000;
const GR_TIME_MASK = 0x0fff;
const GR_FORWARDING = 0x80;
const ADD_PATH_RECEIVE = 1;
const ADD_PATH_SEND = 2;

function malformed(code: number): WireError {
  return new WireError(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSPECIFIC, undefined, `malformed ${CAPABILITY_NAMES[code] ?? `capability ${code}`}`);
}

function readText(r: Reader): string {
  return new TextDecoder().decode(r.bytes(r.u8()));
}

/** Decodes one capability's value (a view into the OPEN; nothing returned refers to it). */
export function decodeCapability(code: number, value: Uint8Array): Capability {
  const bad = () => malformed(code);
  const r = new Reader(value, 0, value.length, bad);
  const exact = (n: number) => {
    if (value.length !== n) throw bad();
  };
  switch (code) {
    case CapabilityCode.MULTIPROTOCOL: {
      exact(4);
      const afi = r.u16();
      r.u8(); // reserved
      return { type: 'multiprotocol', afi, safi: r.u8() };
    }
    case CapabilityCode.ROUTE_REFRESH: exact(0); return { type: 'route-refresh' };
    case CapabilityCode.ROUTE_REFRESH_OLD: exact(0); return { type: 'route-refresh-old' };
    case CapabilityCode.EXTENDED_MESSAGE: exact(0); return { type: 'extended-message' };
    case CapabilityCode.ENHANCED_ROUTE_REFRESH: exact(0); return { type: 'enhanced-route-refresh' };
    case CapabilityCode.FOUR_OCTET_AS: exact(4); return { type: 'four-octet-as', asn: r.u32() };
    case CapabilityCode.GRACEFUL_RESTART: {
      if (value.length < 2 || (value.length - 2) % 4 !== 0) throw bad();
      const word = r.u16();
      const families: GracefulRestartFamily[] = [];
      while (r.remaining) {
        const afi = r.u16();
        const safi = r.u8();
        families.push({ afi, safi, forwarding: (r.u8() & GR_FORWARDING) !== 0 });
      }
      return {
        type: 'graceful-restart', restarting: (word & GR_RESTARTING) !== 0, notification: (word & GR_NOTIFICATION) !== 0,
        time: word & GR_TIME_MASK, families,
      };
    }
    case CapabilityCode.ADD_PATH: {
      if (value.length % 4 !== 0) throw bad();
      const families: AddPathFamily[] = [];
      while (r.remaining) {
        const afi = r.u16();
        const safi = r.u8();
        const mode = r.u8();
        // RFC 7911 §4: any other Send/Receive value means the capability was not received.
        if (mode < 1 || mode > 3) return { type: 'unknown', code, value: value.slice() };
        families.push({ afi, safi, receive: (mode & ADD_PATH_RECEIVE) !== 0, send: (mode & ADD_PATH_SEND) !== 0 });
      }
      return { type: 'add-path', families };
    }
    case CapabilityCode.FQDN: {
      const hostname = readText(r);
      const domain = r.remaining ? readText(r) : '';
      if (r.remaining) throw bad();
      return { type: 'fqdn', hostname, domain };
    }
    default:
      return { type: 'unknown', code, value: value.slice() };
  }
}

/** Writes code, a length fixed up afterwards, and the body. */
function tlv(w: Writer, code: number, body: (w: Writer) => void): void {
  w.u8(code);
  const lenAt = w.length;
  w.u8(0);
  body(w);
  const len = w.length - lenAt - 1;
  if (len > 255) throw new Error(`capability ${code} is too long (${len} bytes)`);
  w.patch8(lenAt, len);
}

function text(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  if (b.length > 255) throw new Error(`FQDN part too long: ${s}`);
  return b;
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
        x.u16((c.restarting ? GR_RESTARTING : 0) | (c.notification ? GR_NOTIFICATION : 0) | (c.time & GR_TIME_MASK));
        for (const f of c.families) x.u16(f.afi).u8(f.safi).u8(f.forwarding ? GR_FORWARDING : 0);
      });
    case 'add-path':
      return tlv(w, CapabilityCode.ADD_PATH, (x) => {
        for (const f of c.families) x.u16(f.afi).u8(f.safi).u8((f.receive ? ADD_PATH_RECEIVE : 0) | (f.send ? ADD_PATH_SEND : 0));
      });
    case 'fqdn':
      return tlv(w, CapabilityCode.FQDN, (x) => {
        const h = text(c.hostname);
        const d = text(c.domain);
        x.u8(h.length).bytes(h).u8(d.length).bytes(d);
      });
    case 'unknown': return tlv(w, c.code, (x) => x.bytes(c.value));
    default: {
      const never: never = c;
      throw new Error(`unknown capability ${JSON.stringify(never)}`);
    }
  }
}
