/**
 * A browser calls the Flow over gRPC-Web on the one port: a page served by the test (another
 * origin, so CORS is exercised) encodes a DataRequestProto by hand, posts it to
 * `/jina.JinaRPC/Call` as `application/grpc-web-text` (what generated grpc-web code sends), decodes
 * the frames and the protobuf answer, and shows the documents' texts.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { Flow } from '../src/index.js';
import { FooExecutor } from './fixtures/protocol-executors.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (install the chromium package)`;

interface PageElement {
  textContent: string | null;
  querySelector(selector: string): PageElement | null;
}
declare const document: PageElement;

/** The page: a minimal protobuf encoder/decoder for the few fields it needs, and the framing. */
const PAGE = String.raw`<!doctype html><html><body>
<input id="text" value="from the browser"><button id="send">send</button>
<pre id="status"></pre><ul id="answer"></ul>
<script>
const enc = new TextEncoder(), dec = new TextDecoder();
function varint(n) { const out = []; while (n > 127) { out.push((n & 127) | 128); n >>>= 7; } out.push(n); return out; }
function field(no, bytes) { return [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes]; }
function str(no, s) { return field(no, [...enc.encode(s)]); }
function read(buf) { // fields of one message: [{no, bytes|value}]
  const out = []; let i = 0;
  const v = () => { let r = 0, s = 0, b; do { b = buf[i++]; r += (b & 127) * 2 ** s; s += 7; } while (b & 128); return r; };
  while (i < buf.length) { const key = v(), no = key >>> 3, wt = key & 7;
    if (wt === 2) { const len = v(); out.push({ no, bytes: buf.subarray(i, i + len) }); i += len; }
    else if (wt === 0) out.push({ no, value: v() }); else if (wt === 5) i += 4; else if (wt === 1) i += 8; else throw new Error('wire type ' + wt); }
  return out;
}
function docTexts(docArray) { return read(docArray).filter(f => f.no === 1).map(d => { const t = read(d.bytes).find(f => f.no === 4); return t ? dec.decode(t.bytes) : ''; }); }
document.getElementById('send').onclick = () => call().catch((e) => { document.getElementById('status').textContent = 'error: ' + e; });
async function call() {
  const doc = [...str(1, 'b1'), ...str(4, document.getElementById('text').value)];
  const req = [...field(1, [...str(1, 'browser-1'), ...str(3, '/')]), ...field(4, field(1, field(1, doc)))];
  const framed = new Uint8Array([0, 0, 0, 0, 0, ...req]);
  new DataView(framed.buffer).setUint32(1, req.length);
  const res = await fetch(window.GATEWAY + '/jina.JinaRPC/Call', { method: 'POST',
    headers: { 'content-type': 'application/grpc-web-text', 'x-grpc-web': '1', 'x-user-agent': 'grpc-web-javascript/0.1', accept: 'application/grpc-web-text' },
    body: btoa(String.fromCharCode(...framed)) });
  // each frame is base64 of its own (padded), as grpc-web's decoder expects: decode chunk by chunk
  const raw = (await res.text()).split(/(?<==)(?=[^=])/).map(atob).join('');
  const bin = Uint8Array.from(raw, c => c.charCodeAt(0));
  let i = 0, texts = [], trailer = '';
  while (i < bin.length) { const flag = bin[i], len = new DataView(bin.buffer).getUint32(i + 1), body = bin.subarray(i + 5, i + 5 + len); i += 5 + len;
    if (flag & 0x80) { trailer = dec.decode(body); continue; }
    const data = read(read(body).find(f => f.no === 4).bytes)[0];
    texts.push(...docTexts(data.bytes)); }
  document.getElementById('status').textContent = trailer.split('\r\n')[0];
  document.getElementById('answer').innerHTML = texts.map(t => '<li>' + t + '</li>').join('');
}
</script></body></html>`;

void describe('a browser calls the Flow over gRPC-Web on the one port', { skip }, () => {
  const flow = new Flow()
    .configGateway({ protocol: ['grpc', 'http'], port: 0, cors: true })
    .add({ name: 'foo', uses: FooExecutor });
  let browser: Browser;
  let site: Server;
  let sitePort = 0;

  before(async () => {
    site = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(PAGE.replace('<script>', `<script>window.GATEWAY = 'http://127.0.0.1:${flow.port}';`));
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    sitePort = (site.address() as { port: number }).port;
    [browser] = await Promise.all([
      chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      }),
      flow.start(),
    ]);
  });

  after(async () => {
    await browser?.close();
    await flow.close();
    site?.close();
  });

  void test('the page posts a document and shows the Flow answer', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${sitePort}/`);
    await page.click('#send');
    await page.waitForFunction(
      () => (document.querySelector('#status')?.textContent ?? '') !== '',
      undefined,
      {
        timeout: 15_000,
      },
    );
    const shown = await page.evaluate(() => ({
      status: document.querySelector('#status')?.textContent,
      answer: document.querySelector('#answer')?.textContent,
    }));
    assert.deepEqual(errors, []);
    assert.equal(shown.status, 'grpc-status:0');
    assert.equal(shown.answer, 'from the browserfoo was called');
  });
});
