// CNI errors: what a plugin prints on stdout when an operation fails ({cniVersion, code, msg,
// details}) and exits non-zero. Codes below 100 are the spec's well-known ones; 100 and up are
// this plugin's own.

/** Well-known error codes of the CNI specification (1.0.0, "Error"). */
export const CniCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodingFailure: 6,
  invalidNetworkConfig: 7,
  tryAgainLater: 11,
  /** Tabby: the delegated IPAM plugin failed or returned something unusable. */
  ipamFailure: 100,
  /** Tabby: setting up or tearing down the veth, addresses, routes or sysctls failed. */
  dataplaneFailure: 101,
  /** Tabby: CHECK found the container's networking different from prevResult. */
  checkFailed: 102,
  /** Tabby: the datastore refused a write or read (other than being unreachable, which is 11). */
  datastoreFailure: 103,
  /** Anything unexpected (the value libcni uses for internal errors). */
  internal: 999,
} as const;
export type CniCodeValue = (typeof CniCode)[keyof typeof CniCode];

export class CniError extends Error {
  override name = 'CniError';
  constructor(readonly code: number, msg: string, readonly details = '') {
    super(msg);
  }
}

/** The JSON object printed on stdout for a failed operation. */
export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export function errorJson(cniVersion: string, e: CniError): CniErrorJson {
  const out: CniErrorJson = { cniVersion, code: e.code, msg: e.message };
  if (e.details) out.details = e.details;
  return out;
}
