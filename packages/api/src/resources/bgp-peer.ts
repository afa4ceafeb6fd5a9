// PLACEHOLDER: the full BGPPeer type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface BGPPeerSpec {
  [field: string]: unknown;
}
export type BGPPeer = ResourceOf<'BGPPeer', BGPPeerSpec>;

export const bgpPeerSpecSchema: Schema = any;

export function defaultBGPPeer(r: BGPPeer): BGPPeer {
  return r;
}

export function validateBGPPeer(_r: BGPPeer, _issues: Issues): void {}
