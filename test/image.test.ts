/**
 * Builds the runtime image from the repository's Dockerfile with podman, then a user's Executor
 * image FROM it (ENTRYPOINT ["flowgate", "executor", "--uses", "config.yml"]), runs it, checks it
 * with the probe command (`flowgate ping executor` inside the container), sends it a request and
 * stops it (SIGTERM, exit 0).
 *
 * Slow (an `npm ci` inside the build) and needs podman and runc, so it runs only when
 * FLOWGATE_IMAGE_TEST=1 (`npm run test:image`). Nothing can be pulled here: the base image
 * (`NODE_IMAGE` in the Dockerfile) is made from this machine's node binary, npm, a few coreutils and
 * the libraries they link, and imported with `podman import`.
 */
import { describeOrSkip } from './fixtures/skip.js';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { Client, Document, DocumentArray, Flow } from '../src/index.js';
import { freePort } from '../src/serve/gateway-runtime.js';

const run = promisify(execFile);
const BASE = 'localhost/flowgate-test-node:20';
const RUNTIME = 'localhost/flowgate:test';
const USER_IMAGE = 'localhost/flowgate-hello:test';
const GATEWAY_IMAGE = 'localhost/flowgate-my-gateway:test';
/** What lets runc start containers in this sandbox (no rlimit may be raised; host networking). */
const PODMAN = [
  '--runtime',
  'runc',
  '--network',
  'host',
  '--ulimit',
  'nofile=20000:20000',
  '--ulimit',
  'nproc=4096:4096',
];

function which(bin: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const skip =
  process.env.FLOWGATE_IMAGE_TEST !== '1'
    ? 'set FLOWGATE_IMAGE_TEST=1 (npm run test:image) to build the image'
    : !which('podman') || !which('runc')
      ? 'needs podman and runc (apt-get install -y podman runc)'
      : false;

async function podman(args: string[], timeoutMs = 600_000): Promise<string> {
  const { stdout } = await run('podman', args, { timeout: timeoutMs, maxBuffer: 64 << 20 });
  return stdout.trim();
}

/** A root filesystem with this machine's node, npm, sh and coreutils, as a local base image. */
async function importBaseImage(dir: string): Promise<void> {
  const root = join(dir, 'rootfs');
  const bins = [
    'node',
    'dash',
    'env',
    'mkdir',
    'ln',
    'chmod',
    'chown',
    'rm',
    'sleep',
    'cat',
    'ls',
    'cp',
    'mv',
  ];
  for (const d of ['usr/bin', 'usr/local/bin', 'usr/lib', 'etc/ssl/certs', 'tmp', 'root', 'home/node'])
    await mkdir(join(root, d), { recursive: true });
  await symlink('usr/bin', join(root, 'bin'));
  await symlink('usr/lib', join(root, 'lib'));
  const libs = new Set<string>();
  for (const b of bins) {
    const path = which(b)!;
    await cp(path, join(root, 'usr/bin', b), { dereference: true });
    const ldd = execFileSync('ldd', [path], { encoding: 'utf8' });
    for (const m of ldd.matchAll(/(\/\S+\.so[.\d]*)/g)) libs.add(m[1]!);
  }
  for (const lib of libs) {
    await mkdir(dirname(join(root, lib)), { recursive: true });
    await cp(lib, join(root, lib), { dereference: true });
  }
  await symlink('dash', join(root, 'usr/bin/sh'));
  const npmDir = resolve(
    dirname(execFileSync('sh', ['-c', 'readlink -f "$(command -v npm)"']).toString().trim()),
    '..',
  );
  await cp(npmDir, join(root, 'usr/lib/node_modules/npm'), { recursive: true });
  await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/bin/npm'));
  await cp('/etc/ssl/certs/ca-certificates.crt', join(root, 'etc/ssl/certs/ca-certificates.crt'));
  await writeFile(
    join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n',
  );
  await writeFile(join(root, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
  execFileSync('chmod', ['1777', join(root, 'tmp')]);
  execFileSync('chown', ['1000:1000', join(root, 'home/node')]);
  execFileSync('tar', ['-C', root, '-cf', join(dir, 'rootfs.tar'), '.']);
  await podman([
    'import',
    '--change',
    'ENV PATH=/usr/local/bin:/usr/bin',
    // the CA bundle this machine trusts, for `npm ci` in the build
    '--change',
    'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
    '--change',
    'CMD ["node"]',
    join(dir, 'rootfs.tar'),
    BASE,
  ]);
}

describeOrSkip('the runtime image', skip, () => {
  let dir: string;
  let container: string | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowgate-image-'));
  });
  after(async () => {
    if (container) await podman(['rm', '-f', container]).catch(() => undefined);
    await podman(['rmi', '-f', USER_IMAGE, GATEWAY_IMAGE]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  void test('builds from the Dockerfile and runs flowgate', { timeout: 900_000 }, async () => {
    await importBaseImage(dir);
    await podman(['build', ...PODMAN, '--build-arg', `NODE_IMAGE=${BASE}`, '-t', RUNTIME, '.'], 900_000);
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    assert.equal(await podman(['run', '--rm', ...PODMAN, RUNTIME, '--version']), pkg.version);
  });

  void test(
    "a user's Executor image FROM it serves and answers flowgate ping executor",
    { timeout: 300_000 },
    async () => {
      const app = join(dir, 'hello');
      await mkdir(app);
      await writeFile(join(app, 'package.json'), '{ "name": "hello", "private": true, "type": "module" }\n');
      await writeFile(join(app, 'config.yml'), 'jtype: Hello\nmodules: [hello.ts]\n');
      await writeFile(
        join(app, 'hello.ts'),
        [
          "import { Executor, requests, type HandlerArgs } from 'flowgate';",
          'export class Hello extends Executor {',
          '  @requests()',
          '  hello({ docs }: HandlerArgs) {',
          '    for (const d of docs) d.text = `hello ${d.text}`;',
          '  }',
          '}',
          '',
        ].join('\n'),
      );
      await writeFile(
        join(app, 'Containerfile'),
        `FROM ${RUNTIME}\nCOPY --chown=node:node . /app\nENTRYPOINT ["flowgate", "executor", "--uses", "config.yml"]\n`,
      );
      await podman(['build', ...PODMAN, '-t', USER_IMAGE, app]);
      const port = await freePort();
      container = await podman([
        'run',
        '-d',
        ...PODMAN,
        USER_IMAGE,
        '--name',
        'hello',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
      ]);
      // the Kubernetes probe, as the kubelet runs it: inside the container
      await podman([
        'exec',
        container,
        'flowgate',
        'ping',
        'executor',
        `127.0.0.1:${port}`,
        '--attempts',
        '60',
      ]);
      const client = new Client({ port });
      const docs = await client.post('/', new DocumentArray([new Document({ text: 'k8s' })]));
      assert.equal(docs[0]!.text, 'hello k8s');
      await client.close();
      await podman(['stop', '-t', '20', container]);
      assert.equal(await podman(['inspect', container, '--format', '{{.State.ExitCode}}']), '0');
    },
  );

  void test(
    "configGateway({ uses: 'docker://image' }) runs a custom Gateway image FROM it in front of the Flow",
    { timeout: 300_000 },
    async () => {
      const app = join(dir, 'my-gateway');
      await mkdir(app);
      await writeFile(
        join(app, 'package.json'),
        '{ "name": "my-gateway", "private": true, "type": "module" }\n',
      );
      await writeFile(join(app, 'config.yml'), '!MyGateway\nmodules: my_gateway.ts\nwith:\n  greeting: hi\n');
      await writeFile(
        join(app, 'my_gateway.ts'),
        [
          "import { createServer, type Server } from 'node:http';",
          "import { DocumentArray, Gateway, type GatewayOptions } from 'flowgate';",
          'export class MyGateway extends Gateway {',
          '  private server: Server | undefined;',
          '  private readonly greeting: string;',
          "  constructor({ greeting = '', ...o }: GatewayOptions & { greeting?: string }) {",
          '    super(o);',
          '    this.greeting = greeting;',
          '  }',
          '  override async setupServer() {',
          '    this.server = createServer((req, res) => {',
          "      if (req.url === '/') return res.end('{}');",
          '      void (async () => {',
          '        const texts: string[] = [];',
          "        for await (const docs of this.streamer.streamDocs({ docs: new DocumentArray([{ text: 'abc' }]) }))",
          '          texts.push(...docs.texts);',
          '        res.end(JSON.stringify({ texts, greeting: this.greeting }));',
          '      })();',
          '    });',
          '  }',
          '  override async runServer() {',
          '    const s = this.server!;',
          '    await new Promise<void>((r) => s.listen(this.port, this.host, r));',
          "    await new Promise<void>((r) => s.once('close', r));",
          '  }',
          '  override async shutdown() {',
          '    this.server?.close();',
          '  }',
          '}',
          '',
        ].join('\n'),
      );
      await writeFile(
        join(app, 'Containerfile'),
        `FROM ${RUNTIME}\nCOPY --chown=node:node . /app\nENTRYPOINT ["flowgate", "gateway", "--uses", "config.yml"]\n`,
      );
      await podman(['build', ...PODMAN, '-t', GATEWAY_IMAGE, app]);
      process.env.FLOWGATE_CONTAINER_ENGINE = 'podman';
      process.env.FLOWGATE_CONTAINER_ARGS = PODMAN.filter((a) => a !== '--network' && a !== 'host').join(' ');
      const flow = new Flow({ timeoutReady: 120_000 })
        .configGateway({ uses: `docker://${GATEWAY_IMAGE}`, protocol: 'http' })
        .add({ uses: 'examples/custom-gateway/my-gateway/executor.ts:Reverse' });
      await flow.start();
      try {
        const res = await fetch(`http://127.0.0.1:${flow.port}/run`);
        assert.deepEqual(await res.json(), { texts: ['cba'], greeting: 'hi' });
      } finally {
        await flow.close();
      }
    },
  );
});
