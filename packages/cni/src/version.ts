// The CNI specification versions this plugin speaks and what differs between them.

import { CniCode, CniError } from './errors.js';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST_VERSION: CniVersion = '1.0.0';

export function isSupportedVersion(v: unknown): v is CniVersion {
  return typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/** Throws the spec's "incompatible CNI version" error for anything this plugin does not speak. */
export function requireSupportedVersion(v: unknown): CniVersion {
  if (isSupportedVersion(v)) return v;
  const shown = v === undefined || v === '' ? 'missing (the spec reads that as 0.1.0)' : JSON.stringify(v);
  throw new CniError(CniCode.incompatibleVersion, `incompatible CNI version: cniVersion ${shown} is not supported`,
    `supported versions: ${SUPPORTED_VERSIONS.join(', ')}`);
}

/** CHECK exists from 0.4.0 on. */
export function versionHasCheck(v: CniVersion): boolean {
  return v === '0.4.0' || v === '1.0.0';
}

/** 0.3.x and 0.4.0 results carry `version: "4"|"6"` on each IP; 1.0.0 dropped it. */
export function versionHasIpVersionField(v: CniVersion): boolean {
  return v !== '1.0.0';
}

/** The VERSION command's answer. */
export function versionInfo(): { cniVersion: string; supportedVersions: string[] } {
  return { cniVersion: LATEST_VERSION, supportedVersions: [...SUPPORTED_VERSIONS] };
}
