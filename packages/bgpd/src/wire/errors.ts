// Protocol errors as values carrying the NOTIFICATION they call for (RFC 4271 §4.5, §6) and
// the RFC 7606 action that decides whether the session must go down for them.

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

export const OpenSubcode = {
  /** RFC 4271 errata: no more specific subcode applies (malformed optional parameters). */
  UNSPECIFIC: 0,
  UNSUPPORTED_VERSION: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_ID: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
} as const;

export const UpdateSubcode = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN: 2,
  MISSING_WELL_KNOWN: 3,
  ATTRIBUTE_FLAGS: 4,
  ATTRIBUTE_LENGTH: 5,
  INVALID_ORIGIN: 6,
  INVALID_NEXT_HOP: 8,
  OPTIONAL_ATTRIBUTE: 9,
  INVALID_NETWORK: 10,
  MALFORMED_AS_PATH: 11,
} as const;

export const CeaseSubcode = {
  MAX_PREFIXES: 1, ADMIN_SHUTDOWN: 2, PEER_DECONFIGURED: 3, ADMIN_RESET: 4, CONNECTION_REJECTED: 5,
  OTHER_CONFIG_CHANGE: 6, COLLISION_RESOLUTION: 7, OUT_OF_RESOURCES: 8, HARD_RESET: 9, BFD_DOWN: 10,
} as const;

export const RouteRefreshSubcode = { INVALID_LENGTH: 1 } as const;

/** Names for logs, keyed by error code. */
export const CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'Message Header Error', 2: 'OPEN Message Error', 3: 'UPDATE Message Error', 4: 'Hold Timer Expired',
  5: 'Finite State Machine Error', 6: 'Cease', 7: 'ROUTE-REFRESH Message Error',
};

/** Names for logs, keyed by error code then subcode (RFC 4271, 4486, 6608, 7313, 8538, 9234, 9384). */
export const SUBCODE_NAMES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    0: 'Unspecific', 1: 'Unsupported Version Number', 2: 'Bad Peer AS', 3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter', 5: 'Authentication Failure (deprecated)', 6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability', 11: 'Role Mismatch',
  },
  3: {
    1: 'Malformed Attribute List', 2: 'Unrecognized Well-known Attribute', 3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error', 5: 'Attribute Length Error', 6: 'Invalid ORIGIN Attribute',
    7: 'AS Routing Loop (deprecated)', 8: 'Invalid NEXT_HOP Attribute', 9: 'Optional Attribute Error',
    10: 'Invalid Network Field', 11: 'Malformed AS_PATH',
  },
  5: {
    1: 'Unexpected Message in OpenSent State', 2: 'Unexpected Message in OpenConfirm State',
    3: 'Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached', 2: 'Administrative Shutdown', 3: 'Peer De-configured',
    4: 'Administrative Reset', 5: 'Connection Rejected', 6: 'Other Configuration Change',
    7: 'Connection Collision Resolution', 8: 'Out of Resources', 9: 'Hard Reset', 10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
};

/** "UPDATE Message Error: Missing Well-known Attribute", for logs and `ctl node status`. */
export function notificationName(code: number, subcode: number): string {
  const c = CODE_NAMES[code] ?? `code ${code}`;
  const s = SUBCODE_NAMES[code]?.[subcode];
  return s ? `${c}: ${s}` : subcode ? `${c} (subcode ${subcode})` : c;
}

/**
 * RFC 7606 §2 handling of an error, weakest first. `reset` is RFC 4271's answer to everything:
 * send the NOTIFICATION and close the session.
 */
export type ErrorAction = 'attribute-discard' | 'treat-as-withdraw' | 'afisafi-disable' | 'reset';
const STRENGTH: Readonly<Record<ErrorAction, number>> = { 'attribute-discard': 0, 'treat-as-withdraw': 1, 'afisafi-disable': 2, reset: 3 };

export class WireError extends Error {
  override name = 'WireError';
  constructor(
    readonly code: number,
    readonly subcode: number,
    /** The NOTIFICATION's data field, exactly as the RFC asks for it. */
    readonly data: Uint8Array = new Uint8Array(0),
    readonly detail = '',
    readonly action: ErrorAction = 'reset',
    /** The path attribute type code the error is about, when there is one. */
    readonly attribute?: number,
  ) {
    super(`${notificationName(code, subcode)}${detail ? `: ${detail}` : ''}`);
  }

  /** The same error handled another way (RFC 7606 rules that depend on the session). */
  withAction(action: ErrorAction): WireError {
    return new WireError(this.code, this.subcode, this.data, this.detail, action, this.attribute);
  }
}

/** The more severe of two errors: the one the message as a whole must be handled by. Ties keep `a`. */
export function stronger(a: WireError | undefined, b: WireError | undefined): WireError | undefined {
  if (!a) return b;
  if (!b) return a;
  return STRENGTH[b.action] > STRENGTH[a.action] ? b : a;
}
