import { describeOrSkip } from './fixtures/skip.js';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { Flow } from '../src/index.js';
import { Greeter } from './fixtures/http-executors.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (install the chromium package)`;

describeOrSkip('Swagger UI of the HTTP Gateway in a real browser', skip, () => {
  const flow = new Flow().configGateway({ protocol: 'http' }).add({ name: 'greeter', uses: Greeter });
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

  void test('"Try it out" on POST /post shows the Executor\'s answer', async () => {
    const page = await browser.newPage();
    const offline: string[] = [];
    // Everything the page loads must come from the Gateway itself (no CDN).
    page.on('request', (r) => {
      if (!r.url().startsWith(`http://127.0.0.1:${flow.port}/`)) offline.push(r.url());
    });
    await page.goto(`http://127.0.0.1:${flow.port}/docs`);
    const op = page.locator('.opblock-post', { has: page.locator('[data-path="/post"]') });
    await op.locator('.opblock-summary').first().click();
    await op.getByRole('button', { name: 'Try it out' }).click();
    const body = op.locator('textarea.body-param__text');
    // The example is filled in and works as it is...
    assert.match(await body.inputValue(), /hello, world/);
    await body.fill(JSON.stringify({ data: [{ text: 'Ada' }], execEndpoint: '/hello' }));
    await op.getByRole('button', { name: 'Execute' }).click();
    const live = op.locator('.live-responses-table tbody');
    const responseBody = live.locator('.highlight-code').first();
    await responseBody.getByText('greetings from greeter to Ada').first().waitFor({ timeout: 15_000 });
    assert.match((await responseBody.textContent()) ?? '', /"exec_endpoint": "\/hello"/);
    assert.match((await live.locator('.response-col_status').first().textContent()) ?? '', /200/);
    assert.deepEqual(offline, [], 'the page loaded assets from outside the Gateway');
    await page.close();
  });
});
