import { describeOrSkip } from './fixtures/skip.js';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { Client, Document, Flow } from '../src/index.js';
import { Trail } from './fixtures/chain-executors.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (install the chromium package)`;
const EXECUTORS = ['first', 'second', 'third'];

/** The part of the page's DOM the test reads in the browser (this project compiles without the DOM lib). */
interface PageElement {
  className: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
}
declare const document: PageElement;

describeOrSkip('the live /flow page of the HTTP Gateway in a real browser', skip, () => {
  const flow = new Flow()
    .configGateway({ protocol: 'http' })
    .add({ name: 'first', uses: Trail, replicas: 2 })
    .add({ name: 'second', uses: Trail })
    .add({ name: 'third', uses: Trail });
  let browser: Browser;

  before(async () => {
    [browser] = await Promise.all([
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] }),
      flow.start(),
    ]);
  });

  after(async () => {
    await browser?.close();
    await flow.close();
  });

  void test('shows the graph, each Executor healthy and its requests/s while requests flow', async () => {
    const base = `http://127.0.0.1:${flow.port}`;
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    const offline: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(`${base}/`)) offline.push(r.url());
    });
    await page.goto(`${base}/flow`);
    // Load: a few small requests at a time until the page shows what the test waits for.
    const client = new Client({ protocol: 'http', port: flow.port });
    let sending = true;
    let sent = 0;
    const load = (async () => {
      while (sending) {
        await client.post('/chain', [new Document({ text: `d${sent}` }), new Document({ text: 'x' })], {
          requestSize: 1,
        });
        sent += 2;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await page.waitForFunction(
        (names) =>
          names.every((name) => {
            const row = document.querySelector(`#executors tr[data-name="${name}"]`);
            const rate = Number(row?.querySelector('td.rate')?.textContent ?? '0');
            const text = document.querySelector(`#graph g.node[data-name="${name}"] text.live`)?.textContent;
            return rate > 0 && row?.className === 'serving' && !!text?.includes('req/s');
          }) && document.querySelector('#executors tr[data-name="first"] td.replicas')?.textContent === '2/2',
        EXECUTORS,
        { timeout: 30_000, polling: 200 },
      );
    } finally {
      sending = false;
      await load;
    }
    assert.ok(sent > 0);

    const shot = await page.screenshot({ fullPage: true });
    assert.deepEqual([...shot.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    assert.ok(shot.length > 10_000, `a screenshot of ${shot.length} bytes is too small to show the page`);
    const path = join(tmpdir(), `flowgate-flow-page-${process.pid}.png`);
    await writeFile(path, shot);
    console.log(`screenshot of /flow: ${path} (${shot.length} bytes)`);

    const seen = await page.evaluate((names) => {
      const svgNodes = [...document.querySelectorAll('#graph svg g.node')].map((g) =>
        g.getAttribute('data-name'),
      );
      return {
        svgNodes,
        boxes: names.map((name) => {
          const g = document.querySelector(`#graph g.node[data-name="${name}"]`);
          const row = document.querySelector(`#executors tr[data-name="${name}"]`);
          // (no named function here: tsx would wrap it in a helper the page does not have)
          const cells: Record<string, string> = {};
          for (const td of row?.querySelectorAll('td') ?? [])
            cells[td.className.split(' ')[0]!] = td.textContent ?? '';
          return {
            name,
            state: g?.getAttribute('data-state'),
            stroke: g?.querySelector('rect')?.getAttribute('stroke'),
            live: g?.querySelector('text.live')?.textContent ?? '',
            replicas: cells.replicas ?? '',
            rate: Number(cells.rate),
            p50: cells.p50 ?? '',
            p99: cells.p99 ?? '',
            requests: Number(cells.requests),
            errors: cells.errors ?? '',
          };
        }),
      };
    }, EXECUTORS);
    for (const name of EXECUTORS)
      assert.equal(seen.svgNodes.filter((n) => n === name).length, 1, `one box for ${name}`);
    for (const b of seen.boxes) {
      assert.equal(b.state, 'serving', JSON.stringify(b));
      assert.equal(b.stroke, '#188038', 'a healthy Executor is drawn green');
      assert.equal(b.replicas, b.name === 'first' ? '2/2' : '1/1');
      assert.match(b.live, new RegExp(`^${b.replicas} · [\\d.]+ req/s · p99 [\\d.]+ ms$`));
      assert.ok(b.rate > 0 && b.requests > 0, JSON.stringify(b));
      assert.match(b.p50, /^[\d.]+ ms$/);
      assert.match(b.p99, /^[\d.]+ ms$/);
      assert.equal(b.errors, '0');
    }
    assert.deepEqual(offline, [], 'the page loaded something from outside the Gateway');
    await page.close();
  });
});
