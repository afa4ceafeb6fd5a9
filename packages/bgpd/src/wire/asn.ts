// 4-octet AS numbers (RFC 6793) in places that only hold 2 octets.

/** What a 4-octet AS speaker writes where its AS does not fit in 2 octets. */
export const AS_TRANS = 23456;

export function twoOctetAs(asn: number): number {
  return asn > 0xffff ? AS_TRANS : asn;
}
