// Calico's unique IDs: "<prefix>:" + unpadded base64url(SHA-224("<prefix>:" + content)).
// A selector's ID uses prefix "s" over its canonical string; Felix's selector ipsets are named
// from it ("cali40" + the ID, cut to 31 characters: "cali40s:qMt7iLlGDhvLnCjM0l9nzx").

import { createHash } from 'node:crypto';

export function calicoUniqueId(prefix: string, content: string): string {
  const tagged = `${prefix}:${content}`;
  return `${prefix}:${createHash('sha224').update(tagged, 'utf8').digest('base64url')}`;
}

export function selectorUniqueIdOfCanonical(canonical: string): string {
  return calicoUniqueId('s', canonical);
}
