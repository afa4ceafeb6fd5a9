import { expect } from 'chai';
import { decodeCapability, decodeOpen, encodeOpen, type Capability } from '@tabby/bgpd';
import { errorOf, hex, message, summary, toHex } from './hex.js';
import { OPEN_BIRD, OPEN_EXTENDED_PARAMS, OPEN_FULL } from './vectors.js';

/** An OPEN body after the BGP identifier: optional parameters as hex. */
const openWith = (params: string, head = '04 fde9 005a 0a000001') => message(1, `${head} ${params}`);

describe('wire: OPEN', () => {
  it('decodes BIRD 2\'s OPEN', () => {
    expect(decodeOpen(OPEN_BIRD)).to.deep.equal({
      type: 'open', version: 4, myAs: 65001, holdTime: 240, bgpId: '10.0.0.1',
      capabilities: [
        { type: 'multiprotocol', afi: 1, safi: 1 },
        { type: 'route-refresh' },
        { type: 'extended-message' },
        { type: 'four-octet-as', asn: 65001 },
        { type: 'enhanced-route-refresh' },
        { type: 'graceful-restart', restarting: false, notification: false, time: 120, families: [] },
      ],
    });
  });

  it('decodes every capability kind, unknown ones kept raw', () => {
    expect(decodeOpen(OPEN_FULL)).to.deep.equal({
      type: 'open', version: 4, myAs: 23456, holdTime: 90, bgpId: '192.0.2.1',
      capabilities: [
        { type: 'multiprotocol', afi: 1, safi: 1 },
        { type: 'multiprotocol', afi: 2, safi: 1 },
        { type: 'route-refresh' },
        { type: 'route-refresh-old' },
        {
          type: 'graceful-restart', restarting: true, notification: true, time: 300,
          families: [{ afi: 1, safi: 1, forwarding: true }, { afi: 2, safi: 1, forwarding: false }],
        },
        { type: 'four-octet-as', asn: 4200000001 },
        { type: 'add-path', families: [{ afi: 1, safi: 1, send: true, receive: true }, { afi: 2, safi: 1, send: false, receive: true }] },
        { type: 'fqdn', hostname: 'node-1', domain: 'cluster.local' },
        { type: 'unknown', code: 5, value: hex('0001 0001 0002') },
      ],
    });
  });

  it('encodes both back to exactly their bytes', () => {
    expect(toHex(encodeOpen(decodeOpen(OPEN_BIRD)))).to.equal(toHex(OPEN_BIRD));
    expect(toHex(encodeOpen(decodeOpen(OPEN_FULL)))).to.equal(toHex(OPEN_FULL));
  });

  it('decodes the RFC 9072 extended optional parameters length', () => {
    expect(decodeOpen(OPEN_EXTENDED_PARAMS)).to.deep.equal({
      type: 'open', version: 4, myAs: 65001, holdTime: 180, bgpId: '10.0.0.2', capabilities: [{ type: 'four-octet-as', asn: 65001 }],
    });
  });

  it('encodes with the RFC 9072 format only when capabilities exceed 255 bytes', () => {
    const caps: Capability[] = Array.from({ length: 60 }, (_, i) => ({ type: 'unknown', code: 200, value: Uint8Array.of(i, i, i) }));
    const bytes = encodeOpen({ myAs: 1, holdTime: 90, bgpId: '1.1.1.1', capabilities: caps });
    // 60 capabilities of 5 bytes: 300 bytes in one parameter with a 2-octet length.
    // Length 255, type 255, extended length 303, then the capabilities parameter with length 300.
    expect(toHex(bytes.subarray(28, 35))).to.equal('ff' + 'ff' + '012f' + '02' + '012c');
    expect(decodeOpen(bytes).capabilities).to.deep.equal(caps);
    expect(toHex(encodeOpen({ myAs: 1, holdTime: 0, bgpId: '1.1.1.1', capabilities: [] }).subarray(16))).to.equal('001d01' + '04 0001 0000 01010101 00'.replace(/ /g, ''));
  });

  it('a 4-octet AS in My AS goes out as AS_TRANS', () => {
    const bytes = encodeOpen({ myAs: 4200000001, holdTime: 90, bgpId: '10.0.0.1', capabilities: [{ type: 'four-octet-as', asn: 4200000001 }] });
    expect(toHex(bytes.subarray(19, 22))).to.equal('04' + '5ba0');
  });

  describe('errors, with the data RFC 4271 §6.2 asks for', () => {
    const withByte = (at: number, v: number) => {
      const b = OPEN_BIRD.slice();
      b[at] = v;
      return b;
    };

    it('unsupported version: 2/1 with our version as 2 bytes', () => {
      expect(summary(errorOf(() => decodeOpen(withByte(19, 3))))).to.deep.equal({ code: 2, subcode: 1, data: '0004', action: 'reset' });
      expect(toHex(errorOf(() => decodeOpen(withByte(19, 5))).data)).to.equal('0004');
    });

    it('hold time 1 or 2: 2/6 Unacceptable Hold Time; 0 and 3 are fine', () => {
      for (const hold of ['0001', '0002']) {
        expect(summary(errorOf(() => decodeOpen(openWith('00', `04 fde9 ${hold} 0a000001`))))).to.deep.equal({ code: 2, subcode: 6, data: '', action: 'reset' });
      }
      expect(decodeOpen(openWith('00', '04 fde9 0000 0a000001')).holdTime).to.equal(0);
      expect(decodeOpen(openWith('00', '04 fde9 0003 0a000001')).holdTime).to.equal(3);
    });

    it('BGP identifier 0.0.0.0: 2/3', () => {
      expect(summary(errorOf(() => decodeOpen(openWith('00', '04 fde9 005a 00000000'))))).to.deep.equal({ code: 2, subcode: 3, data: '', action: 'reset' });
    });

    it('an optional parameter other than capabilities: 2/4', () => {
      expect(errorOf(() => decodeOpen(openWith('04 01 02 0000')))).to.include({ code: 2, subcode: 4 });
    });

    it('malformed optional parameters and capabilities: 2/0 (unspecific)', () => {
      const bad = {
        'parameters length beyond the message': '08 02 02 0200',
        'parameters length short of the message': '02 02 02 0200',
        'a parameter running past the list': '04 02 05 0200',
        'a capability running past its parameter': '04 02 02 0205',
        'multiprotocol of 3 bytes': '07 02 05 01 03 000101',
        '4-octet AS of 2 bytes': '06 02 04 41 02 fde9',
        'graceful restart of 3 bytes': '07 02 05 40 03 007800',
        'graceful restart with half a family': '08 02 06 40 04 0078 0001',
        'ADD-PATH of 3 bytes': '07 02 05 45 03 000101',
        'FQDN whose hostname runs past it': '07 02 05 49 03 05 6e6f',
        'route refresh with a value': '05 02 03 02 01 00',
        'RFC 9072 length that does not match': 'ff ff 0009 02 0002 0200',
      };
      for (const [why, params] of Object.entries(bad)) {
        expect(summary(errorOf(() => decodeOpen(openWith(params)))), why).to.deep.equal({ code: 2, subcode: 0, data: '', action: 'reset' });
      }
    });

    it('an ADD-PATH mode outside 1..3 makes the capability "not received" (RFC 7911 §4), not an error', () => {
      expect(decodeCapability(69, hex('0001 01 04'))).to.deep.equal({ type: 'unknown', code: 69, value: hex('0001 01 04') });
    });
  });
});
