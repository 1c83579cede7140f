import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Flow } from '../src/index.js';
import { Marker, Shouter } from './fixtures/http-executors.js';

/** Parsed JSON, loosely typed so that assertions can reach into it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** A GraphQL request with plain fetch. */
async function gql(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  accept = 'application/json',
): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify(variables ? { query, variables } : { query }),
  });
  return { status: res.status, body: await res.json() };
}

void describe('the GraphQL Gateway and the HTTP Gateway with exposeGraphqlEndpoint', () => {
  const flow = new Flow()
    .configGateway({ protocol: ['graphql', 'http'], exposeGraphqlEndpoint: true })
    .add({ name: 'shouter', uses: Shouter })
    .add({ name: 'marker', uses: Marker });
  let graphqlUrl = '';
  let httpBase = '';

  before(async () => {
    await flow.start();
    graphqlUrl = `http://127.0.0.1:${flow.ports[0]}/graphql`;
    httpBase = `http://127.0.0.1:${flow.ports[1]}`;
  });

  after(async () => {
    await flow.close();
  });

  void test('a mutation sends documents through the Flow and returns texts and tags', async () => {
    const res = await gql(
      graphqlUrl,
      `mutation Shout($docs: [StrawberryDocumentInput!]) {
        docs(data: $docs, execEndpoint: "/upper") { id text mimeType tags }
      }`,
      { docs: [{ id: 'a', text: 'hello', tags: { lang: 'en' } }, { text: 'world' }] },
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const docs = res.body.data.docs;
    assert.equal(docs.length, 2);
    assert.equal(docs[0].id, 'a');
    assert.deepEqual(
      docs.map((d: Json) => d.text as unknown),
      ['HELLO', 'WORLD'],
    );
    assert.equal(docs[0].mimeType, 'text/plain');
    assert.deepEqual(docs[0].tags, { lang: 'en', by: 'shouter', marked: 'marker' });
    assert.deepEqual(docs[1].tags, { by: 'shouter', marked: 'marker' });
  });

  void test('a query uses execEndpoint "/search" by default and returns matches with scores', async () => {
    const res = await gql(
      graphqlUrl,
      `{ docs(data: [{id: "q", text: "query"}]) {
          id matches { id text scores { name score { value opName } } }
        } }`,
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    assert.deepEqual(res.body.data.docs, [
      {
        id: 'q',
        matches: [
          {
            id: 'q-m',
            text: 'match of query',
            scores: [{ name: 'cosine', score: { value: 0.5, opName: null } }],
          },
        ],
      },
    ]);
  });

  void test('every document field goes through: blob, tensor, embedding, chunks, scores, parameters', async () => {
    const res = await gql(
      graphqlUrl,
      `mutation ($docs: [StrawberryDocumentInput!], $p: JSONScalar) {
        docs(data: $docs, execEndpoint: "/index", parameters: $p) {
          id blob tensor embedding granularity weight uri modality location tags
          chunks { id text parentId }
          evaluations { name score { value opName description refId } }
        }
      }`,
      {
        docs: [
          {
            id: 'b',
            blob: 'aGVsbG8=',
            embedding: [0.5, 1.5],
            weight: 2,
            uri: 'file://x',
            modality: 'image',
            location: [1, 2],
            granularity: 1,
            chunks: [{ id: 'c', text: 'chunk', parentId: 'b' }],
            evaluations: [
              { name: 'acc', score: { value: 0.25, opName: 'op', description: 'd', refId: 'r' } },
            ],
          },
          {
            id: 't',
            tensor: [
              [1, 2],
              [3, 4],
            ],
          },
        ],
        p: { op: 'via-graphql' },
      },
    );
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const [b, t] = res.body.data.docs;
    assert.equal(b.blob, 'aGVsbG8=');
    assert.deepEqual(b.embedding, [0.5, 1.5]);
    assert.equal(b.weight, 2);
    assert.equal(b.uri, 'file://x');
    assert.equal(b.modality, 'image');
    assert.deepEqual(b.location, [1, 2]);
    assert.equal(b.granularity, 1);
    assert.deepEqual(b.tags, { op: 'via-graphql' }, 'parameters reached the Executor');
    assert.deepEqual(b.chunks, [{ id: 'c', text: 'chunk', parentId: 'b' }]);
    assert.deepEqual(b.evaluations, [
      { name: 'acc', score: { value: 0.25, opName: 'op', description: 'd', refId: 'r' } },
    ]);
    assert.deepEqual(t.tensor, [
      [1, 2],
      [3, 4],
    ]);
    assert.equal(t.blob, null);

    // parameters may also be given as JSON text, as the original's JSONScalar reads them
    const asText = await gql(
      graphqlUrl,
      'mutation { docs(data: [{text: "x"}], execEndpoint: "/index", parameters: "{\\"op\\": \\"text\\"}") { tags } }',
    );
    assert.deepEqual(asText.body.data.docs[0].tags, { op: 'text' });
  });

  void test('an Executor error becomes a GraphQL error naming the Executor; bad queries are 400', async () => {
    const res = await gql(graphqlUrl, 'mutation { docs(data: [{text: "x"}], execEndpoint: "/fail") { id } }');
    assert.equal(res.status, 200);
    assert.equal(res.body.data, null);
    assert.equal(res.body.errors.length, 1);
    const err = res.body.errors[0];
    assert.match(err.message, /shouter/);
    assert.match(err.message, /RangeError/);
    assert.deepEqual(err.path, ['docs']);
    assert.equal(err.extensions.code, 'EXECUTOR_ERROR');
    assert.equal(err.extensions.executor, 'shouter');

    // application/json answers 200 even for invalid queries; the newer media type answers 400
    const invalid = await gql(
      graphqlUrl,
      '{ docs { nope } }',
      undefined,
      'application/graphql-response+json',
    );
    assert.equal(invalid.status, 400);
    assert.match(invalid.body.errors[0].message, /nope/);

    const badInput = await gql(graphqlUrl, '{ docs(data: [{embedding: "x"}]) { id } }');
    assert.equal(badInput.body.data, null);
    assert.match(badInput.body.errors[0].message, /embedding/);

    // the Gateway still serves
    const ok = await gql(graphqlUrl, '{ docs(data: [{text: "y"}], execEndpoint: "/upper") { text } }');
    assert.deepEqual(ok.body.data.docs, [{ text: 'Y' }]);
  });

  void test('GET: a query in ?query=, a GraphiQL page for browsers, and the info routes', async () => {
    const q = encodeURIComponent('{ docs(data: [{text: "g"}], execEndpoint: "/upper") { text } }');
    const viaGet = await fetch(`${graphqlUrl}?query=${q}`, { headers: { accept: 'application/json' } });
    assert.equal(viaGet.status, 200);
    assert.deepEqual(((await viaGet.json()) as Json).data.docs, [{ text: 'G' }]);

    const page = await fetch(graphqlUrl, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.match(html, /GraphiQL/);
    assert.match(html, /CDN/);

    const base = graphqlUrl.replace(/\/graphql$/, '');
    assert.deepEqual(await (await fetch(`${base}/`)).json(), {});
    assert.deepEqual(await (await fetch(`${base}/dry_run`)).json(), {
      code: 0,
      description: '',
      exception: null,
    });
  });

  void test('the HTTP Gateway serves the same /graphql next to its REST routes', async () => {
    const res = await gql(
      `${httpBase}/graphql`,
      'mutation { docs(data: [{text: "rest"}], execEndpoint: "/upper") { text tags } }',
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data.docs, [{ text: 'REST', tags: { by: 'shouter', marked: 'marker' } }]);
    const spec = (await (await fetch(`${httpBase}/openapi.json`)).json()) as Json;
    assert.ok(spec.paths['/graphql'].post, 'the OpenAPI spec lists /graphql');
    const post = await fetch(`${httpBase}/post`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: [{ text: 'x' }], execEndpoint: '/upper' }),
    });
    assert.equal(post.status, 200);
  });
});
