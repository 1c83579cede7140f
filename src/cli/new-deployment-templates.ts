/**
 * The files `flowgate new --deployment` writes instead of the Flow's: one Executor served as a
 * Deployment (`jtype: Deployment`), no Flow to write. The Executor, tsconfig and ignore files are
 * the Flow project's (see `new-templates.ts`).
 */

/** The names the templates use (a part of `ProjectNames` in `new-templates.ts`). */
interface Names {
  project: string;
}

export const deploymentYml = (
  n: Names,
) => `# The Deployment: one Executor (here 2 replicas) behind one Gateway, no Flow to write.
# Serve it: npx flowgate deployment --uses deployment.yml      (or: npm start)
jtype: Deployment
with:
  name: greeter
  uses: Greeter
  py_modules: executor.ts       # relative to this file
  protocol: [grpc, http]
  port: [12345, 12346]
  replicas: 2                   # two processes; the Gateway balances between them
# Kubernetes namespace of the export: ${n.project}
`;

export const deploymentTest = () => `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client, Deployment, Document } from 'flowgate';
import { Greeter } from '../executor.js';

test('deployment.yml is a valid Deployment of the Greeter', async () => {
  const dep = await Deployment.load(fileURLToPath(new URL('../deployment.yml', import.meta.url)));
  assert.equal(dep.toSpec().replicas, 2);
});

test('the Deployment greets every document', async () => {
  // A free port instead of the YAML's, so that the test runs next to a running Deployment.
  await using dep = await new Deployment({ uses: Greeter, protocol: 'grpc', port: 0 }).start();
  const docs = await dep.post('/', [new Document({ text: 'Ada' })], { parameters: { greeting: 'hi' } });
  assert.deepEqual(docs.texts, ['hi, Ada']);
  await using client = new Client({ port: dep.port });
  assert.deepEqual((await client.post('/', [new Document({ text: 'Bob' })])).texts, ['hello, Bob']);
});
`;

export const deploymentScripts = {
  start: 'flowgate deployment --uses deployment.yml',
  test: 'node --import tsx --test test/*.test.ts',
  'export:kubernetes': 'flowgate export kubernetes deployment.yml k8s/',
};

/** The Dockerfile's last line: `docker run` serves the Deployment. */
export const deploymentCmd = 'CMD ["deployment", "--uses", "deployment.yml"]';

export const deploymentReadme = (n: Names) => `# ${n.project}

A flowgate project: an Executor (\`executor.ts\`) served as a Deployment (\`deployment.yml\`: one
Executor, its replicas, one Gateway, no Flow to write), a test, and a Dockerfile.

\`\`\`bash
npm install                 # flowgate (from flowgate-*.tgz, written by \`flowgate new\`), tsx, types
npm test                    # starts the Deployment on a free port and posts a document
npx flowgate deployment --uses deployment.yml   # serves it (npm start): gRPC on 12345, HTTP on 12346
curl -s localhost:12346/post -H 'content-type: application/json' \\
  -d '{"data": [{"text": "Ada"}], "execEndpoint": "/"}'
\`\`\`

From code it is one line: \`await new Deployment({ uses: Greeter, port: 12345 }).start()\`.
When you need several Executors in a row, \`flowgate new --flow\` writes a Flow project.

## Deploy to Kubernetes

\`\`\`bash
docker build -t registry.example.com/${n.project}:0.1.0 .      # FROM the flowgate runtime image
docker push registry.example.com/${n.project}:0.1.0
npx flowgate export kubernetes deployment.yml k8s/ --image registry.example.com/${n.project}:0.1.0
kubectl apply -f k8s/
\`\`\`
`;
