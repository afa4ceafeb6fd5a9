import { expect } from 'chai';
import { CONFD } from '@tabby/confd';

describe('confd package', () => {
  it('loads', () => {
    expect(CONFD).to.equal('confd');
  });
});
