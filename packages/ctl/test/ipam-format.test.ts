// Pure: the number cells of `ctl ipam show` (Go's %.5g and %.f%% as calicoctl prints them).
import { expect } from 'chai';
import { goG5, goPercent, renderUsage } from '@tabby/ctl';

describe('ctl ipam show cells', () => {
  it('%.5g: plain up to five digits, exponent form beyond, rounding half to even', () => {
    expect(goG5(0n)).to.equal('0');
    expect(goG5(64n)).to.equal('64');
    expect(goG5(65536n)).to.equal('65536');
    expect(goG5(100000n)).to.equal('1e+05');
    expect(goG5(16777216n)).to.equal('1.6777e+07');
    expect(goG5(1234450n)).to.equal('1.2344e+06');
    expect(goG5(1234550n)).to.equal('1.2346e+06');
    expect(goG5(9999950n)).to.equal('1e+07');
    expect(goG5(1n << 64n)).to.equal('1.8447e+19');
  });

  it('%.f%%: percentages rounded half to even', () => {
    expect(goPercent(3n, 64n)).to.equal('5');
    expect(goPercent(1n, 64n)).to.equal('2');
    expect(goPercent(1n, 8n)).to.equal('12');
    expect(goPercent(3n, 8n)).to.equal('38');
    expect(goPercent(65531n, 65536n)).to.equal('100');
    expect(goPercent(0n, 64n)).to.equal('0');
  });

  it('blocks that lie in no pool are listed only with --show-blocks, without a pool row', () => {
    const usage = [{ capacity: 64n, inUse: 1, free: 63n, blocks: [{ cidr: '10.9.0.0/26', affinity: null, capacity: 64, inUse: 1, free: 63 }] }];
    expect(renderUsage(usage, false)).to.equal(
      '+----------+------+-----------+------------+----------+\n' +
      '| GROUPING | CIDR | IPS TOTAL | IPS IN USE | IPS FREE |\n' +
      '+----------+------+-----------+------------+----------+\n');
    expect(renderUsage(usage, true)).to.contain('| Block    | 10.9.0.0/26 | 64        | 1 (2%)     | 63 (98%) |\n');
  });
});
