/**
 * The files `flowgate new` writes, as functions of the project's names. Kept as TypeScript strings
 * so that they ship inside `dist/` with nothing else to copy.
 */

import {
  deploymentCmd,
  deploymentReadme,
  deploymentScripts,
  deploymentTest,
  deploymentYml,
} from './new-deployment-templates.js';

/** What a new project serves: a Flow (`flow.yml`) or a Deployment (`deployment.yml`). */
export type ProjectKind = 'flow' | 'deployment';

/** What the templates are filled with. */
export interface ProjectNames {
  /** The npm package name (and image name). */
  project: string;
  /** The flowgate version the project depends on. */
  version: string;
  /** How package.json names flowgate: `file:flowgate-0.1.0.tgz` (default `^version`). */
  flowgateSpec?: string;
  /** Version ranges of tsx, @types/node, typescript (what the project runs and checks itself with). */
  tools?: Record<string, string>;
}

const executorTs = () => `import { Executor, requests, type HandlerArgs } from 'flowgate';

/**
 * An Executor: each method decorated with @requests serves endpoints. This one greets every
 * document it gets; \`@requests()\` without \`on\` serves every endpoint no other method binds.
 */
export class Greeter extends Executor {
  @requests()
  greet({ docs, parameters }: HandlerArgs) {
    const greeting = typeof parameters.greeting === 'string' ? parameters.greeting : 'hello';
    for (const d of docs) d.text = \`\${greeting}, \${d.text ?? 'world'}\`;
  }

  @requests({ on: '/count' })
  count({ docs }: HandlerArgs) {
    return { n: docs.length }; // lands in parameters.__results__.greeter
  }
}
`;

const flowYml = (n: ProjectNames) => `# The Flow: a Gateway and the Executors it routes requests through.
# Run it: npx flowgate flow --uses flow.yml      (or: npm start)
jtype: Flow
with:
  name: ${n.project}            # also the Kubernetes namespace of the export
gateway:
  protocol: [grpc, http]
  port: [12345, 12346]
executors:
  - name: greeter
    uses: executor.ts:Greeter   # relative to this file
    replicas: 2                 # two processes; the Gateway balances between them
`;

const flowTest = () => `import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client, Document, Flow } from 'flowgate';

let flow: Flow;
let client: Client;

before(async () => {
  flow = await Flow.load(fileURLToPath(new URL('../flow.yml', import.meta.url)));
  // Free ports instead of the YAML's, so that the test runs next to a running Flow.
  flow.configGateway({ protocol: 'grpc', port: 0 });
  await flow.start();
  client = new Client({ port: flow.port });
});

after(async () => {
  await client?.close();
  await flow?.close();
});

test('the Flow greets every document', async () => {
  const docs = await client.post('/', [new Document({ text: 'Ada' })], { parameters: { greeting: 'hi' } });
  assert.deepEqual(docs.texts, ['hi, Ada']);
});
`;

const flowScripts = {
  start: 'flowgate flow --uses flow.yml',
  test: 'node --import tsx --test test/*.test.ts',
  'export:kubernetes': 'flowgate export kubernetes flow.yml k8s/',
};

const packageJson = (n: ProjectNames, scripts: Record<string, string>) =>
  `${JSON.stringify(
    {
      name: n.project,
      version: '0.1.0',
      private: true,
      type: 'module',
      scripts,
      devDependencies: { flowgate: n.flowgateSpec ?? `^${n.version}`, ...n.tools },
    },
    null,
    2,
  )}\n`;

const tsconfigJson = () =>
  `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        verbatimModuleSyntax: true,
        skipLibCheck: true,
        noEmit: true,
      },
      include: ['*.ts', 'test'],
    },
    null,
    2,
  )}\n`;

const dockerfile = (
  n: ProjectNames,
  cmd = 'CMD ["flow", "--uses", "flow.yml"]',
) => `# The image of this Flow's Executors: flowgate's runtime image plus this folder at /app.
#   docker build -t ${n.project}:0.1.0 .
# The runtime image (flowgate:${n.version}) is built from flowgate's own Dockerfile; pass another
# one with --build-arg FLOWGATE_IMAGE=registry.example.com/flowgate:${n.version}.
ARG FLOWGATE_IMAGE=flowgate:${n.version}
FROM \${FLOWGATE_IMAGE}
# flowgate itself comes with the runtime image: install only your own dependencies, if any.
COPY --chown=node:node package.json package-lock.json* flowgate-*.tgz /app/
RUN if [ -f package-lock.json ]; then npm ci --omit=dev --no-audit --no-fund; fi
COPY --chown=node:node . /app
# \`docker run\` serves it all; \`flowgate export\` runs each part with its own command.
${cmd}
`;

const dockerignore = () => `node_modules
k8s
docker-compose.yml
.git
`;

const gitignore = () => `node_modules
k8s
`;

const readme = (n: ProjectNames) => `# ${n.project}

A flowgate project: an Executor (\`executor.ts\`), a Flow (\`flow.yml\`), a test, and a Dockerfile.

\`\`\`bash
npm install                 # flowgate (from flowgate-*.tgz, written by \`flowgate new\`), tsx, types
npm test                    # starts the Flow on free ports and posts a document
npm start                   # serves the Flow: gRPC on 12345, HTTP on 12346
curl -s localhost:12346/post -H 'content-type: application/json' \\
  -d '{"data": [{"text": "Ada"}], "execEndpoint": "/"}'
\`\`\`

## Deploy to Kubernetes

\`\`\`bash
docker build -t registry.example.com/${n.project}:0.1.0 .      # FROM the flowgate runtime image
docker push registry.example.com/${n.project}:0.1.0
npx flowgate export kubernetes flow.yml k8s/ --image registry.example.com/${n.project}:0.1.0
kubectl apply -f k8s/
kubectl -n ${n.project} port-forward svc/gateway 12345:12345
\`\`\`

Each Executor gets a Deployment behind a headless Service; the Gateway resolves it to every ready
pod and balances over them, and pods drain their requests on SIGTERM. See flowgate's
\`docs/deploy.md\`.
`;

/** Every file of a new project: path (relative to the project folder) -> content. */
export function projectFiles(n: ProjectNames, kind: ProjectKind = 'flow'): Record<string, string> {
  if (kind === 'deployment')
    return {
      'package.json': packageJson(n, deploymentScripts),
      'tsconfig.json': tsconfigJson(),
      'executor.ts': executorTs(),
      'deployment.yml': deploymentYml(n),
      'test/deployment.test.ts': deploymentTest(),
      Dockerfile: dockerfile(n, deploymentCmd),
      '.dockerignore': dockerignore(),
      '.gitignore': gitignore(),
      'README.md': deploymentReadme(n),
    };
  return {
    'package.json': packageJson(n, flowScripts),
    'tsconfig.json': tsconfigJson(),
    'executor.ts': executorTs(),
    'flow.yml': flowYml(n),
    'test/flow.test.ts': flowTest(),
    Dockerfile: dockerfile(n),
    '.dockerignore': dockerignore(),
    '.gitignore': gitignore(),
    'README.md': readme(n),
  };
}
