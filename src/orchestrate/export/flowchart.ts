import type { ExecutorSpec, FlowSpec } from '../../config/schemas.js';
import { GATEWAY_NODE } from '../../gateway/topology.js';
import { checkGraph, flowNodes } from './graph.js';

/** Options of {@link renderFlowchart}. */
export interface FlowchartOptions {
  /** Top to bottom instead of left to right. */
  vertical?: boolean;
}

interface Box {
  id: string;
  lines: string[];
  kind: 'gateway' | 'executor' | 'sharded' | 'external' | 'merge';
  dashed: boolean;
  layer: number;
  w: number;
  h: number;
  x: number;
  y: number;
}

interface Edge {
  from: string;
  to: string;
  label: string | undefined;
  dashed: boolean;
}

const RESPONSE = ':response';
const FONT = 12;
const CHAR_W = 7.2;
const LINE_H = 16;
const PAD = 12;
const LAYER_GAP = 90;
const NODE_GAP = 28;
const MARGIN = 24;

const STYLE: Record<Box['kind'], { fill: string; stroke: string }> = {
  gateway: { fill: '#e8f0fe', stroke: '#1a73e8' },
  executor: { fill: '#ffffff', stroke: '#37474f' },
  sharded: { fill: '#fef7e0', stroke: '#b06000' },
  external: { fill: '#f1f3f4', stroke: '#5f6368' },
  merge: { fill: '#f3e8fd', stroke: '#8430ce' },
};

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function short(s: string, max = 36): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}\u2026`;
}

/** The second and third lines of an Executor's box: what it runs, and how many of it. */
function describe(e: ExecutorSpec): { kind: Box['kind']; lines: string[] } {
  if (e.external) {
    const hosts = [e.host ?? '127.0.0.1'].flat().join(', ');
    const port = e.port === undefined ? '' : `:${[e.port].flat().join(',')}`;
    return { kind: 'external', lines: [short(`external ${hosts}${port}`)] };
  }
  if (e.uses === undefined) return { kind: 'merge', lines: ['merged by the Gateway'] };
  const uses = e.uses.startsWith('docker://') ? e.uses : (e.uses.split(/[\\/]/).pop() ?? e.uses);
  const shards = e.shards ?? 1;
  const replicas = e.replicas ?? 1;
  const count = [shards > 1 ? `${shards} shards` : '', replicas > 1 ? `x${replicas}` : '']
    .filter(Boolean)
    .join(' ');
  const extra = [count, e.floating ? 'floating' : ''].filter(Boolean).join(', ');
  return {
    kind: shards > 1 ? 'sharded' : 'executor',
    lines: [short(uses), ...(extra ? [extra] : [])],
  };
}

function size(lines: string[]): { w: number; h: number } {
  const w = Math.max(110, ...lines.map((l, i) => l.length * (i === 0 ? CHAR_W + 0.8 : CHAR_W))) + 2 * PAD;
  return { w: Math.round(w), h: lines.length * LINE_H + PAD + 4 };
}

/** Places the boxes: layers along the main axis, ordered by their upstream boxes across it. */
function layout(boxes: Box[], edges: Edge[], vertical: boolean): { width: number; height: number } {
  const layers: Box[][] = [];
  for (const b of boxes) (layers[b.layer] ??= []).push(b);
  const pos = new Map<string, number>();
  for (const layer of layers) {
    const key = (b: Box) => {
      const ups = edges.filter((e) => e.to === b.id).map((e) => pos.get(e.from) ?? 0);
      return ups.length === 0 ? 0 : ups.reduce((a, c) => a + c, 0) / ups.length;
    };
    layer.sort((a, b) => key(a) - key(b)); // Array.prototype.sort is stable
    layer.forEach((b, i) => pos.set(b.id, i));
  }
  // main = the axis layers follow (x left to right, or y top down); cross = the other one
  const mainSize = (b: Box) => (vertical ? b.h : b.w);
  const crossSize = (b: Box) => (vertical ? b.w : b.h);
  const crossExtent = (l: Box[]) => l.reduce((a, b) => a + crossSize(b), 0) + NODE_GAP * (l.length - 1);
  const maxCross = Math.max(...layers.map(crossExtent));
  // left to right, a `when` label sits between two layers: make room for the widest one
  const gapAfter = (layer: Box[]) => {
    if (vertical) return LAYER_GAP;
    const ids = new Set(layer.map((b) => b.id));
    const labels = edges.filter((e) => ids.has(e.from) && e.label).map((e) => e.label!.length);
    return Math.max(LAYER_GAP, ...labels.map((n) => n * (CHAR_W - 0.6) + 30));
  };
  let main = MARGIN;
  for (const layer of layers) {
    const thick = Math.max(...layer.map(mainSize));
    let cross = MARGIN + (maxCross - crossExtent(layer)) / 2;
    for (const b of layer) {
      const m = main + (thick - mainSize(b)) / 2;
      [b.x, b.y] = vertical ? [cross, m] : [m, cross];
      cross += crossSize(b) + NODE_GAP;
    }
    main += thick + gapAfter(layer);
  }
  const mainTotal = main - gapAfter(layers[layers.length - 1]!) + MARGIN;
  const crossTotal = maxCross + 2 * MARGIN;
  return vertical ? { width: crossTotal, height: mainTotal } : { width: mainTotal, height: crossTotal };
}

function renderEdge(e: Edge, byId: Map<string, Box>, vertical: boolean): string {
  const a = byId.get(e.from)!;
  const b = byId.get(e.to)!;
  const [x0, y0, x3, y3] = vertical
    ? [a.x + a.w / 2, a.y + a.h, b.x + b.w / 2, b.y]
    : [a.x + a.w, a.y + a.h / 2, b.x, b.y + b.h / 2];
  const [x1, y1, x2, y2] = vertical
    ? [x0, (y0 + y3) / 2, x3, (y0 + y3) / 2]
    : [(x0 + x3) / 2, y0, (x0 + x3) / 2, y3];
  const r = (n: number) => Math.round(n * 10) / 10;
  const d = `M${r(x0)},${r(y0)} C${r(x1)},${r(y1)} ${r(x2)},${r(y2)} ${r(x3)},${r(y3)}`;
  const dash = e.dashed ? ' stroke-dasharray="6 4"' : '';
  let out = `  <path class="edge" data-from="${esc(e.from)}" data-to="${esc(e.to)}" d="${d}" fill="none" stroke="#5f6368" stroke-width="1.4"${dash} marker-end="url(#arrow)"/>\n`;
  if (e.label) {
    const mx = (x0 + 3 * x1 + 3 * x2 + x3) / 8;
    const my = (y0 + 3 * y1 + 3 * y2 + y3) / 8;
    out += `  <text class="edge-label" x="${r(mx)}" y="${r(my - 4)}" text-anchor="middle" font-size="${FONT - 1}" fill="#8430ce" stroke="#ffffff" stroke-width="3" paint-order="stroke">${esc(e.label)}</text>\n`;
  }
  return out;
}

function renderBox(b: Box): string {
  const s = STYLE[b.kind];
  const dash = b.dashed ? ' stroke-dasharray="6 4"' : '';
  const cx = b.x + b.w / 2;
  const text = b.lines
    .map((l, i) => {
      const weight = i === 0 ? ' font-weight="bold"' : ' fill="#3c4043"';
      const y = b.y + PAD / 2 + 2 + LINE_H * (i + 1) - 4;
      return `    <text x="${cx}" y="${y}" text-anchor="middle"${weight}>${esc(l)}</text>`;
    })
    .join('\n');
  return (
    `  <g class="node ${b.kind}" data-name="${esc(b.id === RESPONSE ? GATEWAY_NODE : b.id)}">\n` +
    `    <rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="8" fill="${s.fill}" stroke="${s.stroke}" stroke-width="1.5"${dash}/>\n` +
    `${text}\n  </g>\n`
  );
}

/**
 * A picture of the Flow's graph as SVG text: the Gateway on the left (the client's requests), each
 * Executor in the layer after its deepest upstream, and the Gateway again on the right (the
 * response). Boxes show what each Executor runs, `x3` for replicas and `2 shards`; floating
 * Executors (and what only they feed) are dashed; `when` conditions label the edges they filter.
 *
 * @example
 * ```ts
 * await writeFile('flow.svg', renderFlowchart(await loadFlowSpec('flow.yml')));
 * ```
 */
export function renderFlowchart(spec: FlowSpec, options: FlowchartOptions = {}): string {
  const vertical = options.vertical ?? false;
  const topology = checkGraph(spec);
  const nodes = flowNodes(spec);
  const depth = new Map<string, number>([[GATEWAY_NODE, 0]]);
  for (const n of topology.nodes) depth.set(n.name, 1 + Math.max(...n.needs.map((x) => depth.get(x) ?? 0)));
  const protocols = [spec.gateway.protocol ?? 'grpc'].flat();
  const ports = spec.gateway.port === undefined ? [] : [spec.gateway.port].flat();
  const gwLine = protocols.map((p, i) => (ports[i] ? `${p}:${ports[i]}` : p)).join(', ');
  const mk = (id: string, lines: string[], kind: Box['kind'], layer: number, dashed = false): Box => ({
    id,
    lines,
    kind,
    layer,
    dashed,
    ...size(lines),
    x: 0,
    y: 0,
  });
  const last = Math.max(0, ...depth.values()) + 1;
  const boxes: Box[] = [mk(GATEWAY_NODE, ['gateway', gwLine], 'gateway', 0)];
  nodes.forEach((n, i) => {
    const d = describe(spec.executors[i]!);
    boxes.push(mk(n.name, [n.name, ...d.lines], d.kind, depth.get(n.name)!, topology.background.has(n.name)));
  });
  boxes.push(mk(RESPONSE, ['gateway', 'response'], 'gateway', last));
  const edges: Edge[] = nodes.flatMap((n) =>
    n.needs.map((from) => ({
      from,
      to: n.name,
      label: n.when ? short(`when ${JSON.stringify(n.when)}`, 44) : undefined,
      dashed: topology.background.has(n.name),
    })),
  );
  edges.push({ from: topology.output ?? GATEWAY_NODE, to: RESPONSE, label: undefined, dashed: false });
  const { width, height } = layout(boxes, edges, vertical);
  const byId = new Map(boxes.map((b) => [b.id, b]));
  const title = spec.with.name ? `Flow ${spec.with.name}` : 'Flow';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" font-family="Helvetica, Arial, sans-serif" font-size="${FONT}">\n` +
    `  <title>${esc(title)}</title>\n` +
    `  <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#5f6368"/></marker></defs>\n` +
    `  <rect width="100%" height="100%" fill="#ffffff"/>\n` +
    edges.map((e) => renderEdge(e, byId, vertical)).join('') +
    boxes.map(renderBox).join('') +
    `</svg>\n`
  );
}
