/** Layers only import downward; nothing imports cli/; no cycles. See STYLE.md. */
const layers = [
  'core',
  'proto',
  'document',
  'executor',
  'transport',
  'runtime',
  'gateway',
  'client',
  'config',
  'orchestrate',
  'cli',
];
const forbidden = [
  // Document and DocumentArray refer to each other by nature (chunks, matches): the one allowed cycle.
  {
    name: 'no-circular',
    severity: 'error',
    from: { pathNot: '^src/document/document(-array)?\\.ts$' },
    to: { circular: true },
  },
  {
    name: 'nothing-imports-cli',
    severity: 'error',
    from: { pathNot: '^src/cli/' },
    to: { path: '^src/cli/' },
  },
];
layers.forEach((layer, i) => {
  const higher = layers.slice(i + 1).filter((l) => l !== 'cli');
  if (higher.length === 0) return;
  forbidden.push({
    name: `${layer}-imports-only-downward`,
    severity: 'error',
    from: { path: `^src/${layer}/` },
    to: { path: `^src/(${higher.join('|')})/` },
  });
});
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^src/proto/gen/|\\.test\\.ts$)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
