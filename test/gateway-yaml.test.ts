/**
 * Custom Gateways from YAML: a Gateway YAML file given to configGateway and to a Flow YAML, a Flow
 * YAML naming the class and module, `flowgate gateway` serving standalone in front of an Executor
 * process, and `docker://` Gateways when no container engine is installed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { loadGatewayYaml } from '../src/config/gateway-yaml.js';
import { freePort } from '../src/serve/gateway-runtime.js';
import { Flow } from '../src/index.js';

const DIR = 'examples/custom-gateway/my-gateway';
const EXECUTOR = `${DIR}/executor.ts:Reverse`;
const cli = ['--import', 'tsx', 'src/cli/main.ts'];
let tmp: string;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flowgate-gwyaml-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function endpoint(port: number, text: string): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}/endpoint?text=${text}`);
  assert.equal(res.status, 200);
  return res.json();
}

void test("configGateway({ uses: 'config.yml' }): class, module, with and protocol come from the file", async () => {
  const flow = new Flow().configGateway({ uses: `${DIR}/config.yml` }).add({ uses: EXECUTOR });
  await flow.start();
  try {
    assert.deepEqual(flow.protocols, ['http']);
    assert.deepEqual(await endpoint(flow.port, 'abc'), { texts: ['cba'], args: ['hello', 'world'] });
  } finally {
    await flow.close();
  }
});

void test('options given to configGateway override the Gateway YAML (usesWith key by key)', async () => {
  const port = await freePort();
  const flow = new Flow()
    .configGateway({ uses: `${DIR}/config.yml`, usesWith: { arg2: 'there' }, port })
    .add({ uses: EXECUTOR });
  await flow.start();
  try {
    assert.equal(flow.port, port);
    assert.deepEqual(await endpoint(port, 'xy'), { texts: ['yx'], args: ['hello', 'there'] });
  } finally {
    await flow.close();
  }
});

void test('Flow YAML: gateway { uses: MyGateway, modules, with } and gateway { uses: config.yml }', async () => {
  for (const [file, args] of [
    ['flow.yml', ['from', 'flow-yaml']],
    ['flow-config.yml', ['hello', 'world']],
  ] as const) {
    const flow = await Flow.load(`${DIR}/${file}`);
    await flow.start();
    try {
      assert.deepEqual(await endpoint(flow.port, 'ab'), { texts: ['ba'], args }, file);
    } finally {
      await flow.close();
    }
  }
});

void test('a Gateway YAML with the !MyGateway tag; bad files get file:line errors', async () => {
  const module = resolve(DIR, 'my_gateway.ts');
  const tagged = join(tmp, 'tagged.yml');
  await writeFile(tagged, `!MyGateway\npy_modules: ${module}\nwith:\n  arg1: a\nport: 12345\n`);
  assert.deepEqual(loadGatewayYaml(tagged), {
    uses: `${module}:MyGateway`,
    usesWith: { arg1: 'a' },
    port: 12345,
  });
  const badKey = join(tmp, 'bad-key.yml');
  await writeFile(badKey, `jtype: MyGateway\nmodules: ${module}\nprotocl: http\n`);
  assert.throws(
    () => loadGatewayYaml(badKey),
    /bad-key\.yml:3:1: unknown key 'protocl'.*did you mean 'protocol'/,
  );
  const noModule = join(tmp, 'no-module.yml');
  await writeFile(noModule, 'jtype: MyGateway\n');
  assert.throws(() => loadGatewayYaml(noModule), /name the module that defines MyGateway with modules:/);
  const noClass = join(tmp, 'no-class.yml');
  await writeFile(noClass, 'port: 1\n');
  assert.throws(() => loadGatewayYaml(noClass), /names its class with jtype: MyGateway/);
  assert.throws(
    () => new Flow().configGateway({ uses: join(tmp, 'missing.yml') }),
    /no such Gateway YAML file/,
  );
});

/** Starts a CLI process and waits for a line on stderr matching `ready`. */
async function startCli(args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let seen = '';
  for await (const line of createInterface({ input: child.stderr })) {
    seen += `${line}\n`;
    if (ready.test(line)) return child;
  }
  throw new Error(`flowgate ${args[0]} exited before it was ready:\n${seen}`);
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

void test('flowgate gateway standalone: a Gateway YAML or a built-in one, in front of an Executor process', async () => {
  const execPort = await freePort();
  const executor = await startCli(
    ['executor', '--uses', EXECUTOR, '--name', 'reverse', '--host', '127.0.0.1', '--port', String(execPort)],
    /serving gRPC/,
  );
  const graph = [
    '--graph-description',
    JSON.stringify({ 'start-gateway': ['reverse'], reverse: ['end-gateway'] }),
    '--deployments-addresses',
    JSON.stringify({ reverse: [`grpc://127.0.0.1:${execPort}`] }),
  ];
  try {
    const custom = await freePort();
    const gw = await startCli(
      ['gateway', '--uses', `${DIR}/config.yml`, '--host', '127.0.0.1', '--port', String(custom), ...graph],
      /Gateway serving/,
    );
    try {
      assert.deepEqual(await endpoint(custom, 'flow'), { texts: ['wolf'], args: ['hello', 'world'] });
    } finally {
      assert.equal(await stop(gw), 0);
    }
    const builtin = await freePort();
    const http = await startCli(
      ['gateway', '--protocol', 'http', '--host', '127.0.0.1', '--port', String(builtin), ...graph],
      /Gateway serving http:\/\/127\.0\.0\.1/,
    );
    try {
      const res = await fetch(`http://127.0.0.1:${builtin}/post`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: [{ text: 'abc' }], execEndpoint: '/' }),
      });
      const body = (await res.json()) as { data: { text: string }[] };
      assert.equal(body.data[0]!.text, 'cba');
    } finally {
      assert.equal(await stop(http), 0);
    }
  } finally {
    await stop(executor);
  }
});

void test("uses: 'docker://image' without Docker or podman fails start() saying so, leaving nothing running", async () => {
  const saved = process.env.FLOWGATE_CONTAINER_ENGINE;
  process.env.FLOWGATE_CONTAINER_ENGINE = 'flowgate-no-such-engine';
  try {
    const flow = new Flow()
      .configGateway({ uses: 'docker://my-gateway:latest', protocol: 'http' })
      .add({ uses: EXECUTOR });
    await assert.rejects(flow.start(), /needs Docker or podman, and neither is installed/);
    assert.deepEqual(flow.pids, []);
  } finally {
    if (saved === undefined) delete process.env.FLOWGATE_CONTAINER_ENGINE;
    else process.env.FLOWGATE_CONTAINER_ENGINE = saved;
  }
});
