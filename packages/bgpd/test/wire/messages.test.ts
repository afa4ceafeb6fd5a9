import { expect } from 'chai';
import {
  KEEPALIVE, WireError, decodeMessage, decodeNotification, decodeRouteRefresh, encodeKeepalive, encodeMessage, encodeNotification,
  encodeRouteRefresh, notificationName, shutdownData, stronger, type BgpMessage, type DecodedMessage,
} from '@tabby/bgpd';
import { MARKER, errorOf, hex, message, summary, toHex } from './hex.js';
import { ALL_VECTORS, KEEPALIVE_BYTES, NOTIFICATION_SHUTDOWN, ROUTE_REFRESH_BORR } from './vectors.js';

const ctx = { fourOctetAs: true };

/** The message value of a decoded frame (an UPDATE's message, without its problems). */
const valueOf = (d: DecodedMessage): BgpMessage => (d.type === 'update' ? d.message : d);

describe('wire: KEEPALIVE, NOTIFICATION, ROUTE-REFRESH', () => {
  it('KEEPALIVE is the bare header, decoded to one shared frozen value', () => {
    expect(toHex(encodeKeepalive())).to.equal(toHex(KEEPALIVE_BYTES));
    expect(decodeMessage(KEEPALIVE_BYTES, ctx)).to.equal(KEEPALIVE);
    expect(Object.isFrozen(KEEPALIVE)).to.equal(true);
  });

  it('NOTIFICATION: code, subcode, data; RFC 8203 shutdown text decoded', () => {
    expect(decodeNotification(NOTIFICATION_SHUTDOWN)).to.deep.equal({
      type: 'notification', code: 6, subcode: 2, data: hex('0b 6d61696e74656e616e6365'), shutdownText: 'maintenance',
    });
    expect(toHex(encodeNotification(6, 2, shutdownData('maintenance')))).to.equal(toHex(NOTIFICATION_SHUTDOWN));
    expect(toHex(encodeNotification(4, 0))).to.equal(`${MARKER}0015` + '03' + '0400');
  });

  it('a malformed shutdown communication is ignored, not an error (RFC 8203 §4)', () => {
    const cases = {
      'length past the data': message(3, '06 04 09 6869'),
      'invalid UTF-8': message(3, '06 02 02 c328'),
      'empty': message(3, '06 02 00'),
    };
    for (const [why, bytes] of Object.entries(cases)) {
      const n = decodeNotification(bytes);
      expect(n.shutdownText, why).to.equal(undefined);
      expect(n.code).to.equal(6);
    }
    // Only Cease / Administrative Shutdown and Reset carry one.
    expect(decodeNotification(message(3, '06 03 02 6869')).shutdownText).to.equal(undefined);
    expect(decodeNotification(message(3, '06 04 02 6869')).shutdownText).to.equal('hi');
  });

  it('shutdown text is cut at 255 bytes without splitting a character', () => {
    const d = shutdownData('é'.repeat(200)); // 400 bytes of UTF-8
    expect(d[0]).to.equal(254);
    expect(new TextDecoder('utf-8', { fatal: true }).decode(d.subarray(1))).to.equal('é'.repeat(127));
  });

  it('ROUTE-REFRESH with the RFC 7313 subtypes', () => {
    expect(decodeRouteRefresh(ROUTE_REFRESH_BORR)).to.deep.equal({ type: 'route-refresh', afi: 2, safi: 1, subtype: 1 });
    expect(toHex(encodeRouteRefresh(2, 1, 1))).to.equal(toHex(ROUTE_REFRESH_BORR));
    expect(toHex(encodeRouteRefresh(1, 1))).to.equal(`${MARKER}0017` + '05' + '0001' + '00' + '01');
    expect(decodeRouteRefresh(encodeRouteRefresh(1, 1, 2)).subtype).to.equal(2);
  });

  it('ROUTE-REFRESH of the wrong length: 7/1 with the whole message as data (RFC 7313 §5)', () => {
    const long = message(5, '0001 00 01 00');
    expect(summary(errorOf(() => decodeRouteRefresh(long)))).to.deep.equal({ code: 7, subcode: 1, data: toHex(long), action: 'reset' });
  });

  it('names for logs', () => {
    expect(notificationName(6, 2)).to.equal('Cease: Administrative Shutdown');
    expect(notificationName(3, 3)).to.equal('UPDATE Message Error: Missing Well-known Attribute');
    expect(notificationName(1, 3)).to.equal('Message Header Error: Bad Message Type');
    expect(notificationName(3, 99)).to.equal('UPDATE Message Error (subcode 99)');
    expect(notificationName(42, 0)).to.equal('code 42');
  });

  it('stronger() keeps the most severe RFC 7606 action, the first of equals', () => {
    const discard = new WireError(3, 1, undefined, '', 'attribute-discard');
    const withdraw = new WireError(3, 1, undefined, '', 'treat-as-withdraw');
    const withdraw2 = new WireError(3, 3, undefined, '', 'treat-as-withdraw');
    const disable = new WireError(3, 1, undefined, '', 'afisafi-disable');
    const reset = new WireError(3, 1, undefined, '', 'reset');
    expect(stronger(withdraw, reset)).to.equal(reset);
    expect(stronger(withdraw, discard)).to.equal(withdraw);
    expect(stronger(withdraw, withdraw2)).to.equal(withdraw);
    expect(stronger(disable, withdraw)).to.equal(disable);
    expect(stronger(undefined, discard)).to.equal(discard);
    expect(stronger(reset, undefined)).to.equal(reset);
  });
});

describe('wire: every message kind through decodeMessage / encodeMessage', () => {
  for (const [name, bytes] of Object.entries(ALL_VECTORS)) {
    it(`${name} decodes and encodes back to the same bytes`, () => {
      const addPath = name === 'UPDATE_ADD_PATH' ? { 1: true } : undefined;
      const fourOctetAs = name !== 'UPDATE_AS4';
      const c = { fourOctetAs, ...(addPath ? { addPath } : {}) };
      const d = decodeMessage(bytes, c);
      expect(d.type).to.equal(['open', 'update', 'notification', 'keepalive', 'route-refresh'][bytes[18]! - 1]);
      if (d.type === 'update') expect(d.attributeErrors).to.deep.equal([]);
      const m = valueOf(d);
      if (name === 'UPDATE_AS4') {
        // Merged into 4-octet values, then split again for the 2-octet peer.
        expect(m.type === 'update' && m.attributes.asPath).to.deep.equal([{ type: 2, asns: [65001, 4200000001, 65003] }]);
      }
      // The RFC 9072 format is only used when needed; a short OPEN goes out in the classic one.
      if (name !== 'OPEN_EXTENDED_PARAMS') expect(toHex(encodeMessage(m, c))).to.equal(toHex(bytes));
      expect(valueOf(decodeMessage(encodeMessage(m, c), c))).to.deep.equal(m);
    });
  }

  it('a frame of an unknown type (not from the framer) is 1/3 too', () => {
    expect(summary(errorOf(() => decodeMessage(hex(`${MARKER} 0013 09`), ctx)))).to.deep.equal({ code: 1, subcode: 3, data: '09', action: 'reset' });
  });
});
