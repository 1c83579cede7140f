import assert from 'node:assert/strict';
import { test } from 'node:test';
import { graphDescriptionOf, graphFromFlags } from './graph-description.js';
import { buildTopology } from './topology.js';

void test('a diamond with a Gateway-side join round-trips through the graph description', () => {
  const graph = {
    'start-gateway': ['a'],
    a: ['b', 'c'],
    b: ['j'],
    c: ['j'],
    j: ['end-gateway'],
  };
  const g = graphFromFlags({
    graphDescription: graph,
    graphConditions: { b: { tags__x: { $gt: 1 } } },
    deploymentsAddresses: { a: ['grpc://h1:8080'], b: ['h2:8080', 'h3:8080'], c: ['h4:8080'] },
    deploymentsNoReduce: ['j'],
  });
  assert.equal(g.output, 'j');
  assert.deepEqual(g.addresses, { a: ['h1:8080'], b: ['h2:8080', 'h3:8080'], c: ['h4:8080'] });
  const byName = Object.fromEntries(g.nodes.map((n) => [n.name, n]));
  assert.deepEqual(byName.a!.needs, ['gateway']);
  assert.deepEqual(byName.j!.needs, ['b', 'c']);
  assert.equal(byName.j!.passThrough, true);
  assert.equal(byName.j!.noReduce, true);
  assert.deepEqual(byName.b!.when, { tags__x: { $gt: 1 } });
  assert.equal(buildTopology(g.nodes, g.output).output, 'j');
  assert.deepEqual(graphDescriptionOf(g.nodes, g.output), graph);
});

void test('a node that does not reach end-gateway is in the background; unknown names are errors', () => {
  const g = graphFromFlags({
    graphDescription: { 'start-gateway': ['a', 'log'], a: ['end-gateway'], log: [] },
    deploymentsAddresses: { a: ['h:1'], log: ['h:2'] },
  });
  assert.equal(g.output, 'a');
  assert.deepEqual([...buildTopology(g.nodes, g.output).background], ['log']);
  assert.throws(
    () =>
      graphFromFlags({ graphDescription: { 'start-gateway': ['a'] }, deploymentsAddresses: { b: ['h:1'] } }),
    /'b', which is not in the graph description/,
  );
  assert.throws(
    () => graphFromFlags({ graphDescription: { a: 'b' as unknown as string[] } }),
    /must map to a list/,
  );
});
