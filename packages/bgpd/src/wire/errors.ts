// Protocol errors as values carrying the NOTIFICATION they require (RFC 4271 §6) and the
// RFC 7606 handling they call for.

export const ErrorCode = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH: 7,
} as const;

export const HeaderSubcode = { NOT_SYNCHRONIZED: 1, BAD_LENGTH: 2, BAD_TYPE: 3 } as const;
export const OpenSubcode = { UNSUPPORTED_VERSION: 1, BAD_PEER_AS: 2, BAD_BGP_ID: 3, UNSUPPORTED_OPTIONAL_PARAMETER: 4, UNACCEPTABLE_HOLD_TIME: 6, UNSUPPORTED_CAPABILITY: 7 } as const;
export const UpdateSubcode = {
  MALFORMED_ATTRIBUTE_LIST: 1, UNRECOGNIZED_WELL_KNOWN: 2, MISSING_WELL_KNOWN: 3, ATTRIBUTE_FLAGS: 4,
  ATTRIBUTE_LENGTH: 5, INVALID_ORIGIN: 6, INVALID_NEXT_HOP: 8, OPTIONAL_ATTRIBUTE: 9, INVALID_NETWORK: 10, MALFORMED_AS_PATH: 11,
} as const;

export const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error', 2: 'OPEN Message Error', 3: 'UPDATE Message Error', 4: 'Hold Timer Expired',
  5: 'Finite State Machine Error', 6: 'Cease', 7: 'ROUTE-REFRESH Message Error',
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: { 1: 'Unsupported Version Number', 2: 'Bad Peer AS', 3: 'Bad BGP Identifier', 4: 'Unsupported Optional Parameter', 6: 'Unacceptable Hold Time', 7: 'Unsupported Capability' },
  3: { 1: 'Malformed Attribute List', 2: 'Unrecognized Well-known Attribute', 3: 'Missing Well-known Attribute', 4: 'Attribute Flags Error', 5: 'Attribute Length Error', 6: 'Invalid ORIGIN Attribute', 8: 'Invalid NEXT_HOP Attribute', 9: 'Optional Attribute Error', 10: 'Invalid Network Field', 11: 'Malformed AS_PATH' },
  6: { 1: 'Maximum Number of Prefixes Reached', 2: 'Administrative Shutdown', 3: 'Peer De-configured', 4: 'Administrative Reset', 5: 'Connection Rejected', 6: 'Other Configuration Change', 7: 'Connection Collision Resolution', 8: 'Out of Resources', 9: 'Hard Reset', 10: 'BFD Down' },
};

export function notificationName(code: number, subcode: number): string {
  const c = CODE_NAMES[code] ?? `code ${code}`;
  const s = SUBCODE_NAMES[code]?.[subcode];
  return s ? `${c}: ${s}` : subcode ? `${c} (subcode ${subcode})` : c;
}

/** RFC 7606 handling, weakest first. */
export type ErrorAction = 'attribute-discard' | 'treat-as-withdraw' | 'afisafi-disable' | 'reset';
const STRENGTH: Record<ErrorAction, number> = { 'attribute-discard': 0, 'treat-as-withdraw': 1, 'afisafi-disable': 2, reset: 3 };

export class WireError extends Error {
  override name = 'WireError';
  constructor(
    readonly code: number,
    readonly subcode: number,
    readonly data: Uint8Array = new Uint8Array(0),
    detail = '',
    readonly action: ErrorAction = 'reset',
  ) {
    super(`${notificationName(code, subcode)}${detail ? `: ${detail}` : ''}`);
  }
}

/** The more severe of two errors (the one a message as a whole must be handled by). */
export function stronger(a: WireError | undefined, b: WireError | undefined): WireError | undefined {
  if (!a) return b;
  if (!b) return a;
  return STRENGTH[b.action] > STRENGTH[a.action] ? b : a;
}
