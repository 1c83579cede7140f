import type { FastifyInstance } from 'fastify';
// Brings in @fastify/swagger's schema fields (summary, tags, hide) for route options.
import type {} from '@fastify/swagger';
import type { FlowStats } from '../../gateway/flow-stats.js';

/** Options of {@link registerFlowPage}. */
export interface FlowPageOptions {
  stats: FlowStats;
  /** The Flow's picture (`renderFlowchart`); without it the page shows the table only. */
  svg?: string;
  /** The page's heading. */
  title?: string;
}

/** Only the Gateway itself: inline script and style, `fetch` to the same origin, nothing else. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:";

/**
 * `GET /flow`: one self-contained page (no external assets) with the Flow's graph and, for each
 * Executor, its replicas' health, requests/s, p50 and p99 latency and errors of the Gateway's calls
 * to it, refreshed every second from `GET /flow/stats` (the {@link FlowStats} snapshot as JSON).
 * Routes someone registered first (`exposeEndpoints`) are kept.
 *
 * @example
 * ```ts
 * registerFlowPage(app, { stats, svg: renderFlowchart(flow.toSpec()) });
 * ```
 */
export function registerFlowPage(app: FastifyInstance, options: FlowPageOptions): void {
  if (app.hasRoute({ method: 'GET', url: '/flow' }) || app.hasRoute({ method: 'GET', url: '/flow/stats' })) {
    app.log.warn('the app already serves GET /flow: not serving the live page of the Flow there');
    return;
  }
  const html = flowPageHtml(options.title ?? 'flowgate', options.svg);
  app.get(
    '/flow',
    {
      schema: { summary: 'A live page of the Flow: graph, health, requests/s, latency', tags: ['Debug'] },
    },
    async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('cache-control', 'no-store')
        .send(html),
  );
  app.get(
    '/flow/stats',
    { schema: { summary: 'Health, requests/s and latency of each Executor', tags: ['Debug'] } },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return options.stats.snapshot();
    },
  );
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The SVG as markup when it is one picture without script (it comes from the Flow's
 * `renderFlowchart`, whose text is escaped); else nothing.
 */
function safeSvg(svg: string | undefined): string | undefined {
  if (!svg || !/^\s*<svg[\s>]/.test(svg)) return undefined;
  if (/<script|<foreignObject|<iframe|\son\w+\s*=|javascript:/i.test(svg)) return undefined;
  return svg.replace(/^\s*<\?xml[^>]*>/, '');
}

/** The page: the picture, a table, and a script that polls `/flow/stats` every second. */
export function flowPageHtml(title: string, svg: string | undefined): string {
  const picture =
    safeSvg(svg) ??
    '<p class="none">No picture of the graph (this Gateway was started without one): see the table.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Flow</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #202124; background: #fafafa; }
  header { display: flex; align-items: baseline; gap: 16px; }
  h1 { font-size: 20px; margin: 0 0 12px; }
  #updated { color: #5f6368; font-size: 13px; }
  #updated.error { color: #d93025; }
  #graph { background: #fff; border: 1px solid #dadce0; border-radius: 8px; padding: 8px; overflow: auto; }
  #graph svg { max-width: 100%; height: auto; display: block; }
  #graph text.live { font-size: 11px; fill: #3c4043; }
  .none { color: #5f6368; }
  table { border-collapse: collapse; margin-top: 16px; background: #fff; min-width: 60%; }
  th, td { border: 1px solid #dadce0; padding: 6px 10px; text-align: right; font-size: 13px; }
  th { background: #f1f3f4; }
  td.name, th.name, td.state, th.state { text-align: left; }
  td.state::before { content: '\\25cf  '; }
  tr.serving td.state { color: #188038; }
  tr.degraded td.state { color: #e37400; }
  tr.down td.state { color: #d93025; }
  tr.idle td.state { color: #80868b; }
  td.errors.some { color: #d93025; font-weight: bold; }
</style>
</head>
<body>
<header><h1>${escapeHtml(title)}</h1><span id="updated">connecting...</span></header>
<section id="graph">
${picture}
</section>
<table id="executors">
<thead><tr><th class="name">Executor</th><th>replicas</th><th class="state">health</th><th>req/s</th><th>p50</th><th>p99</th><th>requests</th><th>errors</th></tr></thead>
<tbody></tbody>
</table>
<script>
${PAGE_SCRIPT}
</script>
</body>
</html>
`;
}

/** The page's script: plain ES2020, text only through `textContent` (names are never parsed as HTML). */
const PAGE_SCRIPT = String.raw`(() => {
  'use strict';
  const SVG = 'http://www.w3.org/2000/svg';
  const COLORS = {
    serving: ['#e6f4ea', '#188038'],
    degraded: ['#fef7e0', '#e37400'],
    down: ['#fce8e6', '#d93025'],
    idle: ['#f1f3f4', '#80868b'],
  };
  const statsUrl = location.pathname.replace(/\/+$/, '') + '/stats';
  const updated = document.getElementById('updated');
  const tbody = document.querySelector('#executors tbody');
  const boxes = new Map();
  for (const g of document.querySelectorAll('#graph g.node')) {
    const name = g.getAttribute('data-name');
    if (name && !g.classList.contains('gateway')) boxes.set(name, g);
  }
  const rows = new Map();
  const COLUMNS = ['name', 'replicas', 'state', 'rate', 'p50', 'p99', 'requests', 'errors'];

  const num = (n) => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : String(Math.round(n)));
  const ms = (n) => (n === null || n === undefined ? '-' : num(n) + ' ms');

  function row(name) {
    let tr = rows.get(name);
    if (tr) return tr;
    tr = document.createElement('tr');
    tr.dataset.name = name;
    for (const c of COLUMNS) {
      const td = document.createElement('td');
      td.className = c;
      tr.appendChild(td);
    }
    tr.firstChild.textContent = name;
    tbody.appendChild(tr);
    rows.set(name, tr);
    return tr;
  }

  function liveText(g) {
    let t = g.querySelector('text.live');
    if (t) return t;
    const r = g.querySelector('rect');
    t = document.createElementNS(SVG, 'text');
    t.setAttribute('class', 'live');
    t.setAttribute('text-anchor', 'middle');
    t.setAttribute('x', String(Number(r.getAttribute('x')) + Number(r.getAttribute('width')) / 2));
    t.setAttribute('y', String(Number(r.getAttribute('y')) + Number(r.getAttribute('height')) + 13));
    g.appendChild(t);
    return t;
  }

  function update(snapshot) {
    for (const e of snapshot.executors) {
      const replicas = e.replicas.serving + '/' + e.replicas.total;
      const tr = row(e.name);
      tr.className = e.state;
      const cell = (c) => tr.querySelector('td.' + c);
      cell('replicas').textContent = replicas;
      cell('state').textContent = e.state;
      cell('rate').textContent = num(e.rate);
      cell('p50').textContent = ms(e.p50Ms);
      cell('p99').textContent = ms(e.p99Ms);
      cell('requests').textContent = String(e.requests);
      cell('errors').textContent = String(e.errors);
      cell('errors').classList.toggle('some', e.errors > 0);
      const g = boxes.get(e.name);
      if (!g) continue;
      g.setAttribute('data-state', e.state);
      const rect = g.querySelector('rect');
      const [fill, stroke] = COLORS[e.state] || COLORS.idle;
      rect.setAttribute('fill', fill);
      rect.setAttribute('stroke', stroke);
      const parts = [replicas, num(e.rate) + ' req/s', 'p99 ' + ms(e.p99Ms)];
      if (e.errors > 0) parts.push(e.errors + ' err');
      liveText(g).textContent = parts.join(' \u00b7 ');
    }
  }

  async function poll() {
    try {
      const res = await fetch(statsUrl, { cache: 'no-store', credentials: 'same-origin' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      update(await res.json());
      updated.textContent = 'updated ' + new Date().toLocaleTimeString();
      updated.classList.remove('error');
    } catch (err) {
      updated.textContent = 'cannot reach the Gateway (' + err.message + '); retrying';
      updated.classList.add('error');
    } finally {
      setTimeout(poll, 1000);
    }
  }
  void poll();
})();`;
