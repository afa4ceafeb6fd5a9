import { expect } from 'chai';
import { renderColumns, renderBordered } from '@tabby/ctl';

describe('ctl output tables', () => {
  it('pads every column to max(5, widest + 3), including the last (tabwriter with trailing tabs)', () => {
    const out = renderColumns(['NAME', 'CIDR'], [['p', '10.0.0.0/8'], ['pool-two', '10.1.0.0/16']]);
    expect(out).to.equal(
      'NAME       CIDR          \n' +
      'p          10.0.0.0/8    \n' +
      'pool-two   10.1.0.0/16   \n');
  });

  it('uses the minimum width 5 for narrow columns', () => {
    expect(renderColumns(['A'], [['b']])).to.equal('A    \nb    \n');
  });

  it('renders an empty list as the heading line only', () => {
    expect(renderColumns(['NAME', 'CIDR', 'SELECTOR'], [])).to.equal('NAME   CIDR   SELECTOR   \n');
  });

  it('draws the bordered node-status table with centred headers', () => {
    const out = renderBordered(['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'],
      [['172.17.8.102', 'node-to-node mesh', 'up', '23:30:04', 'Established']]);
    expect(out).to.equal(
      '+--------------+-------------------+-------+----------+-------------+\n' +
      '| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO     |\n' +
      '+--------------+-------------------+-------+----------+-------------+\n' +
      '| 172.17.8.102 | node-to-node mesh | up    | 23:30:04 | Established |\n' +
      '+--------------+-------------------+-------+----------+-------------+\n');
  });
});

import { mergePatch, jsonPatch, parseDocuments } from '@tabby/ctl';

describe('ctl patches', () => {
  it('merge patch sets, replaces and deletes (null) fields', () => {
    const doc = { spec: { a: 1, b: { c: 2, d: 3 }, list: [1, 2] } };
    expect(mergePatch(doc, { spec: { a: 5, b: { d: null }, list: [9] } })).to.deep.equal({ spec: { a: 5, b: { c: 2 }, list: [9] } });
    expect(doc.spec.b.d).to.equal(3); // input untouched
  });

  it('json patch applies add/replace/remove/test in order', () => {
    const doc = { spec: { items: ['a', 'b'], x: 1 } };
    const out = jsonPatch(doc, [
      { op: 'add', path: '/spec/items/-', value: 'c' },
      { op: 'replace', path: '/spec/x', value: 2 },
      { op: 'remove', path: '/spec/items/0' },
      { op: 'test', path: '/spec/x', value: 2 },
    ]);
    expect(out).to.deep.equal({ spec: { items: ['b', 'c'], x: 2 } });
  });

  it('json patch rejects a path that does not exist and a failing test', () => {
    expect(() => jsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 1 }])).to.throw(/path "\/b" does not exist/);
    expect(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).to.throw(/test failed/);
  });
});

describe('ctl input parsing', () => {
  it('numbers documents from 1, skips empty ones and expands List kinds', () => {
    const docs = parseDocuments('f.yaml', [
      '---',
      'kind: IPPool',
      '---',
      '',
      '---',
      'kind: IPPoolList',
      'items:',
      '- kind: IPPool',
      '- kind: IPPool',
    ].join('\n'));
    // A leading "---" opens the first document; the empty third one is skipped.
    expect(docs.map((d) => [d.index, d.item])).to.deep.equal([[1, undefined], [3, 1], [3, 2]]);
  });

  it('reports YAML syntax errors with file, document and line', () => {
    expect(() => parseDocuments('bad.yaml', 'kind: A\n---\nkind: [x\n')).to.throw(/bad\.yaml: document 2: YAML syntax error at line \d+/);
  });
});
