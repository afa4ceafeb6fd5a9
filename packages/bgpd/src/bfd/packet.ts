// BFD Control packets (RFC 5880 §4.1): the 24-byte mandatory section. Decoding validates what
// §6.8.6 asks of every received packet and never throws: a bad packet yields a reason to drop
// and count. Authentication (the A bit and its section) is not supported: such packets are
// dropped, as §6.8.6 requires when no authentication is configured.

export const BFD_VERSION = 1;
/** Length of the mandatory section. */
export const BFD_HEADER_LENGTH = 24;

export type BfdState = 'AdminDown' | 'Down' | 'Init' | 'Up';
export const STATE_CODES: readonly BfdState[] = ['AdminDown', 'Down', 'Init', 'Up'];

/** Diagnostic codes (RFC 5880 §4.1). */
export const Diag = {
  NONE: 0,
  DETECTION_TIME_EXPIRED: 1,
  ECHO_FAILED: 2,
  NEIGHBOR_DOWN: 3,
  FORWARDING_RESET: 4,
  PATH_DOWN: 5,
  CONCATENATED_PATH_DOWN: 6,
  ADMIN_DOWN: 7,
  REVERSE_CONCATENATED_PATH_DOWN: 8,
} as const;

const DIAG_NAMES = [
  'No Diagnostic', 'Control Detection Time Expired', 'Echo Function Failed', 'Neighbor Signaled Session Down',
  'Forwarding Plane Reset', 'Path Down', 'Concatenated Path Down', 'Administratively Down', 'Reverse Concatenated Path Down',
];

export function diagName(d: number): string {
  return DIAG_NAMES[d] ?? `Diagnostic ${d}`;
}

export interface ControlPacket {
  version: number;
  diag: number;
  state: BfdState;
  poll: boolean;
  final: boolean;
  /** Control Plane Independent. */
  cpi: boolean;
  auth: boolean;
  demand: boolean;
  multipoint: boolean;
  detectMult: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  /** Microseconds. */
  desiredMinTx: number;
  /** Microseconds. */
  requiredMinRx: number;
  /** Microseconds (0: we do not take echo packets). */
  requiredMinEchoRx: number;
}

/** Why a received packet was dropped (counted per reason). */
export type DropReason =
  | 'too-short'
  | 'bad-version'
  | 'bad-length'
  | 'zero-detect-mult'
  | 'multipoint'
  | 'zero-my-discriminator'
  | 'authentication'
  | 'zero-your-discriminator'
  | 'unknown-discriminator'
  | 'unknown-peer'
  | 'wrong-source';

export type DecodeResult = { ok: true; packet: ControlPacket } | { ok: false; reason: DropReason };

/**
 * Decodes and validates a received packet (RFC 5880 §6.8.6, the checks that need no session).
 * The "Your Discriminator is zero while State is not Down/AdminDown" rule is checked here too.
 */
export function decodeControl(buf: Uint8Array): DecodeResult {
  if (buf.length < BFD_HEADER_LENGTH) return { ok: false, reason: 'too-short' };
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const b0 = v.getUint8(0);
  const b1 = v.getUint8(1);
  const version = b0 >> 5;
  if (version !== BFD_VERSION) return { ok: false, reason: 'bad-version' };
  const auth = (b1 & 0x04) !== 0;
  const length = v.getUint8(3);
  if (length < (auth ? BFD_HEADER_LENGTH + 2 : BFD_HEADER_LENGTH) || length > buf.length) return { ok: false, reason: 'bad-length' };
  const detectMult = v.getUint8(2);
  if (detectMult === 0) return { ok: false, reason: 'zero-detect-mult' };
  if (b1 & 0x01) return { ok: false, reason: 'multipoint' };
  const myDiscriminator = v.getUint32(4);
  if (myDiscriminator === 0) return { ok: false, reason: 'zero-my-discriminator' };
  const state = STATE_CODES[b1 >> 6]!;
  const yourDiscriminator = v.getUint32(8);
  if (yourDiscriminator === 0 && state !== 'Down' && state !== 'AdminDown') return { ok: false, reason: 'zero-your-discriminator' };
  // We use no authentication: §6.8.6 says discard packets that carry it.
  if (auth) return { ok: false, reason: 'authentication' };
  return {
    ok: true,
    packet: {
      version,
      diag: b0 & 0x1f,
      state,
      poll: (b1 & 0x20) !== 0,
      final: (b1 & 0x10) !== 0,
      cpi: (b1 & 0x08) !== 0,
      auth,
      demand: (b1 & 0x02) !== 0,
      multipoint: false,
      detectMult,
      myDiscriminator,
      yourDiscriminator,
      desiredMinTx: v.getUint32(12),
      requiredMinRx: v.getUint32(16),
      requiredMinEchoRx: v.getUint32(20),
    },
  };
}

export type EncodeInput = Pick<ControlPacket, 'diag' | 'state' | 'poll' | 'final' | 'detectMult' | 'myDiscriminator' | 'yourDiscriminator' | 'desiredMinTx' | 'requiredMinRx'> &
  Partial<Pick<ControlPacket, 'cpi' | 'demand' | 'requiredMinEchoRx'>>;

/** Encodes a packet without authentication (24 bytes). Throws on values that do not fit (a bug). */
export function encodeControl(p: EncodeInput): Buffer {
  if (p.poll && p.final) throw new RangeError('BFD: Poll and Final must not both be set');
  if (!Number.isInteger(p.diag) || p.diag < 0 || p.diag > 31) throw new RangeError(`BFD: bad diagnostic ${p.diag}`);
  if (!Number.isInteger(p.detectMult) || p.detectMult < 1 || p.detectMult > 255) throw new RangeError(`BFD: bad detect multiplier ${p.detectMult}`);
  const b = Buffer.alloc(BFD_HEADER_LENGTH);
  b.writeUInt8((BFD_VERSION << 5) | p.diag, 0);
  b.writeUInt8(
    (STATE_CODES.indexOf(p.state) << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0) | (p.cpi ? 0x08 : 0) | (p.demand ? 0x02 : 0),
    1,
  );
  b.writeUInt8(p.detectMult, 2);
  b.writeUInt8(BFD_HEADER_LENGTH, 3);
  b.writeUInt32BE(p.myDiscriminator >>> 0, 4);
  b.writeUInt32BE(p.yourDiscriminator >>> 0, 8);
  b.writeUInt32BE(p.desiredMinTx >>> 0, 12);
  b.writeUInt32BE(p.requiredMinRx >>> 0, 16);
  b.writeUInt32BE((p.requiredMinEchoRx ?? 0) >>> 0, 20);
  return b;
}
